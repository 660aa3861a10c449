import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** Status of a certificate request in the approval mode (spec §9). */
export type RequestStatus = 'pending' | 'approved' | 'rejected';

/**
 * A certificate request awaiting (or past) operator approval
 * (`IRP_CERT_APPROVAL=manual`, spec §9). Only the public key of the verified CSR is
 * kept. Table `irp_certificate_request`.
 */
@Entity({ name: 'irp_certificate_request' })
export class CertificateRequestEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'user_key', type: 'uuid' })
  userKey!: string;

  @Column({ type: 'text' })
  profile!: 'user' | 'device';

  /** SubjectPublicKeyInfo DER of the CSR, after its proof of possession verified. */
  @Column({ name: 'public_key', type: 'bytea' })
  publicKey!: Buffer;

  @Column({ name: 'validity_days', type: 'integer', nullable: true })
  validityDays!: number | null;

  /** Serial of the certificate to supersede once issued. */
  @Column({ type: 'text', nullable: true })
  renews!: string | null;

  @Column({ type: 'text' })
  status!: RequestStatus;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'decided_at', type: 'timestamptz', nullable: true })
  decidedAt!: Date | null;

  /** The operator who decided. */
  @Column({ name: 'decided_by', type: 'text', nullable: true })
  decidedBy!: string | null;

  @Column({ name: 'certificate_id', type: 'uuid', nullable: true })
  certificateId!: string | null;
}
