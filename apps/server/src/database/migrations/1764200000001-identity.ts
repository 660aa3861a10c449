import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The identity directory (spec §7.1), enrollment codes (§7.2), and the login
 * throttling state of §6.3 (per user id lockout, per source address rate limits),
 * kept in the database so that it holds across instances and restarts.
 */
export class Identity1764200000001 implements MigrationInterface {
  name = 'Identity1764200000001';

  async up(q: QueryRunner): Promise<void> {
    // user_id: stored lower-case (the CHECK enforces it); COLLATE "C" sorts it in byte
    // order for listUsers (spec §7.2). Emails are unique case-insensitively.
    await q.query(`CREATE TABLE irp_user (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id text COLLATE "C" NOT NULL CHECK (user_id ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
      display_name text,
      email text CHECK (char_length(email) <= 254),
      given_name text,
      surname text,
      organization text,
      title text,
      phone text,
      attributes jsonb NOT NULL DEFAULT '[]'::jsonb,
      status text NOT NULL CHECK (status IN ('active', 'disabled', 'pending')),
      upa_enabled boolean NOT NULL DEFAULT true,
      password_hash text,
      password_changed_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE UNIQUE INDEX irp_user_user_id_key ON irp_user (user_id)`);
    await q.query(`CREATE UNIQUE INDEX irp_user_email_key ON irp_user (lower(email))`);

    // only the SHA-256 of a code is stored; codes carry 160 random bits
    await q.query(`CREATE TABLE irp_enrollment_code (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_key uuid NOT NULL REFERENCES irp_user (id) ON DELETE CASCADE,
      code_hash bytea NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      revoked_at timestamptz
    )`);
    await q.query(
      `CREATE UNIQUE INDEX irp_enrollment_code_hash_key ON irp_enrollment_code (code_hash)`,
    );
    await q.query(`CREATE INDEX irp_enrollment_code_user_idx ON irp_enrollment_code (user_key)`);

    // one row per attempted user id, existing or not (spec §6.3)
    await q.query(`CREATE TABLE irp_login_throttle (
      subject text PRIMARY KEY,
      failures jsonb NOT NULL DEFAULT '[]'::jsonb,
      lock_level integer NOT NULL DEFAULT 0 CHECK (lock_level >= 0),
      locked_until timestamptz,
      updated_at timestamptz NOT NULL
    )`);
    await q.query(`CREATE INDEX irp_login_throttle_updated_idx ON irp_login_throttle (updated_at)`);

    // fixed one-minute windows per (bucket, source address)
    await q.query(`CREATE TABLE irp_rate_limit (
      bucket text NOT NULL,
      source text NOT NULL,
      window_start timestamptz NOT NULL,
      hits integer NOT NULL CHECK (hits >= 0),
      PRIMARY KEY (bucket, source)
    )`);
    await q.query(`CREATE INDEX irp_rate_limit_window_idx ON irp_rate_limit (window_start)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE irp_rate_limit`);
    await q.query(`DROP TABLE irp_login_throttle`);
    await q.query(`DROP TABLE irp_enrollment_code`);
    await q.query(`DROP TABLE irp_user`);
  }
}
