import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PresenceNotify, ResultCode } from '@irp/protocol';
import { EVENT_BUS } from '../../apps/server/src/events/event-bus.js';
import { PostgresEventBus } from '../../apps/server/src/events/postgres-event-bus.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { ADDRESS_ENV, type UserClient, login, newUser, settle } from './addresses-support.js';

/**
 * Two server instances (two Nest apps, two ports) on ONE PostgreSQL database: changes
 * made on one reach subscribers on the other (spec §8). The embedded database is one
 * process's, so this needs TEST_DATABASE_URL.
 */
describe.skipIf(!process.env.TEST_DATABASE_URL)('address registry across two instances', () => {
  let database: TestDatabase;
  let dataDir: string;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = await mkdtemp(join(tmpdir(), 'irp-cluster-'));
    const env = { ...ADDRESS_ENV, IRP_ALLOW_LOCAL_ADDRESSES: 'true' };
    a = await startTestServer(env, { database, dataDir });
    b = await startTestServer(env, { database, dataDir });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** A user logged in on both instances. */
  async function onBoth(prefix: string): Promise<[UserClient, UserClient]> {
    const onA = await newUser(a, prefix);
    return [onA, await login(b, onA.userId)];
  }

  it('runs two instances on different ports', () => {
    expect(a.irpPort).not.toBe(b.irpPort);
  });

  it('a subscriber on A gets presence within 1 s of registerAddress on B, and of unregisterAddress', async () => {
    const subscriber = await newUser(a, 'sub');
    const [, ownerOnB] = await onBoth('own');
    await subscriber.client.call({ cmd: 'subscribe', users: [ownerOnB.address] });
    expect(await subscriber.notify(0)).toEqual({
      event: 'presence',
      user: ownerOnB.address,
      bindings: [],
    });

    await ownerOnB.client.call({
      cmd: 'registerAddress',
      device: 'b',
      addresses: [{ family: 'ipv4', address: '192.0.2.40' }],
    });
    const registered = Date.now();
    const presence = (await subscriber.notify(1, 1000)) as PresenceNotify;
    expect(Date.now() - registered).toBeLessThan(1000);
    expect(presence.bindings.map((x) => x.addresses[0]!.address)).toEqual(['192.0.2.40']);

    await ownerOnB.client.call({ cmd: 'unregisterAddress', device: 'b' });
    const unregistered = Date.now();
    expect(await subscriber.notify(2, 1000)).toEqual({
      event: 'presence',
      user: ownerOnB.address,
      bindings: [],
    });
    expect(Date.now() - unregistered).toBeLessThan(1000);
  });

  it('accepts loopback and link-local when IRP_ALLOW_LOCAL_ADDRESSES=true, never IPv4-mapped', async () => {
    const u = await newUser(b, 'local');
    const ok = await u.client.request({
      cmd: 'registerAddress',
      addresses: [
        { family: 'ipv4', address: '127.0.0.1', port: 4605 },
        { family: 'ipv6', address: 'FE80::1' },
      ],
    });
    expect(ok.result.code).toBe(ResultCode.Success);
    if (ok.cmd !== 'registerAddress') throw new Error('unexpected response');
    expect(ok.data.binding?.addresses.map((x) => x.address)).toEqual(['127.0.0.1', 'fe80::1']);
    const mapped = await u.client.request({
      cmd: 'registerAddress',
      addresses: [{ family: 'ipv6', address: '::ffff:127.0.0.1' }],
    });
    expect(mapped.result.code).toBe(ResultCode.PolicyError);
  });

  it('watch requests and approvals cross instances', async () => {
    const [ownerOnA] = await onBoth('guard');
    const asker = await newUser(a, 'ask', b);
    await ownerOnA.client.call({ cmd: 'setAddressPolicy', visibility: 'watchers' });
    expect(
      (await asker.client.request({ cmd: 'subscribe', users: [ownerOnA.userId] })).result.code,
    ).toBe(ResultCode.SuccessPending);
    expect(await ownerOnA.notify(0)).toEqual({ event: 'watch-request', user: asker.address });
    await ownerOnA.client.call({ cmd: 'approveWatcher', user: asker.userId });
    expect(await asker.notify(0)).toEqual({
      event: 'presence',
      user: ownerOnA.address,
      bindings: [],
    });
    await ownerOnA.client.call({ cmd: 'removeWatcher', user: asker.userId });
    expect(await asker.notify(1)).toEqual({ event: 'watch-removed', user: ownerOnA.address });
  });

  it('a lookup on A sees a change made on B (the cache follows the events)', async () => {
    const viewer = await newUser(a, 'view');
    const [, ownerOnB] = await onBoth('cached');
    await ownerOnB.client.call({
      cmd: 'registerAddress',
      addresses: [{ family: 'ipv4', address: '192.0.2.50' }],
    });
    await settle(50);
    const first = await viewer.client.call({ cmd: 'lookupAddress', user: ownerOnB.userId });
    expect(first.bindings?.[0]?.addresses[0]?.address).toBe('192.0.2.50');
    await ownerOnB.client.call({
      cmd: 'registerAddress',
      addresses: [{ family: 'ipv4', address: '192.0.2.51' }],
    });
    await settle(100);
    const second = await viewer.client.call({ cmd: 'lookupAddress', user: ownerOnB.userId });
    expect(second.bindings?.[0]?.addresses[0]?.address).toBe('192.0.2.51');
  });

  it('recovers when the LISTEN connection of A breaks: resyncs subscribers, then delivers again', async () => {
    const subscriber = await newUser(a, 'resync');
    const [, ownerOnB] = await onBoth('flaky');
    await subscriber.client.call({ cmd: 'subscribe', users: [ownerOnB.userId] });
    await subscriber.notify(0);
    const bus = a.app.get<PostgresEventBus>(EVENT_BUS);
    expect(bus).toBeInstanceOf(PostgresEventBus);
    await bus.breakConnectionForTest();
    // after the reconnect every watched owner is pushed once (events may have been missed)
    expect(await subscriber.notify(1, 5000)).toEqual({
      event: 'presence',
      user: ownerOnB.address,
      bindings: [],
    });
    expect(bus.healthy).toBe(true);
    await ownerOnB.client.call({
      cmd: 'registerAddress',
      addresses: [{ family: 'ipv4', address: '192.0.2.60' }],
    });
    const presence = (await subscriber.notify(2, 1000)) as PresenceNotify;
    expect(presence.bindings).toHaveLength(1);
  });
});
