/** A queued request of a {@link GroupCommitQueue}: its item and how to settle its caller. */
export interface Queued<I, O> {
  item: I;
  resolve: (outcome: O) => void;
  reject: (error: unknown) => void;
}

/**
 * The COMMIT of a batch failed (the connection broke): whether it was applied is
 * unknown, so the batch must not run again — its writes and audit rows could be doubled.
 */
export class CommitOutcomeUnknown extends Error {
  constructor(cause: unknown) {
    super('the outcome of a batch COMMIT is unknown', { cause });
  }
}

/**
 * The queue of a group commit: callers submit items, and the items queued by then go
 * to the database together as one batch. There is no timer: a batch starts as soon as
 * fewer than `maxInFlight` run, with everything queued by then (a lone request goes at
 * once, alone); under load, requests queue while batches run, so batches grow with the
 * load. Items submitted in the same tick share a batch.
 *
 * A subclass says what a batch is ({@link take}) and commits it ({@link run}), which
 * must settle every item of the batch, and only after the commit holding it.
 */
export abstract class GroupCommitQueue<I, O> {
  protected readonly queue: Queued<I, O>[] = [];
  private readonly running = new Set<Promise<void>>();
  private inFlight = 0;
  private scheduled = false;

  protected constructor(private readonly maxInFlight: number) {}

  /** Queues `item`; settles as {@link run} settles it. */
  submit(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  /** Resolves when no batch is in flight (those queued meanwhile included). */
  protected async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /**
   * Takes the next batch off {@link queue} (empty: nothing may go now); what stays
   * keeps its order.
   */
  protected abstract take(): Queued<I, O>[];

  /** Commits `batch` and settles each of its items. Must not reject. */
  protected abstract run(batch: Queued<I, O>[]): Promise<void>;

  /** Called after a batch ended, before the next ones start. */
  protected finished(_batch: Queued<I, O>[]): void {}

  /** Starts batches while there is room and something that may go. */
  private pump(): void {
    while (this.inFlight < this.maxInFlight) {
      const batch = this.take();
      if (batch.length === 0) return;
      this.inFlight++;
      const running: Promise<void> = this.run(batch)
        .catch((error: unknown) => {
          for (const q of batch) q.reject(error);
        })
        .finally(() => {
          this.running.delete(running);
          this.finished(batch);
          this.inFlight--;
          this.pump();
        });
      this.running.add(running);
    }
  }
}
