import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ResultCode } from '@irp/protocol';
import { DataSource, type EntityManager, type QueryRunner } from 'typeorm';
import { type AuditRecord, auditColumnValues } from '../audit/audit.service.js';
import { DomainErrorCode } from '../common/domain.error.js';
import { domainErrorToResultCode } from '../common/domain-error.mapping.js';
import { EVENT_BUS, type EventBus, channelOf } from '../events/event-bus.js';
import { EmbeddedDatabase } from '../database/database.module.js';
import { NotifyEventBus } from '../events/notify-event-bus.js';
import {
  CommitOutcomeUnknown,
  GroupCommitQueue,
  type Queued,
} from '../database/group-commit-queue.js';
import { ADDRESS_TOPIC, encodeAddressEvent } from './address-events.js';
import { AddressRepository, type BindingWrite, type StoredBinding } from './address.repository.js';

/** One validated registration (spec §8), waiting for its group commit. */
export interface QueuedRegistration {
  write: BindingWrite;
  /** Its audit row (spec §13); the batch sets the result code (1000, or 2306 for the quota). */
  audit: Omit<AuditRecord, 'resultCode'>;
  /**
   * The registration on its own, in a transaction of its own that also writes its audit
   * row — used when the batch it was in failed as a whole. Resolves with the stored
   * binding; rejects with the quota refusal (or whatever else failed).
   */
  alone: () => Promise<StoredBinding>;
}

/** How a registration ended. Only settled after the COMMIT holding its write and audit row. */
export type RegistrationOutcome =
  /** Committed in a batch with its audit row: stored (result 1000), or refused by the quota (2306). */
  | { via: 'batch'; binding: StoredBinding | undefined }
  /** Its batch failed; committed by {@link QueuedRegistration.alone}, which wrote the audit row. */
  | { via: 'alone'; binding: StoredBinding };

type Pending = Queued<QueuedRegistration, RegistrationOutcome>;

/** Registrations per batch at most (one statement: every item is a row of its arrays). */
export const MAX_BATCH = 256;
/** Batches in flight at once (their users are disjoint). */
export const MAX_IN_FLIGHT = 2;

/**
 * Group commit of `registerAddress` (spec §8; benchmark figure 4). Registrations queue
 * here and run as batches: one transaction per batch, with a constant number of round
 * trips whatever its size — lock the batch's users (one statement, global order), then
 * one statement that upserts every binding, writes every audit row and notifies every
 * presence change — then COMMIT. Batches start as {@link GroupCommitQueue} says: at
 * once, up to {@link MAX_IN_FLIGHT} at a time, each with what queued meanwhile.
 *
 * A batch holds at most one registration per user, and a user is in at most one batch
 * in flight: a later registration of the same user waits for the next batch, so each
 * user's registrations apply in arrival order, and the quota of each sees the one
 * before. When a batch fails as a whole (any database error), each of its
 * registrations runs alone on the single path, so one bad registration fails no other.
 * Nothing is settled before the COMMIT holding it.
 *
 * On PostgreSQL each in-flight slot keeps a pool connection of its own (a "lane"):
 * under load the pool's queue is long with the sessions' other queries, and a batch
 * that waited behind them would hold up every registration in it. The embedded
 * database is one session, so there a batch takes it per transaction like any other.
 */
