import pg from 'pg';
import { NotifyEventBus } from './notify-event-bus.js';

/** Reconnect delays of the LISTEN connection: doubling from 100 ms up to 5 s. */
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5000;

/**
 * The event bus on PostgreSQL: one dedicated connection per instance LISTENs (a pooled
 * connection cannot: LISTEN belongs to a session), and publishing is `pg_notify` in
 * the publisher's transaction. When the LISTEN connection breaks, the bus reconnects
 * with backoff, LISTENs again, and reports a reset (events in between may be lost).
 */
export class PostgresEventBus extends NotifyEventBus {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectDelay = RECONNECT_MIN_MS;

  constructor(private readonly url: string) {
    super();
  }

  protected async listen(channel: string): Promise<void> {
    const client = await this.connection();
    await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
  }

  private connection(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<pg.Client> {
    if (this.closed) throw new Error('The event bus is closed');
    const client = new pg.Client({
      connectionString: this.url,
      application_name: 'irp-server-events',
      keepAlive: true,
    });
    client.on('notification', (message) => this.dispatch(message.channel, message.payload ?? ''));
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, undefined));
    await client.connect();
    // LISTEN again on every channel this instance already used (after a reconnect)
    for (const channel of this.channels())
      await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    this.client = client;
    this.reconnectDelay = RECONNECT_MIN_MS;
    return client;
  }

  private lost(client: pg.Client, error: Error | undefined): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.removeAllListeners('notification');
    client.on('error', () => undefined);
    client.end().catch(() => undefined);
    if (this.closed) return;
    this.log.warn(`LISTEN connection lost${error ? `: ${error.message}` : ''}; reconnecting`);
    this.setHealthy(false);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connection().then(
        () => this.setHealthy(true),
        (error: unknown) => {
          this.log.warn(
            `LISTEN reconnect failed: ${error instanceof Error ? error.message : String(error)}`,
          );
          this.scheduleReconnect();
        },
      );
    }, delay);
    this.reconnectTimer.unref();
  }

  /** Drops the LISTEN connection without reconnecting (shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const client = this.client ?? (await this.connecting?.catch(() => undefined));
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  /** Test hook: breaks the LISTEN connection as a network failure would. */
  async breakConnectionForTest(): Promise<void> {
    const client = this.client;
    if (!client) return;
    // terminate our own backend from another session: the client sees an error/end
    const killer = new pg.Client({ connectionString: this.url });
    await killer.connect();
    try {
      await killer.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'irp-server-events' AND pid = $1`,
        [(client as unknown as { processID: number }).processID],
      );
    } finally {
      await killer.end();
    }
  }
}
