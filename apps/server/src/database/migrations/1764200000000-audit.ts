import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The append-only audit log (spec §13). A statement-level trigger refuses UPDATE,
 * DELETE and TRUNCATE for every role, the table owner included, so it holds on the
 * embedded database (one role) as on PostgreSQL.
 */
export class Audit1764200000000 implements MigrationInterface {
  name = 'Audit1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE irp_audit_log (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      at timestamptz NOT NULL DEFAULT clock_timestamp(),
      actor_kind text NOT NULL CHECK (actor_kind IN ('user', 'operator')),
      actor_id text NOT NULL,
      auth_method text,
      source_address text,
      action text NOT NULL,
      target text,
      result_code integer NOT NULL CHECK (result_code BETWEEN 1000 AND 2999),
      txn text,
      details jsonb
    )`);
    await q.query(`CREATE INDEX irp_audit_log_at_idx ON irp_audit_log (at)`);
    await q.query(`CREATE INDEX irp_audit_log_target_idx ON irp_audit_log (target, id)`);
    await q.query(`CREATE FUNCTION irp_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'irp_audit_log is append-only: % refused', TG_OP USING ERRCODE = '42501';
      END
    $$`);
    // statement level: fires even when no row matches, and for TRUNCATE
    await q.query(`CREATE TRIGGER irp_audit_log_append_only
      BEFORE UPDATE OR DELETE OR TRUNCATE ON irp_audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION irp_audit_log_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE irp_audit_log`);
    await q.query(`DROP FUNCTION irp_audit_log_append_only()`);
  }
}
