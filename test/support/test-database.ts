import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A database of one test file: a fresh PostgreSQL database, or the embedded one. */
export interface TestDatabase {
  /** URL of the fresh database, or undefined for the embedded (PGlite) database. */
  url: string | undefined;
  drop(): Promise<void>;
}

/**
 * With TEST_DATABASE_URL (CI sets it), creates a fresh database on that server so each
 * test file is isolated; without it, tests use the embedded database.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const admin = process.env.TEST_DATABASE_URL;
  if (!admin) return { url: undefined, drop: () => Promise.resolve() };
  const name = `irp_t_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
