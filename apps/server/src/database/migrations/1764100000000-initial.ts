import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Foundation: server-wide settings (CA metadata, CRL number, …) as key/value rows.
 * Feature tables come with their own migrations.
 */
export class Initial1764100000000 implements MigrationInterface {
  name = 'Initial1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE irp_setting (
      key text PRIMARY KEY CHECK (key ~ '^[a-z0-9._-]{1,128}$'),
      value jsonb NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE irp_setting`);
  }
}
