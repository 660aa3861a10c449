import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/test-database.js';
import { databaseOptions } from '../database/database-options.js';

const MINE = ['Audit1764200000000', 'Identity1764200000001'];
const TABLES = [
  'irp_audit_log',
  'irp_user',
  'irp_enrollment_code',
  'irp_login_throttle',
  'irp_rate_limit',
];

/** The identity and audit migrations go down and up again (house rule 7), on the test database. */
describe('identity and audit migrations', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let closeEmbedded: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    const { options, embedded } = await databaseOptions({ databaseUrl: db.url, dataDir: 'memory' });
    ds = await new DataSource(options).initialize();
    closeEmbedded = embedded ? () => embedded.close() : undefined;
  });
  afterAll(async () => {
    await ds?.destroy();
    await closeEmbedded?.();
    await db?.drop();
  });

  async function tables(): Promise<string[]> {
    const rows = await ds.query<{ table_name: string }[]>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name = ANY($1)`,
      [TABLES],
    );
    return rows.map((r) => r.table_name).sort();
  }
  async function applied(): Promise<string[]> {
    const rows = await ds.query<{ name: string }[]>('SELECT name FROM migrations ORDER BY id');
    return rows.map((r) => r.name);
  }

  it('are applied at start-up', async () => {
    expect(await applied()).toEqual(expect.arrayContaining(MINE));
    expect(await tables()).toEqual([...TABLES].sort());
  });

  it('undo cleanly (with any later migrations undone first) and apply again', async () => {
    while ((await applied()).some((name) => MINE.includes(name))) await ds.undoLastMigration();
    expect(await tables()).toEqual([]);
    const functions = await ds.query<unknown[]>(
      `SELECT 1 FROM pg_proc WHERE proname = 'irp_audit_log_append_only'`,
    );
    expect(functions).toHaveLength(0);
    await ds.runMigrations();
    expect(await tables()).toEqual([...TABLES].sort());
    await expect(ds.query('DELETE FROM irp_audit_log')).rejects.toThrow(/append-only/);
  });
});
