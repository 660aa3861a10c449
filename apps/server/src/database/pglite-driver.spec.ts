import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/test-database.js';
import { databaseOptions } from './database-options.js';

/**
 * The embedded database must behave like pooled PostgreSQL under concurrent
 * transactions (STACK.md: the published adapter let one ROLLBACK undo another
 * transaction's committed insert). The same tests run on PostgreSQL for parity.
 */
const targets: [string, () => Promise<{ ds: DataSource; close: () => Promise<void> }>][] = [
  [
    'embedded (PGlite)',
    async () => {
      const { options, embedded } = await databaseOptions({
        databaseUrl: undefined,
        dataDir: 'memory',
      });
      const ds = await new DataSource(options).initialize();
      return { ds, close: async () => (await ds.destroy(), await embedded?.close()) };
    },
  ],
];
if (process.env.TEST_DATABASE_URL) {
  targets.push([
    'PostgreSQL',
    async () => {
      const db: TestDatabase = await createTestDatabase();
      const { options } = await databaseOptions({ databaseUrl: db.url, dataDir: 'memory' });
      const ds = await new DataSource(options).initialize();
      return { ds, close: async () => (await ds.destroy(), await db.drop()) };
    },
  ]);
}

describe.each(targets)('database on %s', (_name, open) => {
  let ds: DataSource;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ ds, close } = await open());
    await ds.query('CREATE TABLE t_overlap (v text PRIMARY KEY)');
  });
  afterAll(async () => {
    await close?.();
  });

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('ran the committed migrations at start-up', async () => {
    const rows: { name: string }[] = await ds.query('SELECT name FROM migrations ORDER BY id');
    expect(rows.map((r) => r.name)).toContain('Initial1764100000000');
  });

  it('keeps a committed insert when an overlapping transaction rolls back', async () => {
    const committed = ds.transaction(async (m) => {
      await m.query(`INSERT INTO t_overlap VALUES ('kept')`);
      await sleep(50);
    });
    const rolledBack = ds
      .transaction(async (m) => {
        await m.query(`INSERT INTO t_overlap VALUES ('undone')`);
        await sleep(10);
        throw new Error('roll me back');
      })
      .catch((e: Error) => e.message);
    expect(await rolledBack).toBe('roll me back');
    await committed;
    const rows: { v: string }[] = await ds.query(
      `SELECT v FROM t_overlap WHERE v IN ('kept', 'undone')`,
    );
    expect(rows.map((r) => r.v)).toEqual(['kept']);
  });

  it('loses nothing across 40 interleaved transactions, half rolled back, with plain queries between', async () => {
    const work = Array.from({ length: 40 }, (_, i) =>
      ds
        .transaction(async (m) => {
          await m.query('INSERT INTO t_overlap VALUES ($1)', [`n${i}`]);
          await sleep(i % 3);
          await m.query('SELECT count(*) FROM t_overlap');
          if (i % 2 === 1) throw new Error('rollback');
        })
        .catch(() => undefined),
    );
    const reads = Array.from({ length: 10 }, () => ds.query('SELECT 1 AS one'));
    await Promise.all([...work, ...reads]);
    const rows: { v: string }[] = await ds.query(
      `SELECT v FROM t_overlap WHERE v LIKE 'n%' ORDER BY v`,
    );
    const expected = Array.from({ length: 20 }, (_, i) => `n${i * 2}`).sort();
    expect(rows.map((r) => r.v)).toEqual(expected);
  });

  it('returns int8 as string, bytea as Buffer and timestamptz as Date, like pg', async () => {
    const [row] = await ds.query<{ big: unknown; bin: unknown; at: unknown; param: unknown }[]>(
      `SELECT 9007199254740993::int8 AS big, '\\x00ff'::bytea AS bin, '2026-11-25T08:00:00Z'::timestamptz AS at, $1::bytea AS param`,
      [Buffer.from([1, 2, 3])],
    );
    expect(row?.big).toBe('9007199254740993');
    expect(Buffer.isBuffer(row?.bin) && row.bin.equals(Buffer.from([0, 255]))).toBe(true);
    expect(Buffer.isBuffer(row?.param) && row.param.equals(Buffer.from([1, 2, 3]))).toBe(true);
    expect(row?.at).toEqual(new Date('2026-11-25T08:00:00Z'));
  });

  it('reports affected rows of UPDATE and DELETE', async () => {
    await ds.query(`INSERT INTO t_overlap VALUES ('u1'), ('u2')`);
    const [, updated] = await ds.query<[unknown, number]>(
      `UPDATE t_overlap SET v = v || 'x' WHERE v IN ('u1', 'u2')`,
    );
    expect(updated).toBe(2);
    const [, deleted] = await ds.query<[unknown, number]>(`DELETE FROM t_overlap WHERE v = $1`, [
      'u1x',
    ]);
    expect(deleted).toBe(1);
  });
});
