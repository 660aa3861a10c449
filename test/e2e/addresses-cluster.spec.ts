import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCsr, generateKeyPair } from '@irp/pki';
import { type PresenceNotify, ResultCode } from '@irp/protocol';
import { EVENT_BUS } from '../../apps/server/src/events/event-bus.js';
import { PostgresEventBus } from '../../apps/server/src/events/postgres-event-bus.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { UsersService } from '../../apps/server/src/identity/users.service.js';
import {
  ADDRESS_ENV,
  OPERATOR,
  type UserClient,
  login,
  newUser,
  settle,
  within,
} from './addresses-support.js';

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

  it("a lookup on A sees certificates issued and revoked on B, and B's registrations, within 1 s", async () => {
    const viewer = await newUser(a, 'fpview');
    const [, ownerOnB] = await onBoth('fpown');
    await ownerOnB.client.call({
      cmd: 'registerAddress',
      addresses: [{ family: 'ipv4', address: '192.0.2.70' }],
    });
    const lookup = () =>
      viewer.client.call({ cmd: 'lookupAddress', user: ownerOnB.userId }).then((r) => r.bindings!);
    // A caches the owner's view, fingerprints included
    expect((await within(1000, lookup, (b) => b.length === 1))[0]!.certificates).toEqual([]);
    expect((await lookup())[0]!.certificates).toEqual([]);

    const key = await generateKeyPair('P-256');
    const issued = await ownerOnB.client.call({
      cmd: 'requestCertificate',
      profile: 'device',
      key: { kind: 'csr', csr: buildCsr({ privateKey: key.privateKey }).pem },
    });
    const certificate = issued.certificate!;
    let since = Date.now();
    const withCert = await within(1000, lookup, (b) => b[0]!.certificates.length > 0);
    expect(withCert[0]!.certificates).toEqual([certificate.sha256]);
    expect(Date.now() - since).toBeLessThan(1000);

    // a registration on B: new bindings on A, the fingerprints kept
    await ownerOnB.client.call({
      cmd: 'registerAddress',
      addresses: [{ family: 'ipv4', address: '192.0.2.71' }],
    });
    since = Date.now();
    const moved = await within(1000, lookup, (b) => b[0]!.addresses[0]!.address === '192.0.2.71');
    expect(moved.map((b) => [b.addresses[0]!.address, b.certificates])).toEqual([
      ['192.0.2.71', [certificate.sha256]],
    ]);
    expect(Date.now() - since).toBeLessThan(1000);

    await ownerOnB.client.call({
      cmd: 'revokeCertificate',
      serial: certificate.serial,
      reason: 'keyCompromise',
    });
    since = Date.now();
    const revoked = await within(1000, lookup, (b) => b[0]!.certificates.length === 0);
    expect(revoked.map((b) => [b.addresses[0]!.address, b.certificates])).toEqual([
      ['192.0.2.71', []],
    ]);
    expect(Date.now() - since).toBeLessThan(1000);
  });

  it('a user disabled on B is refused by lookups on A within 1 s (2304), and back once enabled', async () => {
    const viewer = await newUser(a, 'disview');
    const [, ownerOnB] = await onBoth('disown');
    const code = () =>
      viewer.client
        .request({ cmd: 'lookupAddress', user: ownerOnB.userId })
        .then((r) => r.result.code);
    expect(await code()).toBe(ResultCode.Success);
    expect(await code()).toBe(ResultCode.Success); // A caches the owner's status

    const users = b.app.get(UsersService);
    await users.disableUser(OPERATOR, ownerOnB.userId);
    let since = Date.now();
    expect(await within(1000, code, (c) => c !== ResultCode.Success)).toBe(
      ResultCode.StatusProhibits,
    );
    expect(Date.now() - since).toBeLessThan(1000);

    await users.enableUser(OPERATOR, ownerOnB.userId);
    since = Date.now();
    expect(await within(1000, code, (c) => c === ResultCode.Success)).toBe(ResultCode.Success);
    expect(Date.now() - since).toBeLessThan(1000);
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
