import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The domain CA and its certificates (spec §9): the CA itself (one row, so that only
 * one of several instances sharing the database creates it), the certificates it
 * issued plus those users uploaded, pending requests of the approval mode, and the
 * current CRL with its number.
 *
 * Private keys are stored only as AES-256-GCM envelopes under the master key
 * (`@irp/pki` `encryptPrivateKey`); no column ever holds a plaintext key.
 */
export class Certificates1764400000000 implements MigrationInterface {
  name = 'Certificates1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE irp_ca (
      id smallint PRIMARY KEY CHECK (id = 1),
      origin text NOT NULL CHECK (origin IN ('created', 'imported')),
      key_algorithm text NOT NULL,
      issuing_certificate bytea NOT NULL,
      issuing_key bytea NOT NULL CHECK (substring(issuing_key from 1 for 4) = '\\x4952504b'::bytea),
      chain_pem text NOT NULL,
      root_key bytea CHECK (root_key IS NULL OR substring(root_key from 1 for 4) = '\\x4952504b'::bytea),
      created_at timestamptz NOT NULL DEFAULT now()
    )`);

    await q.query(`CREATE TABLE irp_certificate (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_key uuid REFERENCES irp_user (id),
      profile text NOT NULL CHECK (profile IN ('user', 'device', 'uploaded', 'server')),
      issuer_hash text NOT NULL CHECK (issuer_hash ~ '^[0-9a-f]{64}$'),
      serial text NOT NULL CHECK (serial ~ '^[0-9a-f]{2,128}$'),
      sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
      der bytea NOT NULL,
      not_before timestamptz NOT NULL,
      not_after timestamptz NOT NULL,
      key_algorithm text NOT NULL,
      created_at timestamptz NOT NULL,
      revoked_at timestamptz,
      revocation_reason text CHECK (revocation_reason IN ('unspecified', 'keyCompromise',
        'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation',
        'certificateHold', 'privilegeWithdrawn', 'aACompromise')),
      replaced_by uuid REFERENCES irp_certificate (id),
      CONSTRAINT irp_certificate_owner CHECK ((profile = 'server') = (user_key IS NULL)),
      CONSTRAINT irp_certificate_revocation_whole CHECK ((revoked_at IS NULL) = (revocation_reason IS NULL))
    )`);
    // spec §6.2: a CA certificate is identified by issuer + serial, never by its subject
    await q.query(`CREATE UNIQUE INDEX irp_certificate_issued_key ON irp_certificate (issuer_hash, serial)
      WHERE profile <> 'uploaded'`);
    await q.query(`CREATE UNIQUE INDEX irp_certificate_uploaded_key ON irp_certificate (user_key, sha256)
      WHERE profile = 'uploaded'`);
    await q.query(
      `CREATE INDEX irp_certificate_user_idx ON irp_certificate (user_key, created_at)`,
    );
    await q.query(`CREATE INDEX irp_certificate_sha256_idx ON irp_certificate (sha256)`);
    await q.query(`CREATE INDEX irp_certificate_serial_idx ON irp_certificate (serial)`);
    // the CRL lists the revoked certificates of the CA
    await q.query(`CREATE INDEX irp_certificate_revoked_idx ON irp_certificate (issuer_hash, not_after)
      WHERE revoked_at IS NOT NULL AND profile <> 'uploaded'`);

    // approval mode (IRP_CERT_APPROVAL=manual): only the verified public key is kept
    await q.query(`CREATE TABLE irp_certificate_request (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_key uuid NOT NULL REFERENCES irp_user (id) ON DELETE CASCADE,
      profile text NOT NULL CHECK (profile IN ('user', 'device')),
      public_key bytea NOT NULL,
      validity_days integer CHECK (validity_days > 0),
      renews text CHECK (renews ~ '^[0-9a-f]{2,128}$'),
      status text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
      created_at timestamptz NOT NULL,
      decided_at timestamptz,
      decided_by text,
      certificate_id uuid REFERENCES irp_certificate (id),
      CONSTRAINT irp_certificate_request_decided CHECK ((status = 'pending') = (decided_at IS NULL))
    )`);
    await q.query(`CREATE INDEX irp_certificate_request_pending_idx ON irp_certificate_request (created_at)
      WHERE status = 'pending'`);
    await q.query(
      `CREATE INDEX irp_certificate_request_user_idx ON irp_certificate_request (user_key)`,
    );

    // the current CRL; the row is locked to number CRLs without gaps across instances
    await q.query(`CREATE TABLE irp_crl (
      id smallint PRIMARY KEY CHECK (id = 1),
      crl_number bigint NOT NULL CHECK (crl_number >= 0),
      der bytea,
      this_update timestamptz,
      next_update timestamptz
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE irp_crl`);
    await q.query(`DROP TABLE irp_certificate_request`);
    await q.query(`DROP TABLE irp_certificate`);
    await q.query(`DROP TABLE irp_ca`);
  }
}
