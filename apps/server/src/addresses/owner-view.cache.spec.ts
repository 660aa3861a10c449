import { type Mock, afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ResultCode } from '@irp/protocol';
import { type Actor } from '../audit/actor.js';
import { DomainError } from '../common/domain.error.js';
import { domainErrorToResultCode } from '../common/domain-error.mapping.js';
import { EVENT_BUS, type EventBus } from '../events/event-bus.js';
import { UsersService } from '../identity/users.service.js';
import { ADDRESS_TOPIC, decodeAddressEvent, encodeAddressEvent } from './address-events.js';
import { type ObservedSource } from './address-registry.service.js';
import { OwnerViewCache } from './owner-view.cache.js';
import {
  type AddressesTestContext,
  type TestUser,
  startAddressServices,
} from './testing/addresses-testing.js';
import { type UserCertificates } from './user-certificates.js';

const OBSERVED: ObservedSource = { address: '198.51.100.7', family: 'ipv4', port: 50123 };
const OPERATOR: Actor = { kind: 'operator', id: 'cache-spec', authMethod: 'test' };
const FP_1 = '11'.repeat(32);
const FP_2 = '22'.repeat(32);
const PASSWORD = 'Owner-view-cache-password-1';

/** Polls `probe` until `done` holds of its value (at most `ms`); returns the last value. */
async function within<T>(ms: number, probe: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await probe();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    value = await probe();
  }
  return value;
}

async function codeOf(p: Promise<unknown>): Promise<number | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (error) {
    if (error instanceof DomainError) return domainErrorToResultCode(error.code);
    throw error;
  }
}

/** Certificates of a test: fingerprints per user key, counting the reads. */
function fakeCertificates(): UserCertificates & {
  of: Map<string, string[]>;
  reads: Mock<(userKey: string) => Promise<string[]>>;
} {
  const of = new Map<string, string[]>();
  const reads = vi.fn((userKey: string) => Promise.resolve([...(of.get(userKey) ?? [])]));
  return {
    of,
    reads,
    validFingerprints: (userKey) => reads(userKey),
    certificateOfUser: () => Promise.resolve(undefined),
  };
}

