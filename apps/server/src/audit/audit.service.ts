import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { IrpProtocolError, ResultCode } from '@irp/protocol';
import { DataSource, type EntityManager } from 'typeorm';
import { DomainError } from '../common/domain.error.js';
import { domainErrorToResultCode } from '../common/domain-error.mapping.js';
import { type Actor } from './actor.js';
import { type AuditDetails, AuditEntryEntity } from './audit-entry.entity.js';

/** One audit row to write (spec §13). Never put a password, code or key in here. */
export interface AuditRecord {
  actor: Actor;
  /** The IRP command or operator action. */
  action: string;
  target?: string | undefined;
  resultCode: ResultCode;
  details?: AuditDetails | undefined;
}

/**
 * What an audited action may add to its row as it learns more: the target, details,
 * the actor's real id (known after authentication), or the result code of a
 * committed refusal (a login failure commits its counter and is still a 2200).
 */
export interface AuditNote {
  target?: string;
  details?: AuditDetails;
  actorId?: string;
  resultCode?: ResultCode;
}

/** The handle an audited action works with. */
export interface AuditedAction {
  readonly note: AuditNote;
  /**
   * Runs `work` in a transaction that also writes the action's row (result
   * `note.resultCode`, else 1000): the change and its record commit together. Call
   * it at most once per action.
   */
  commit<R>(work: (manager: EntityManager) => Promise<R>): Promise<R>;
  /**
   * The row this action writes when it ends with `resultCode` (target, details and
   * actor as noted so far), for a caller that writes it itself in a transaction of
   * its own — a group commit (see {@link recorded}).
   */
  row(resultCode: ResultCode): AuditRecord;
  /**
   * The action's row was committed by the caller (group commit, {@link row}), together
   * with its change: no further row is written, not even when `run` then throws (a
   * refusal decided and recorded in that transaction). Excludes {@link commit}.
   */
  recorded(): void;
}

/** The `irp_audit_log` columns of a row, in {@link AUDIT_COLUMNS} order, for raw SQL. */
export interface AuditColumnValues {
  actor_kind: 'user' | 'operator';
  actor_id: string;
  auth_method: string | null;
  source_address: string | null;
  action: string;
  target: string | null;
  result_code: number;
  txn: string | null;
  /** JSON text of the details, or null. */
  details: string | null;
}

/** The columns an audit row is written with (`id` and `at` take their defaults). */
export const AUDIT_COLUMNS = [
  'actor_kind',
  'actor_id',
  'auth_method',
  'source_address',
  'action',
  'target',
  'result_code',
  'txn',
  'details',
] as const satisfies readonly (keyof AuditColumnValues)[];

/** The SQL type of each of {@link AUDIT_COLUMNS}. */
const AUDIT_COLUMN_TYPES: Record<(typeof AUDIT_COLUMNS)[number], string> = {
  actor_kind: 'text',
  actor_id: 'text',
  auth_method: 'text',
  source_address: 'text',
  action: 'text',
  target: 'text',
  result_code: 'integer',
  txn: 'text',
  details: 'jsonb',
};

/**
 * The select list of an audit row whose values are text columns `<prefix><column>` (an
 * `unnest` of text arrays, one per column of {@link AUDIT_COLUMNS}), each cast to its
 * column's type — for an `INSERT INTO irp_audit_log (…AUDIT_COLUMNS) SELECT …` of many rows.
 */
export function auditColumnsFromText(prefix: string): string {
  return AUDIT_COLUMNS.map((c) => `${prefix}${c}::${AUDIT_COLUMN_TYPES[c]}`).join(', ');
}

/**
 * The column values {@link AuditService.record} writes for `entry`, for a caller that
 * inserts audit rows with its own SQL (several in one statement).
 */
export function auditColumnValues(entry: AuditRecord): AuditColumnValues {
  return {
    actor_kind: entry.actor.kind,
    actor_id: entry.actor.id,
    auth_method: entry.actor.authMethod ?? null,
    source_address: entry.actor.sourceAddress ?? null,
    action: entry.action,
    target: entry.target ?? null,
    result_code: entry.resultCode,
    txn: entry.actor.txn ?? null,
    details: entry.details ? JSON.stringify(entry.details) : null,
  };
}

/** Filter of {@link AuditService.list}. */
export interface AuditQuery {
  action?: string;
  target?: string;
  actorId?: string;
  /** Only rows with an id greater than this (a cursor). */
  afterId?: string;
  limit?: number;
}

