import { Inject, Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { type PGlite } from '@electric-sql/pglite';
import { DataSource } from 'typeorm';
import { IRP_CONFIG } from '../config/config.module.js';
import { type IrpConfig } from '../config/config.schema.js';
import { databaseOptions } from './database-options.js';

/** The embedded database of this application, if it uses one (closed after TypeORM). */
@Injectable()
export class EmbeddedDatabase {
  db: PGlite | undefined;
}

@Module({ providers: [EmbeddedDatabase], exports: [EmbeddedDatabase] })
class EmbeddedDatabaseModule {}

/**
 * PostgreSQL through TypeORM: `DATABASE_URL`, else the embedded PGlite database in
 * `IRP_DATA_DIR/pgdata`. Migrations run at start-up; `synchronize` is never on.
 */
@Module({
  imports: [
    EmbeddedDatabaseModule,
    TypeOrmModule.forRootAsync({
      imports: [EmbeddedDatabaseModule],
      inject: [IRP_CONFIG, EmbeddedDatabase],
      useFactory: async (config: IrpConfig, holder: EmbeddedDatabase) => {
        const { options, embedded } = await databaseOptions(config);
        holder.db = embedded;
        new Logger('Database').log(
          config.databaseUrl
            ? 'Using PostgreSQL (DATABASE_URL)'
            : `Using the embedded database in ${config.dataDir}`,
        );
        return options;
      },
      dataSourceFactory: async (options) => {
        if (!options) throw new Error('No database options');
        return new DataSource(options).initialize();
      },
    }),
  ],
  exports: [EmbeddedDatabaseModule],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly embedded: EmbeddedDatabase,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    const db = this.embedded.db;
    this.embedded.db = undefined;
    if (db && !db.closed) await db.close();
  }
}
