import { EventEmitter } from 'node:events';
import { PGlite, types } from '@electric-sql/pglite';

/**
 * A `pg`-compatible driver over an embedded PGlite database, given to TypeORM as
 * `options.driver` so the same entities, migrations and SQL run on the embedded
 * database and on PostgreSQL.
 *
 * PGlite is ONE database session. The published TypeORM adapter lets concurrent
 * transactions interleave on it, so one transaction's ROLLBACK undid another's
 * committed insert (STACK.md). Here a checkout holds an exclusive lock on the
 * session until it is released — a pool of size one — so a transaction owns the
 * session from BEGIN to COMMIT/ROLLBACK, exactly like a pooled PostgreSQL
 * connection. Queries on the pool itself (`pool.query`) take the lock per query.
 */

interface QueryResultLike {
  rows: unknown[];
  rowCount: number;
  command: string;
  fields: { name: string; dataTypeID: number }[];
}

type ConnectCallback = (
  err: Error | undefined,
  client?: PgliteClient,
  release?: (err?: unknown) => void,
) => void;

/** Results shaped like `pg`'s: int8/numeric as strings, bytea as Buffer. */
const PARSERS = {
  [types.INT8]: (value: string) => value,
  [types.NUMERIC]: (value: string) => value,
  [types.BYTEA]: (value: string) => {
    // text format '\x0102…'
    return Buffer.from(value.startsWith('\\x') ? value.slice(2) : value, 'hex');
  },
};

function toBufferDeep(row: Record<string, unknown>): Record<string, unknown> {
  for (const key of Object.keys(row)) {
    const value = row[key];
    if (value instanceof Uint8Array && !Buffer.isBuffer(value)) {
      row[key] = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    }
  }
  return row;
}

/** FIFO mutex: the single database session is held by at most one checkout. */
export class SessionLock {
  private held = false;
  private readonly waiters: (() => void)[] = [];

  acquire(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.held = false;
  }
}

/** A checked-out session. Mirrors the subset of `pg.PoolClient` TypeORM uses. */
export class PgliteClient extends EventEmitter {
  constructor(private readonly db: PGlite) {
    super();
  }

  async query(
    text: string | { text: string; values?: unknown[] },
    values?: unknown[],
  ): Promise<QueryResultLike> {
    const sql = typeof text === 'string' ? text : text.text;
    const params = (typeof text === 'string' ? values : text.values) ?? [];
    if (params.length === 0) {
      // simple protocol: allows several statements (as `pg` does without parameters)
      const results = await this.db.exec(sql);
      const last = results[results.length - 1];
      return shape(last ?? { rows: [], fields: [], affectedRows: 0 }, sql);
    }
    const result = await this.db.query<Record<string, unknown>>(sql, params.map(serialise));
    return shape(result, sql);
  }

  release(): void {
    // released through the callback given to `connect`
  }
}

function serialise(value: unknown): unknown {
  // pg sends Buffers as bytea and Dates as timestamps; PGlite wants Uint8Array / ISO text
  if (Buffer.isBuffer(value))
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof Date) return value.toISOString();
  return value;
}

function shape(
  result: {
    rows: unknown[];
    fields: { name: string; dataTypeID: number }[];
    affectedRows?: number;
    command?: string;
    rowCount?: number;
  },
  sql: string,
): QueryResultLike {
  const command = result.command ?? /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? '';
  const rows = (result.rows as Record<string, unknown>[]).map(toBufferDeep);
  return {
    rows,
    rowCount: command === 'SELECT' ? rows.length : (result.affectedRows ?? result.rowCount ?? 0),
    command,
    fields: result.fields,
  };
}

/** A `pg.Pool` look-alike of size one over a PGlite database. */
export class PglitePool extends EventEmitter {
  private ended = false;

  constructor(
    readonly db: PGlite,
    private readonly lock: SessionLock,
  ) {
    super();
  }

  connect(): Promise<PgliteClient>;
  connect(callback: ConnectCallback): void;
  connect(callback?: ConnectCallback): Promise<PgliteClient> | void {
    const checkout = async (): Promise<[PgliteClient, () => void]> => {
      if (this.ended) throw new Error('The embedded database pool has been closed');
      await this.lock.acquire();
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        this.lock.release();
      };
      return [new PgliteClient(this.db), release];
    };
    if (callback) {
      checkout().then(
        ([client, release]) => callback(undefined, client, release),
        (err: Error) => callback(err),
      );
      return;
    }
    return checkout().then(([client, release]) => {
      client.release = release;
      return client;
    });
  }

  /** As `pg.Pool.query`; a config's `name` (a prepared statement's) is ignored. */
  async query(
    text: string | { text: string; values?: unknown[]; name?: string },
    values?: unknown[],
  ): Promise<QueryResultLike> {
    const client = await this.connect();
    try {
      return await client.query(text, values);
    } finally {
      client.release();
    }
  }

  end(callback?: (err?: Error) => void): Promise<void> | void {
    this.ended = true;
    // the PGlite instance is owned (and closed) by whoever created it
    if (callback) {
      callback();
      return;
    }
    return Promise.resolve();
  }
}

/**
 * Opens (creating if needed) the embedded database in `dataDir` (undefined = in memory)
 * and returns a driver module for TypeORM's `driver` option.
 */
export async function openPglite(
  dataDir: string | undefined,
): Promise<{ db: PGlite; driver: object }> {
  // (the one-argument form: with `undefined` as the first argument PGlite ignores the options)
  const db = new PGlite(
    dataDir === undefined ? { parsers: PARSERS } : { dataDir, parsers: PARSERS },
  );
  await db.waitReady;
  const lock = new SessionLock();
  // TypeORM calls `new driver.Pool(options)`; every pool shares the one session lock.
  class Pool extends PglitePool {
    constructor() {
      super(db, lock);
    }
  }
  return { db, driver: { Pool, defaults: {} } };
}
