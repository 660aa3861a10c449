import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** Non-secret details of an audit row (field names changed, lock period, …). */
export type AuditDetails = Record<string, string | number | boolean | string[] | null>;

/**
 * One row of the append-only audit log (spec §13). The table refuses UPDATE,
 * DELETE and TRUNCATE with a trigger (migration `Audit1764200000000`).
 */
@Entity({ name: 'irp_audit_log' })
export class AuditEntryEntity {
  /** int8: a string, as `pg` returns it. */
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id!: string;

  @Column({ type: 'timestamptz', default: () => 'clock_timestamp()' })
  at!: Date;

  @Column({ name: 'actor_kind', type: 'text' })
  actorKind!: 'user' | 'operator';

  @Column({ name: 'actor_id', type: 'text' })
  actorId!: string;

  @Column({ name: 'auth_method', type: 'text', nullable: true })
  authMethod!: string | null;

  @Column({ name: 'source_address', type: 'text', nullable: true })
  sourceAddress!: string | null;

  /** The IRP command (`login`, `register`, …) or operator action (`disableUser`, …). */
  @Column({ type: 'text' })
  action!: string;

  /** What the action was about: a user id, usually. */
  @Column({ type: 'text', nullable: true })
  target!: string | null;

  /** The IRP result code (spec §5) the action ended with. */
  @Column({ name: 'result_code', type: 'integer' })
  resultCode!: number;

  @Column({ type: 'text', nullable: true })
  txn!: string | null;

  @Column({ type: 'jsonb', nullable: true })
  details!: AuditDetails | null;
}
