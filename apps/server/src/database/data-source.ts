import { DataSource } from 'typeorm';
import { ENTITIES } from './entities.js';
import { MIGRATIONS } from './migrations/index.js';

/**
 * The one DataSource the TypeORM CLI loads (`npm run migration:generate`). It reads
 * DATABASE_URL directly because the CLI runs outside the Nest application.
 */
export default new DataSource({
  type: 'postgres',
  url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/irp',
  entities: ENTITIES,
  migrations: MIGRATIONS,
  uuidExtension: 'pgcrypto',
  installExtensions: false,
});
