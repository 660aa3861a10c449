import { type BeforeApplicationShutdown, Inject, Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { type DataSource } from 'typeorm';
import { IRP_CONFIG } from '../config/config.module.js';
import { type IrpConfig } from '../config/config.schema.js';
import { DatabaseModule, EmbeddedDatabase } from '../database/database.module.js';
import { EmbeddedEventBus } from './embedded-event-bus.js';
import { EVENT_BUS, type EventBus } from './event-bus.js';
import { PostgresEventBus } from './postgres-event-bus.js';

/**
 * The deployment-wide event bus behind {@link EVENT_BUS}: PostgreSQL LISTEN/NOTIFY on
 * a dedicated connection with `DATABASE_URL`, PGlite's listen on the embedded
 * database. Another engine (NATS) plugs in by providing another {@link EventBus}.
 */
@Module({
  imports: [DatabaseModule],
  providers: [
    {
      provide: EVENT_BUS,
      inject: [IRP_CONFIG, EmbeddedDatabase, getDataSourceToken()],
      useFactory: (
        config: IrpConfig,
        embedded: EmbeddedDatabase,
        dataSource: DataSource,
      ): EventBus => {
        if (config.databaseUrl) return new PostgresEventBus(config.databaseUrl);
        if (!embedded.db) throw new Error('The embedded database is not open');
        return new EmbeddedEventBus(embedded.db, dataSource);
      },
    },
  ],
  exports: [EVENT_BUS],
})
export class EventsModule implements BeforeApplicationShutdown {
  constructor(@Inject(EVENT_BUS) private readonly bus: EventBus) {}

  /** Stops listening before the database is closed (its hook runs after this one). */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.bus instanceof PostgresEventBus || this.bus instanceof EmbeddedEventBus)
      await this.bus.close();
  }
}
