import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The domain CA (spec §9), one row (`id = 1`): the issuing CA certificate and its
 * key, the chain above it, and — for a CA this server created — the root key. Keys
 * are AES-256-GCM envelopes under the master key, never plaintext. Table `irp_ca`.
 */
@Entity({ name: 'irp_ca' })
export class CaEntity {
  @PrimaryColumn({ type: 'smallint' })
  id!: number;

  /** `created` at first start, or `imported` from `IRP_CA_CERT`/`IRP_CA_KEY`. */
  @Column({ type: 'text' })
  origin!: 'created' | 'imported';

  /** Label of the issuing key (`P-384`, `RSA-4096`, …). */
  @Column({ name: 'key_algorithm', type: 'text' })
  keyAlgorithm!: string;

  /** DER of the issuing CA certificate (signs end-entity certificates, CRLs, OCSP). */
  @Column({ name: 'issuing_certificate', type: 'bytea' })
  issuingCertificate!: Buffer;

  /** Envelope of the issuing key's PKCS#8 (context `irp-ca:issuing:<sha256 of the certificate>`). */
  @Column({ name: 'issuing_key', type: 'bytea' })
  issuingKey!: Buffer;

  /** PEM of the certificates above the issuing CA, issuer first, root last; empty when it is a root itself. */
  @Column({ name: 'chain_pem', type: 'text' })
  chainPem!: string;

  /** Envelope of the root key of a created CA (context `irp-ca:root:<sha256>`); kept for re-issuing the intermediate. */
  @Column({ name: 'root_key', type: 'bytea', nullable: true })
  rootKey!: Buffer | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
