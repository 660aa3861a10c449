import { type PGlite } from '@electric-sql/pglite';
import { type DataSource } from 'typeorm';
import { NotifyEventBus } from './notify-event-bus.js';

/**
 * The event bus on the embedded database (one process, one PGlite session). PGlite
 * implements LISTEN/NOTIFY: `pg_notify` in a transaction reaches `db.listen`
 * callbacks after COMMIT, exactly as on PostgreSQL, so publishers are the same code.
 */
export class EmbeddedEventBus extends NotifyEventBus {
  private readonly unlisteners: (() => Promise<void>)[] = [];

  constructor(
    private readonly db: PGlite,
    private readonly dataSource: DataSource,
  ) {
    super();
  }

  protected async listen(channel: string): Promise<void> {
    // PGlite is ONE session: LISTEN sent while another checkout holds a transaction
    // would become part of that transaction (and vanish with its rollback). Holding a
    // checkout of the serialised driver while LISTENing keeps it outside any.
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const unlisten = await this.db.listen(channel, (payload) => this.dispatch(channel, payload));
      this.unlisteners.push(unlisten);
    } finally {
      await runner.release();
    }
  }

  /** Stops listening (shutdown, before the database closes). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.db.closed) return;
    const runner = this.dataSource.isInitialized ? this.dataSource.createQueryRunner() : undefined;
    await runner?.connect();
    try {
      for (const unlisten of this.unlisteners.splice(0)) await unlisten().catch(() => undefined);
    } finally {
      await runner?.release();
    }
  }
}
