import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The address registry (spec §8): one binding per (user, device), the owner's address
 * policy and their watchers (§8.1). Addresses are a JSON array of at most 8 canonical
 * entries (the service canonicalises them; the array is read and written whole).
 */
export class Addresses1764300000000 implements MigrationInterface {
  name = 'Addresses1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE irp_address_binding (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_key uuid NOT NULL REFERENCES irp_user (id) ON DELETE CASCADE,
      device text COLLATE "C" NOT NULL CHECK (device ~ '^[A-Za-z0-9._-]{1,64}$'),
      addresses jsonb NOT NULL
        CHECK (jsonb_typeof(addresses) = 'array' AND jsonb_array_length(addresses) BETWEEN 1 AND 8),
      presence_status text CHECK (presence_status IN ('available', 'away', 'busy', 'dnd', 'offline')),
      presence_note text CHECK (char_length(presence_note) <= 256),
      service text CHECK (char_length(service) BETWEEN 1 AND 64),
      observed_address inet NOT NULL,
      observed_port integer NOT NULL CHECK (observed_port BETWEEN 0 AND 65535),
      certificate_serial text CHECK (certificate_serial ~ '^[0-9a-f]{1,64}$'),
      attestation_cert text,
      attestation_alg text CHECK (attestation_alg IN ('ecdsa-sha256', 'ecdsa-sha384', 'ed25519', 'rsa-pkcs1-sha256')),
      attestation_text bytea,
      attestation_signature bytea,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      CONSTRAINT irp_address_binding_device_key UNIQUE (user_key, device),
      CONSTRAINT irp_address_binding_note_needs_status CHECK (presence_note IS NULL OR presence_status IS NOT NULL),
      CONSTRAINT irp_address_binding_attestation_whole CHECK (
        (attestation_cert IS NULL) = (attestation_alg IS NULL)
        AND (attestation_cert IS NULL) = (attestation_text IS NULL)
        AND (attestation_cert IS NULL) = (attestation_signature IS NULL))
    )`);
    // the lapse purge scans by expiry; revocation removes by certificate (spec §8)
    await q.query(
      `CREATE INDEX irp_address_binding_expires_idx ON irp_address_binding (expires_at)`,
    );
    await q.query(`CREATE INDEX irp_address_binding_serial_idx ON irp_address_binding (certificate_serial)
      WHERE certificate_serial IS NOT NULL`);

    // no row = the default policy `domain` (spec §8.1)
    await q.query(`CREATE TABLE irp_address_policy (
      user_key uuid PRIMARY KEY REFERENCES irp_user (id) ON DELETE CASCADE,
      visibility text NOT NULL CHECK (visibility IN ('domain', 'watchers', 'nobody')),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);

    // approved watchers and pending watch requests (spec §8.1)
    await q.query(`CREATE TABLE irp_address_watcher (
      owner_key uuid NOT NULL REFERENCES irp_user (id) ON DELETE CASCADE,
      watcher_key uuid NOT NULL REFERENCES irp_user (id) ON DELETE CASCADE,
      status text NOT NULL CHECK (status IN ('approved', 'pending')),
      since timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (owner_key, watcher_key),
      CHECK (owner_key <> watcher_key)
    )`);
    await q.query(
      `CREATE INDEX irp_address_watcher_watcher_idx ON irp_address_watcher (watcher_key)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE irp_address_watcher`);
    await q.query(`DROP TABLE irp_address_policy`);
    await q.query(`DROP TABLE irp_address_binding`);
  }
}
