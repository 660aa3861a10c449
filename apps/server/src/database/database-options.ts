import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type PGlite } from '@electric-sql/pglite';
import { type DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities.js';
import { MIGRATIONS } from './migrations/index.js';
import { openPglite } from './pglite-driver.js';

/** Where the data lives: a PostgreSQL URL, or the embedded database in a directory. */
export interface DatabaseTarget {
  databaseUrl: string | undefined;
  /** Directory of the embedded database; `memory` keeps it in memory (tests). */
  dataDir: string;
  /** Max pooled PostgreSQL connections. */
  poolSize?: number;
}

/** The TypeORM options, and the embedded database to close at shutdown if one was opened. */
export async function databaseOptions(
  target: DatabaseTarget,
): Promise<{ options: DataSourceOptions; embedded?: PGlite }> {
  const common = {
    type: 'postgres' as const,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: true,
    migrationsTransactionMode: 'each' as const,
    synchronize: false,
    // gen_random_uuid() is built in (PostgreSQL ≥ 13 and PGlite); install nothing
    uuidExtension: 'pgcrypto' as const,
    installExtensions: false,
    logging: ['error' as const, 'warn' as const, 'migration' as const],
  };
  if (target.databaseUrl) {
    return {
      options: {
        ...common,
        url: target.databaseUrl,
        poolSize: target.poolSize ?? 20,
        applicationName: 'irp-server',
      },
    };
  }
  let dir: string | undefined;
  if (target.dataDir !== 'memory') {
    dir = join(target.dataDir, 'pgdata');
    await mkdir(dir, { recursive: true, mode: 0o700 });
  }
  const { db, driver } = await openPglite(dir);
  return { options: { ...common, driver, database: 'postgres', poolSize: 1 }, embedded: db };
}
