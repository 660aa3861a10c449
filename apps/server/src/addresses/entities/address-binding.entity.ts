import { type AttestationAlgorithm, type PresenceStatus } from '@irp/protocol';
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { type CanonicalAddress } from '../address-validation.js';

/** One device's binding (spec §8). Table `irp_address_binding`, unique per (user, device). */
@Entity({ name: 'irp_address_binding' })
export class AddressBindingEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** The owner (`irp_user.id`). */
  @Column({ name: 'user_key', type: 'uuid' })
  userKey!: string;

  @Column({ type: 'text' })
  device!: string;

  /** 1–8 canonical addresses, in the order registered. */
  @Column({ type: 'jsonb' })
  addresses!: CanonicalAddress[];

  @Column({ name: 'presence_status', type: 'text', nullable: true })
  presenceStatus!: PresenceStatus | null;

  /** Exactly as sent (spec §3). */
  @Column({ name: 'presence_note', type: 'text', nullable: true })
  presenceNote!: string | null;

  @Column({ type: 'text', nullable: true })
  service!: string | null;

  /** The source address the server saw when the binding was registered. */
  @Column({ name: 'observed_address', type: 'inet' })
  observedAddress!: string;

  @Column({ name: 'observed_port', type: 'integer' })
  observedPort!: number;

  /** Serial of the SCA certificate of the registering session (removal on revocation, spec §8). */
  @Column({ name: 'certificate_serial', type: 'text', nullable: true })
  certificateSerial!: string | null;

  @Column({ name: 'attestation_cert', type: 'text', nullable: true })
  attestationCert!: string | null;

  @Column({ name: 'attestation_alg', type: 'text', nullable: true })
  attestationAlg!: AttestationAlgorithm | null;

  @Column({ name: 'attestation_text', type: 'bytea', nullable: true })
  attestationText!: Buffer | null;

  @Column({ name: 'attestation_signature', type: 'bytea', nullable: true })
  attestationSignature!: Buffer | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;
}
