import { Test, type TestingModule } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/test-database.js';
import { ConfigModule } from '../config/config.module.js';
import { loadConfig } from '../config/config.schema.js';
import { DatabaseModule } from '../database/database.module.js';
import { EmbeddedEventBus } from './embedded-event-bus.js';
import { EVENT_BUS, type EventBus, channelOf } from './event-bus.js';
import { EventsModule } from './events.module.js';
import { PostgresEventBus } from './postgres-event-bus.js';

/** The bus of the test database: PostgreSQL LISTEN/NOTIFY, or PGlite's. */
describe('EventBus', () => {
  let database: TestDatabase;
  let moduleRef: TestingModule;
  let bus: EventBus;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
    const config = loadConfig({
      IRP_DATA_DIR: 'memory',
      IRP_LOG_LEVEL: 'warn',
      ...(database.url ? { DATABASE_URL: database.url } : {}),
    });
    moduleRef = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(config), DatabaseModule, EventsModule],
    }).compile();
    await moduleRef.init();
    bus = moduleRef.get(EVENT_BUS);
    dataSource = moduleRef.get(DataSource);
  });
  afterAll(async () => {
    await moduleRef?.close();
    await database?.drop();
  });

  function receiver(): { got: string[]; nth(index: number, ms?: number): Promise<string> } {
    const got: string[] = [];
    return {
      got,
      async nth(index, ms = 2000) {
        const deadline = Date.now() + ms;
        while (got.length <= index) {
          if (Date.now() > deadline) throw new Error('no event');
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        return got[index]!;
      },
    };
  }

  it('is the implementation for the database in use', () => {
    expect(bus).toBeInstanceOf(database.url ? PostgresEventBus : EmbeddedEventBus);
    expect(bus.healthy).toBe(true);
  });

  it('delivers an event published in a transaction only after the commit', async () => {
    const r = receiver();
    const stop = await bus.subscribe('test_commit', (p) => r.got.push(p));
    await dataSource.transaction(async (m) => {
      await bus.publish(m, 'test_commit', 'one');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(r.got).toEqual([]);
    });
    expect(await r.nth(0)).toBe('one');
    stop();
  });

  it('never delivers an event of a rolled-back transaction', async () => {
    const r = receiver();
    const stop = await bus.subscribe('test_rollback', (p) => r.got.push(p));
    await expect(
      dataSource.transaction(async (m) => {
        await bus.publish(m, 'test_rollback', 'lost');
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    await dataSource.transaction((m) => bus.publish(m, 'test_rollback', 'kept'));
    expect(await r.nth(0)).toBe('kept');
    expect(r.got).toEqual(['kept']);
    stop();
  });

  it('hands each event to every handler of its topic only, in publication order', async () => {
    const [x1, x2, y] = [receiver(), receiver(), receiver()];
    const stops = [
      await bus.subscribe('test_x', (p) => x1.got.push(p)),
      await bus.subscribe('test_x', (p) => x2.got.push(p)),
      await bus.subscribe('test_y', (p) => y.got.push(p)),
    ];
    for (const p of ['1', '2', '3'])
      await dataSource.transaction((m) => bus.publish(m, 'test_x', p));
    await x1.nth(2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(x1.got).toEqual(['1', '2', '3']);
    expect(x2.got).toEqual(['1', '2', '3']);
    expect(y.got).toEqual([]);
    stops.forEach((stop) => stop());
  });

  it('refuses large payloads and bad topic names', async () => {
    await expect(
      dataSource.transaction((m) => bus.publish(m, 'test_x', 'x'.repeat(2000))),
    ).rejects.toThrow(/too large/);
    expect(() => channelOf('Bad Topic')).toThrow();
    expect(channelOf('addresses')).toBe('irp_addresses');
  });
});
