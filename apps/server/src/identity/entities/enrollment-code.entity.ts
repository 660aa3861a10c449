import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A one-time enrollment code of a `pending` user (spec §7.2). Table `irp_enrollment_code`. */
@Entity({ name: 'irp_enrollment_code' })
export class EnrollmentCodeEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** `UserEntity.id` of the pending user. */
  @Column({ name: 'user_key', type: 'uuid' })
  userKey!: string;

  /** SHA-256 of the normalised code; the code itself is never stored. */
  @Column({ name: 'code_hash', type: 'bytea' })
  codeHash!: Buffer;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt!: Date | null;

  /** Set when a newer code for the same user replaced this one. */
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
