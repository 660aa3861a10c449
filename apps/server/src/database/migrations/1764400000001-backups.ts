import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * PKCS#12 key backups (spec §10): the files exactly as uploaded (never decrypted),
 * at most 64 KiB each, owned by one user.
 */
export class Backups1764400000001 implements MigrationInterface {
  name = 'Backups1764400000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE irp_pkcs12 (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_key uuid NOT NULL REFERENCES irp_user (id) ON DELETE CASCADE,
      name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 128),
      data bytea NOT NULL CHECK (octet_length(data) BETWEEN 1 AND 65536),
      size integer NOT NULL CHECK (size = octet_length(data)),
      sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
      created_at timestamptz NOT NULL
    )`);
    await q.query(`CREATE INDEX irp_pkcs12_user_idx ON irp_pkcs12 (user_key, created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE irp_pkcs12`);
  }
}
