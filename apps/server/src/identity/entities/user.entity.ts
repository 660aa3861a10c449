import { type UserAttribute, type UserStatus } from '@irp/protocol';
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A user of the directory (spec §7.1). Table `irp_user`. */
@Entity({ name: 'irp_user' })
export class UserEntity {
  /** Internal key (`SessionPrincipal.userKey`); never shown on the wire. */
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** Lower-case, 3–64 of `[a-z0-9._-]`, unique (spec §7.1). */
  @Column({ name: 'user_id', type: 'text' })
  userId!: string;

  @Column({ name: 'display_name', type: 'text', nullable: true })
  displayName!: string | null;

  /** Unique case-insensitively (`lower(email)` index). */
  @Column({ type: 'text', nullable: true })
  email!: string | null;

  @Column({ name: 'given_name', type: 'text', nullable: true })
  givenName!: string | null;

  @Column({ type: 'text', nullable: true })
  surname!: string | null;

  @Column({ type: 'text', nullable: true })
  organization!: string | null;

  @Column({ type: 'text', nullable: true })
  title!: string | null;

  @Column({ type: 'text', nullable: true })
  phone!: string | null;

  /** 0–32 free attributes, in the order they were first set. */
  @Column({ type: 'jsonb', default: () => `'[]'::jsonb` })
  attributes!: UserAttribute[];

  @Column({ type: 'text' })
  status!: UserStatus;

  @Column({ name: 'upa_enabled', type: 'boolean', default: true })
  upaEnabled!: boolean;

  /** argon2id PHC string; null until a password is set (a `pending` user). */
  @Column({ name: 'password_hash', type: 'text', nullable: true })
  passwordHash!: string | null;

  /** When the password last changed; sessions authenticated before it are stale. */
  @Column({ name: 'password_changed_at', type: 'timestamptz', nullable: true })
  passwordChangedAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