@Injectable()
export class RegistrationBatcher
  extends GroupCommitQueue<QueuedRegistration, RegistrationOutcome>
  implements BeforeApplicationShutdown
{
  private readonly log = new Logger('RegistrationBatcher');
  /** Users of the batches in flight. */
  private readonly busy = new Set<string>();
  /** Reserved connections not in use (PostgreSQL only). */
  private readonly idleLanes: QueryRunner[] = [];
  private closing = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    private readonly repository: AddressRepository,
    private readonly embedded: EmbeddedDatabase,
  ) {
    super(MAX_IN_FLIGHT);
  }

  /** Lets the batches in flight finish and gives the reserved connections back (before the database closes). */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    await this.settled();
    for (const lane of this.idleLanes.splice(0)) await lane.release().catch(() => undefined);
  }

  /**
   * Takes the next batch off the queue: in arrival order, at most one registration per
   * user, none of a user in flight; what stays keeps its order.
   */
  protected take(): Pending[] {
    const batch: Pending[] = [];
    const users = new Set<string>();
    let kept = 0;
    for (let i = 0; i < this.queue.length; i++) {
      const p = this.queue[i]!;
      const user = p.item.write.userKey;
      if (batch.length < MAX_BATCH && !users.has(user) && !this.busy.has(user)) {
        batch.push(p);
        users.add(user);
      } else {
        this.queue[kept++] = p;
      }
    }
    this.queue.length = kept;
    for (const p of batch) this.busy.add(p.item.write.userKey);
    return batch;
  }

  protected override finished(batch: Pending[]): void {
    for (const p of batch) this.busy.delete(p.item.write.userKey);
  }

  protected async run(batch: Pending[]): Promise<void> {
    let stored: (StoredBinding | undefined)[];
    try {
      stored = await this.commitBatch(batch.map((p) => p.item));
    } catch (error) {
      if (error instanceof CommitOutcomeUnknown) {
        // not acknowledged, not retried here: each caller gets a server error (2400) and
        // may retry — a registration replaces the device's binding, so a retry is harmless
        this.log.error(
          `the COMMIT of a batch of ${batch.length} registration(s) failed: ${
            error.cause instanceof Error ? error.cause.message : String(error.cause)
          }`,
        );
        for (const p of batch) p.reject(error);
        return;
      }
      // one bad registration must not fail the others: each alone, on the single path
      this.log.warn(
        `a batch of ${batch.length} registration(s) failed (${
          error instanceof Error ? error.message : String(error)
        }); running each alone`,
      );
      await Promise.all(
        batch.map(async (p) => {
          try {
            p.resolve({ via: 'alone', binding: await p.item.alone() });
          } catch (failure) {
            p.reject(failure);
          }
        }),
      );
      return;
    }
    batch.forEach((p, i) => p.resolve({ via: 'batch', binding: stored[i] }));
  }

  /** One transaction: lock the users, then upsert + audit rows + notifies in one statement. */
  private async commitBatch(items: QueuedRegistration[]): Promise<(StoredBinding | undefined)[]> {
    if (this.embedded.db || this.closing)
      return this.dataSource.transaction((m) => this.writeBatch(m, items));
    let lane = this.idleLanes.pop();
    // (a reserved connection that broke while idle was released by TypeORM: skip it)
    while (lane?.isReleased) lane = this.idleLanes.pop();
    lane ??= this.dataSource.createQueryRunner('master');
    let healthy = false;
    try {
      await lane.startTransaction();
      try {
        const stored = await this.writeBatch(lane.manager, items);
        try {
          await lane.commitTransaction();
        } catch (error) {
          // the COMMIT may have been applied before the connection failed: running the
          // registrations again could write them (and their audit rows) twice
          throw new CommitOutcomeUnknown(error);
        }
        healthy = true;
        return stored;
      } catch (error) {
        if (lane.isTransactionActive) await lane.rollbackTransaction().catch(() => undefined);
        throw error;
      }
    } finally {
      // after any failure the connection goes back to the pool (a broken one is dropped there)
      if (healthy && !lane.isReleased && !this.closing) this.idleLanes.push(lane);
      else await lane.release().catch(() => undefined);
    }
  }

  private async writeBatch(
    m: EntityManager,
    items: QueuedRegistration[],
  ): Promise<(StoredBinding | undefined)[]> {
    // pg_notify folds into the statement on the PostgreSQL buses; another bus publishes itself
    const folded = this.bus instanceof NotifyEventBus;
    await this.repository.lockUsers(
      m,
      items.map((r) => r.write.userKey),
    );
    const stored = await this.repository.registerBindings(
      m,
      items.map((r) => ({
        write: r.write,
        audit: auditColumnValues({ ...r.audit, resultCode: ResultCode.Success }),
        event: encodeAddressEvent({ k: 'presence', o: r.write.userKey }),
      })),
      {
        // the code the quota's DomainError (Policy) ends the command with
        refusedCode: domainErrorToResultCode(DomainErrorCode.Policy),
        notifyChannel: folded ? channelOf(ADDRESS_TOPIC) : undefined,
      },
    );
    if (!folded) {
      for (let i = 0; i < items.length; i++) {
        if (stored[i]) {
          await this.bus.publish(
            m,
            ADDRESS_TOPIC,
            encodeAddressEvent({ k: 'presence', o: items[i]!.write.userKey }),
          );
        }
      }
    }
    return stored;
  }
}
