import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ResultCode } from '@irp/protocol';
import { DomainError, DomainErrorCode } from '../common/domain.error.js';
import { domainErrorToResultCode } from '../common/domain-error.mapping.js';
import { EVENT_BUS, type EventBus, type Unsubscribe } from '../events/event-bus.js';
import { ADDRESS_TOPIC, decodeAddressEvent } from './address-events.js';
import { type ObservedSource } from './address-registry.service.js';
import { AddressRepository } from './address.repository.js';
import { CommitOutcomeUnknown } from '../database/group-commit-queue.js';
import { settle } from '../database/testing/settle.js';
import { MAX_BATCH } from './registration-batcher.js';
import {
  type AddressesTestContext,
  type TestUser,
  eventually,
  startAddressServices,
} from './testing/addresses-testing.js';

const OBSERVED: ObservedSource = { address: '198.51.100.7', family: 'ipv4', port: 50123 };
const v4 = (address: string) => ({ family: 'ipv4' as const, address });

/**
 * Group commit of registerAddress (figure 4) on the test database (PostgreSQL or
 * embedded): many sessions' registrations in one transaction, with every rule of the
 * single path, one audit row each, and the fallback when a batch fails.
 */
describe('RegistrationBatcher (registerAddress group commit)', () => {
  let t: AddressesTestContext;
  let repository: AddressRepository;
  let bus: EventBus;
  let n = 0;
  const fresh = (prefix: string): Promise<TestUser> => t.user(`${prefix}${++n}`);

  beforeAll(async () => {
    t = await startAddressServices({ IRP_MAX_BINDINGS_PER_USER: '5' });
    repository = t.moduleRef.get(AddressRepository);
    bus = t.moduleRef.get<EventBus>(EVENT_BUS);
  });
  afterAll(async () => {
    await t?.close();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  async function bindingsOf(userKey: string): Promise<{ device: string; addresses: unknown }[]> {
    return t.dataSource.query(
      'SELECT device, addresses FROM irp_address_binding WHERE user_key = $1 ORDER BY device',
      [userKey],
    );
  }

  it('commits 100 concurrent registrations of 100 users in batches: bindings, audit rows, one event each', async () => {
    const users: TestUser[] = [];
    for (let i = 0; i < 100; i++) users.push(await fresh('many'));
    const keys = new Set(users.map((u) => u.userKey));
    const events = new Map<string, number>();
    const unsubscribe: Unsubscribe = await bus.subscribe(ADDRESS_TOPIC, (payload) => {
      const event = decodeAddressEvent(payload);
      if (event?.k === 'presence' && keys.has(event.o))
        events.set(event.o, (events.get(event.o) ?? 0) + 1);
    });
    const batches = vi.spyOn(repository, 'registerBindings');
    const single = vi.spyOn(repository, 'upsertBinding');
    try {
      const results = await Promise.all(
        users.map((u, i) =>
          t.registry.register(
            u,
            { device: 'laptop', addresses: [v4(`192.0.2.${i + 1}`)], expires: 600 },
            OBSERVED,
          ),
        ),
      );
      results.forEach((r, i) =>
        expect(r.binding).toMatchObject({
          device: 'laptop',
          addresses: [{ family: 'ipv4', address: `192.0.2.${i + 1}` }],
        }),
      );
      // batched: far fewer statements than registrations, and never the single path
      expect(single).not.toHaveBeenCalled();
      expect(batches.mock.calls.length).toBeLessThan(10);
      expect(batches.mock.calls.reduce((sum, [, items]) => sum + items.length, 0)).toBe(100);

      const stored: { n: string }[] = await t.dataSource.query(
        'SELECT count(*) AS n FROM irp_address_binding WHERE user_key = ANY($1::uuid[])',
        [[...keys]],
      );
      expect(Number(stored[0]!.n)).toBe(100);
      const rows = await t.audit.list({ action: 'registerAddress', limit: 10_000 });
      const ours = rows.filter((r) => users.some((u) => u.userId === r.actorId));
      expect(ours).toHaveLength(100);
      expect(ours.every((r) => r.resultCode === 1000)).toBe(true);
      expect(ours[0]).toMatchObject({
        actorKind: 'user',
        authMethod: 'upa',
        sourceAddress: '192.0.2.10',
        txn: 'T-1',
        details: { device: 'laptop', expires: 600 },
      });
      expect(new Set(ours.map((r) => r.target))).toEqual(new Set(users.map((u) => u.userId)));

      await eventually(() => events.size === 100, 5000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect([...events.values()].every((count) => count === 1)).toBe(true);
    } finally {
      unsubscribe();
    }
  });

  it('applies the quota per user across one burst: 5 of 20 devices stored, 15 refused with 2306', async () => {
    const user = await fresh('quota');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        settle(
          t.registry.register(user, { device: `d${i}`, addresses: [v4('192.0.2.1')] }, OBSERVED),
        ),
      ),
    );
    const ok = results.filter((r) => r.ok);
    const refused = results.flatMap((r) => (r.ok ? [] : [r.error]));
    expect(ok).toHaveLength(5);
    expect(refused).toHaveLength(15);
    for (const error of refused) {
      expect(error).toBeInstanceOf(DomainError);
      const e = error as DomainError;
      expect(e.code).toBe(DomainErrorCode.Policy);
      expect(domainErrorToResultCode(e.code)).toBe(ResultCode.PolicyError);
      expect(e.message).toBe('Parameter value policy error: at most 5 live bindings per user');
      expect(e.options).toMatchObject({ field: 'device' });
    }
    // in arrival order: the first five devices
    expect(results.slice(0, 5).every((r) => r.ok)).toBe(true);
    expect((await bindingsOf(user.userKey)).map((b) => b.device)).toEqual([
      'd0',
      'd1',
      'd2',
      'd3',
      'd4',
    ]);
    const rows = await t.audit.list({ actorId: user.userId });
    expect(rows).toHaveLength(20);
    expect(rows.map((r) => r.resultCode)).toEqual([
      ...Array<number>(5).fill(1000),
      ...Array<number>(15).fill(ResultCode.PolicyError),
    ]);
    expect(rows.map((r) => r.details?.device)).toEqual(
      Array.from({ length: 20 }, (_, i) => `d${i}`),
    );
  });

  it('keeps the last arrival when the same device is registered concurrently', async () => {
    const user = await fresh('same');
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        t.registry.register(
          user,
          { device: 'phone', addresses: [v4(`192.0.2.${i + 1}`)] },
          OBSERVED,
        ),
      ),
    );
    results.forEach((r, i) => expect(r.binding?.addresses[0]?.address).toBe(`192.0.2.${i + 1}`));
    const stored = await bindingsOf(user.userKey);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.addresses).toEqual([
      { family: 'ipv4', address: '192.0.2.10', transport: 'tcp' },
    ]);
    const looked = await t.registry.lookup(user, user.userId);
    expect('bindings' in looked && looked.bindings.map((b) => b.addresses[0]!.address)).toEqual([
      '192.0.2.10',
    ]);
    expect((await t.audit.list({ actorId: user.userId })).map((r) => r.resultCode)).toEqual(
      Array(10).fill(1000),
    );
  });

  it('runs each registration alone when its batch fails: one bad item fails no other', async () => {
    const users: TestUser[] = [];
    for (let i = 0; i < 8; i++) users.push(await fresh('fallback'));
    const single = vi.spyOn(repository, 'upsertBinding');
    // a port the table's CHECK refuses: the batch statement fails, and so does the item alone
    const results = await Promise.all(
      users.map((u, i) =>
        settle(
          t.registry.register(
            u,
            { device: 'laptop', addresses: [v4(`192.0.2.${i + 1}`)] },
            i === 3 ? { ...OBSERVED, port: 70_000 } : OBSERVED,
          ),
        ),
      ),
    );
    expect(results.map((r) => r.ok)).toEqual([true, true, true, false, true, true, true, true]);
    expect(single).toHaveBeenCalled();
    for (const [i, u] of users.entries()) {
      expect((await bindingsOf(u.userKey)).map((b) => b.device)).toEqual(i === 3 ? [] : ['laptop']);
      expect((await t.audit.list({ actorId: u.userId })).map((r) => r.resultCode)).toEqual([
        i === 3 ? ResultCode.CommandFailed : 1000,
      ]);
    }
  });

  // the embedded database commits in-process; a COMMIT lost on the wire is PostgreSQL's case
  it.skipIf(!process.env.TEST_DATABASE_URL)(
    'does not run a batch again when its COMMIT failed: the outcome is unknown, each caller gets an error',
    async () => {
      const users: TestUser[] = [];
      for (let i = 0; i < 4; i++) users.push(await fresh('lostcommit'));
      const probe = t.dataSource.createQueryRunner();
      const proto = Object.getPrototypeOf(probe) as {
        commitTransaction: (this: unknown) => Promise<void>;
      };
      await probe.release();
      const commit = proto.commitTransaction;
      // the COMMIT is applied, then the connection "fails" before the answer arrives
      vi.spyOn(proto, 'commitTransaction').mockImplementationOnce(async function (this: unknown) {
        await commit.call(this);
        throw new Error('connection terminated unexpectedly');
      });
      const single = vi.spyOn(repository, 'upsertBinding');
      const results = await Promise.all(
        users.map((u) =>
          settle(
            t.registry.register(u, { device: 'laptop', addresses: [v4('192.0.2.9')] }, OBSERVED),
          ),
        ),
      );
      expect(results.every((r) => !r.ok)).toBe(true);
      expect(results[0]?.ok === false && results[0].error).toBeInstanceOf(CommitOutcomeUnknown);
      expect(single).not.toHaveBeenCalled();
      for (const u of users) {
        // it was committed once (never twice); the log holds that row and the failure answered
        expect((await bindingsOf(u.userKey)).map((b) => b.device)).toEqual(['laptop']);
        expect((await t.audit.list({ actorId: u.userId })).map((r) => r.resultCode)).toEqual([
          1000,
          ResultCode.CommandFailed,
        ]);
      }
    },
  );

  it('sends a lone registration at once, as a batch of one', async () => {
    const user = await fresh('lone');
    const batches = vi.spyOn(repository, 'registerBindings');
    await t.registry.register(user, { device: 'a', addresses: [v4('192.0.2.1')] }, OBSERVED);
    expect(batches).toHaveBeenCalledTimes(1);
    expect(batches.mock.calls[0]![1]).toHaveLength(1);
  });

  it(`caps a batch at ${MAX_BATCH} registrations`, async () => {
    const users: TestUser[] = [];
    for (let i = 0; i < MAX_BATCH + 40; i++) users.push(await fresh('cap'));
    const batches = vi.spyOn(repository, 'registerBindings');
    await Promise.all(
      users.map((u) =>
        t.registry.register(u, { device: 'a', addresses: [v4('192.0.2.1')] }, OBSERVED),
      ),
    );
    const sizes = batches.mock.calls.map(([, items]) => items.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_BATCH);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(MAX_BATCH + 40);
  });
});
