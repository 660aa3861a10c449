import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { type RevocationReason } from '@irp/pki';

/** Profiles of a stored certificate: those of spec §9, plus the server's own TLS certificates. */
export type StoredProfile = 'user' | 'device' | 'uploaded' | 'server';

/**
 * A certificate the domain CA issued (profiles `user`, `device`, and `server` for the
 * IRP listener), or one a user uploaded (`uploaded`, directory data only). Identified
 * by issuer + serial (spec §6.2). Table `irp_certificate`.
 */
@Entity({ name: 'irp_certificate' })
export class CertificateEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** `UserEntity.id` of the owner; null only for `server` certificates. */
  @Column({ name: 'user_key', type: 'uuid', nullable: true })
  userKey!: string | null;

  @Column({ type: 'text' })
  profile!: StoredProfile;

  /** SHA-256 (hex) of the issuer Name DER. */
  @Column({ name: 'issuer_hash', type: 'text' })
  issuerHash!: string;

  /** Lower-case hex; 32 digits for the domain CA (spec §9). */
  @Column({ type: 'text' })
  serial!: string;

  /** SHA-256 of the DER, 64 lower-case hex digits. */
  @Column({ type: 'text' })
  sha256!: string;

  @Column({ type: 'bytea' })
  der!: Buffer;

  @Column({ name: 'not_before', type: 'timestamptz' })
  notBefore!: Date;

  @Column({ name: 'not_after', type: 'timestamptz' })
  notAfter!: Date;

  @Column({ name: 'key_algorithm', type: 'text' })
  keyAlgorithm!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  /** RFC 5280 reason; `superseded` when replaced through `renews` (spec §9). */
  @Column({ name: 'revocation_reason', type: 'text', nullable: true })
  revocationReason!: RevocationReason | null;

  /** The certificate that superseded this one (`renews`). */
  @Column({ name: 'replaced_by', type: 'uuid', nullable: true })
  replacedBy!: string | null;
}