/** The IRP result code an error of a service ends a command with. */
export function resultCodeOf(error: unknown): ResultCode {
  if (error instanceof DomainError) return domainErrorToResultCode(error.code);
  if (error instanceof IrpProtocolError) return error.code;
  return ResultCode.CommandFailed;
}

/**
 * The append-only audit log (spec §13). A change and its audit row are written in
 * one transaction; a refused command writes its row after the rollback.
 */
@Injectable()
export class AuditService {
  private readonly log = new Logger('Audit');

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Writes one row with `manager` — inside the caller's transaction when it has one. */
  async record(manager: EntityManager, entry: AuditRecord): Promise<void> {
    await manager.insert(AuditEntryEntity, {
      actorKind: entry.actor.kind,
      actorId: entry.actor.id,
      authMethod: entry.actor.authMethod ?? null,
      sourceAddress: entry.actor.sourceAddress ?? null,
      action: entry.action,
      target: entry.target ?? null,
      resultCode: entry.resultCode,
      txn: entry.actor.txn ?? null,
      details: entry.details ?? null,
    });
  }

  /**
   * Runs one audited action (spec §13): exactly one row per action. The row of a
   * success is written by `commit`, in the transaction of the change. When `run`
   * throws before anything was committed, the transaction (if any) has rolled back
   * and one row with the error's result code is written on its own; the error is
   * rethrown. Work inside `commit` must use only the given manager (the embedded
   * database has one session: a second checkout inside a transaction waits forever).
   */
  async action<T>(
    entry: Omit<AuditRecord, 'resultCode'>,
    run: (action: AuditedAction) => Promise<T>,
  ): Promise<T> {
    const note: AuditNote = {};
    let committed = false;
    const rowOf = (resultCode: ResultCode): AuditRecord => ({
      actor: note.actorId === undefined ? entry.actor : { ...entry.actor, id: note.actorId },
      action: entry.action,
      target: note.target ?? entry.target,
      details: note.details ?? entry.details,
      resultCode,
    });
    const handle: AuditedAction = {
      note,
      commit: async (work) => {
        if (committed) throw new Error(`audited action ${entry.action} committed twice`);
        const result = await this.dataSource.transaction(async (manager) => {
          const value = await work(manager);
          await this.record(manager, rowOf(note.resultCode ?? ResultCode.Success));
          return value;
        });
        committed = true;
        return result;
      },
      row: rowOf,
      recorded: () => {
        if (committed) throw new Error(`audited action ${entry.action} committed twice`);
        committed = true;
      },
    };
    try {
      return await run(handle);
    } catch (error) {
      if (!committed) await this.recordFailure(rowOf(resultCodeOf(error)));
      throw error;
    }
  }

  /** {@link action} with a single transactional step. */
  transaction<T>(
    entry: Omit<AuditRecord, 'resultCode'>,
    work: (manager: EntityManager, note: AuditNote) => Promise<T>,
  ): Promise<T> {
    return this.action(entry, (action) => action.commit((manager) => work(manager, action.note)));
  }

  /** Writes the row of a refused action on its own; a failure here must not hide the refusal. */
  async recordFailure(entry: AuditRecord): Promise<void> {
    try {
      await this.record(this.dataSource.manager, entry);
    } catch (error) {
      this.log.error(
        `could not write the audit row of ${entry.action} (${entry.resultCode}): ${
          error instanceof Error ? error.message : String(error)
        }`,
      );
    }
  }

  /** Rows in the order written, oldest first (tests and, later, the operator API). */
  async list(query: AuditQuery = {}): Promise<AuditEntryEntity[]> {
    const qb = this.dataSource.manager
      .createQueryBuilder(AuditEntryEntity, 'a')
      .orderBy('a.id', 'ASC')
      .limit(Math.min(Math.max(query.limit ?? 1000, 1), 10_000));
    if (query.action !== undefined) qb.andWhere('a.action = :action', { action: query.action });
    if (query.target !== undefined) qb.andWhere('a.target = :target', { target: query.target });
    if (query.actorId !== undefined)
      qb.andWhere('a.actorId = :actorId', { actorId: query.actorId });
    if (query.afterId !== undefined) qb.andWhere('a.id > :afterId', { afterId: query.afterId });
    return qb.getMany();
  }
}
