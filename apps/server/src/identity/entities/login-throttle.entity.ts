import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Lockout state of one attempted user id, whether or not the user exists
 * (spec §6.3). Table `irp_login_throttle`.
 */
@Entity({ name: 'irp_login_throttle' })
export class LoginThrottleEntity {
  /** The normalised user id that was attempted. */
  @PrimaryColumn({ type: 'text' })
  subject!: string;

  /** Times (epoch ms) of the failures counted toward the next lock, oldest first. */
  @Column({ type: 'jsonb', default: () => `'[]'::jsonb` })
  failures!: number[];

  /** How many locks so far in this streak; the next lock lasts longer. */
  @Column({ name: 'lock_level', type: 'integer', default: 0 })
  lockLevel!: number;

  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true })
  lockedUntil!: Date | null;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