/** The owner-view cache on one instance: what each kind of change invalidates. */
describe('OwnerViewCache', () => {
  let t: AddressesTestContext;
  let cache: OwnerViewCache;
  let bus: EventBus;
  let users: UsersService;
  let certs: ReturnType<typeof fakeCertificates>;
  let previous: UserCertificates;
  let n = 0;
  const fresh = (prefix: string): Promise<TestUser> => t.user(`${prefix}${++n}`);
  const register = (u: TestUser, address: string) =>
    t.registry.register(
      u,
      { device: 'laptop', addresses: [{ family: 'ipv4', address }], expires: 600 },
      OBSERVED,
    );

  beforeAll(async () => {
    t = await startAddressServices();
    cache = t.moduleRef.get(OwnerViewCache);
    bus = t.moduleRef.get(EVENT_BUS);
    users = t.moduleRef.get(UsersService);
    certs = fakeCertificates();
    previous = t.certificates.use(certs);
  });
  afterAll(async () => {
    t?.certificates.use(previous);
    await t?.close();
  });

  it('encodes binding-only and certificate presence events compatibly', () => {
    expect(JSON.parse(encodeAddressEvent({ k: 'presence', o: 'a' }))).toEqual({
      k: 'presence',
      o: 'a',
      b: 1,
    });
    // the original shape: instances of every version drop everything of the owner
    expect(JSON.parse(encodeAddressEvent({ k: 'presence', o: 'a', certificates: true }))).toEqual({
      k: 'presence',
      o: 'a',
    });
    expect(decodeAddressEvent('{"k":"presence","o":"a"}')).toEqual({
      k: 'presence',
      o: 'a',
      certificates: true,
    });
    expect(decodeAddressEvent('{"k":"presence","o":"a","b":1}')).toEqual({ k: 'presence', o: 'a' });
    expect(decodeAddressEvent('{"k":"presence","o":"a","b":2}')).toEqual({
      k: 'presence',
      o: 'a',
      certificates: true,
    });
  });

  it('registrations keep the fingerprints: no certificate read per registerAddress', async () => {
    const owner = await fresh('fpkeep');
    const viewer = await fresh('fpview');
    certs.of.set(owner.userKey, [FP_1]);
    const before = certs.reads.mock.calls.length;
    for (let i = 1; i <= 5; i++) {
      const { binding } = await register(owner, `192.0.2.${i}`);
      expect(binding?.certificates).toEqual([FP_1]);
      const look = await t.registry.lookup(viewer, owner.userId);
      if ('referral' in look) throw new Error('unexpected referral');
      expect(look.bindings.map((b) => [b.addresses[0]!.address, b.certificates])).toEqual([
        [`192.0.2.${i}`, [FP_1]],
      ]);
    }
    await t.registry.unregister(owner, 'laptop');
    await register(owner, '192.0.2.9');
    await t.hub.idle();
    expect(certs.reads.mock.calls.length - before).toBe(1);
  });

  it('a certificate change (certificatesChanged, via the event) reloads the fingerprints', async () => {
    const owner = await fresh('fpchange');
    const viewer = await fresh('fpwatch');
    certs.of.set(owner.userKey, [FP_1]);
    await register(owner, '192.0.2.20');
    const fingerprintsSeen = async () => {
      const look = await t.registry.lookup(viewer, owner.userId);
      return 'referral' in look ? undefined : look.bindings[0]!.certificates;
    };
    expect(await fingerprintsSeen()).toEqual([FP_1]);

    certs.of.set(owner.userKey, [FP_1, FP_2]); // issued
    await t.dataSource.transaction((m) => t.registry.certificatesChanged(m, owner.userKey));
    expect(await within(1000, fingerprintsSeen, (s) => s?.length === 2)).toEqual([FP_1, FP_2]);

    certs.of.set(owner.userKey, [FP_2]); // revoked
    await t.dataSource.transaction((m) => t.registry.certificatesChanged(m, owner.userKey));
    expect(await within(1000, fingerprintsSeen, (s) => s?.length === 1)).toEqual([FP_2]);
    // and a registration after it shows the new list too
    expect((await register(owner, '192.0.2.21')).binding?.certificates).toEqual([FP_2]);
  });

  it('an address event of the old shape (no "b") drops the fingerprints too', async () => {
    const owner = await fresh('fpold');
    certs.of.set(owner.userKey, [FP_1]);
    expect(await cache.fingerprints(owner.userKey)).toEqual([FP_1]);
    certs.of.set(owner.userKey, [FP_2]);
    expect(await cache.fingerprints(owner.userKey)).toEqual([FP_1]); // cached
    // a binding-only event keeps them
    await t.dataSource.transaction((m) =>
      bus.publish(m, ADDRESS_TOPIC, JSON.stringify({ k: 'presence', o: owner.userKey, b: 1 })),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await cache.fingerprints(owner.userKey)).toEqual([FP_1]);
    await t.dataSource.transaction((m) =>
      bus.publish(m, ADDRESS_TOPIC, JSON.stringify({ k: 'presence', o: owner.userKey })),
    );
    expect(
      await within(
        1000,
        () => cache.fingerprints(owner.userKey),
        (s) => s[0] === FP_2,
      ),
    ).toEqual([FP_2]);
  });

  it('disabling a user is seen by the next lookup (user_changed), enabling too', async () => {
    const viewer = await fresh('disview');
    const owner = `disowner${++n}`;
    await users.createUser(OPERATOR, { userId: owner, password: PASSWORD, profile: {} });
    const code = () => codeOf(t.registry.lookup(viewer, owner));
    expect(await code()).toBe('ok');
    expect(await code()).toBe('ok'); // from the cache
    // a change made on this instance is seen at once, on both databases: the user-state
    // cache tells the owner-view cache right after the commit (PostgreSQL's NOTIFY only
    // arrives a moment later; the cluster e2e covers other instances)
    await users.disableUser(OPERATOR, owner);
    expect(await code()).toBe(ResultCode.StatusProhibits);
    await users.enableUser(OPERATOR, owner);
    expect(await code()).toBe('ok');
  });
});
