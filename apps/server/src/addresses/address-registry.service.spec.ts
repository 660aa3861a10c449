import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PresenceNotify, ResultCode } from '@irp/protocol';
import { buildBindingAttestationText, generateKeyPair, signBindingAttestation } from '@irp/pki';
import { testCa } from '../../../../libs/pki/src/testing/fixtures.js';
import { DomainError } from '../common/domain.error.js';
import { domainErrorToResultCode } from '../common/domain-error.mapping.js';
import { type ObservedSource } from './address-registry.service.js';
import {
  type AddressesTestContext,
  type TestUser,
  eventually,
  startAddressServices,
} from './testing/addresses-testing.js';

const OBSERVED: ObservedSource = { address: '198.51.100.7', family: 'ipv4', port: 50123 };

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<number | 'ok'> {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'ok';
  } catch (error) {
    if (error instanceof DomainError) return domainErrorToResultCode(error.code);
    throw error;
  }
}

const v4 = (address: string, port?: number) => ({
  family: 'ipv4' as const,
  address,
  ...(port ? { port } : {}),
});

/** The registry on the test database (PostgreSQL or embedded), with in-process sessions. */
describe('AddressRegistryService', () => {
  let t: AddressesTestContext;
  let n = 0;
  const fresh = (prefix: string): Promise<TestUser> => t.user(`${prefix}${++n}`);

  beforeAll(async () => {
    t = await startAddressServices({
      IRP_MAX_BINDINGS_PER_USER: '3',
      IRP_ADDRESS_MIN_EXPIRY_SECONDS: '1',
      IRP_MAX_SUBSCRIPTIONS: '3',
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('bindings (spec §8)', () => {
    it('stores the binding canonically, clamps expires and returns it with the observed source', async () => {
      const alice = await fresh('alice');
      const before = Date.now();
      const result = await t.registry.register(
        alice,
        {
          device: 'laptop',
          addresses: [
            { family: 'ipv6', address: '2001:0db8:0:0:0:0:0:1', port: 4605 },
            v4('192.0.2.1'),
          ],
          expires: 999_999,
          presence: { status: 'away', note: '  lunch  ' },
          service: 'chat',
        },
        OBSERVED,
      );
      expect(result.observed).toEqual({ family: 'ipv4', address: '198.51.100.7', port: 50123 });
      expect(result.binding).toMatchObject({
        device: 'laptop',
        addresses: [
          { family: 'ipv6', address: '2001:db8::1', port: 4605, transport: 'tcp' },
          { family: 'ipv4', address: '192.0.2.1', transport: 'tcp' },
        ],
        presence: { status: 'away', note: '  lunch  ' },
        service: 'chat',
        certificates: [],
      });
      const lifetime = result.binding!.expiresAt.getTime() - before;
      expect(lifetime).toBeGreaterThan(86_399_000);
      expect(lifetime).toBeLessThanOrEqual(86_402_000);
    });

    it('replaces the binding of the same device', async () => {
      const bob = await fresh('bob');
      await t.registry.register(bob, { device: 'phone', addresses: [v4('192.0.2.1')] }, OBSERVED);
      await t.registry.register(
        bob,
        { device: 'phone', addresses: [v4('192.0.2.2')], expires: 60 },
        OBSERVED,
      );
      const looked = await t.registry.lookup(bob, bob.userId);
      expect('bindings' in looked && looked.bindings.map((b) => b.addresses[0]!.address)).toEqual([
        '192.0.2.2',
      ]);
    });

    it('refuses a binding beyond maxBindingsPerUser with 2306, but still replaces existing ones', async () => {
      const carol = await fresh('carol');
      for (const device of ['a', 'b', 'c'])
        await t.registry.register(carol, { device, addresses: [v4('192.0.2.1')] }, OBSERVED);
      expect(
        await codeOf(
          t.registry.register(carol, { device: 'd', addresses: [v4('192.0.2.1')] }, OBSERVED),
        ),
      ).toBe(ResultCode.PolicyError);
      expect(
        await codeOf(
          t.registry.register(carol, { device: 'c', addresses: [v4('192.0.2.9')] }, OBSERVED),
        ),
      ).toBe('ok');
    });

    it('does not count lapsed bindings toward the quota', async () => {
      const dave = await fresh('dave');
      for (const device of ['a', 'b', 'c']) {
        await t.registry.register(
          dave,
          { device, addresses: [v4('192.0.2.1')], expires: 1 },
          OBSERVED,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 2100));
      expect(
        await codeOf(
          t.registry.register(dave, { device: 'd', addresses: [v4('192.0.2.1')] }, OBSERVED),
        ),
      ).toBe('ok');
    });

    it('removes with expires 0 and with unregisterAddress; 2303 when there is nothing to remove', async () => {
      const erin = await fresh('erin');
      await t.registry.register(erin, { device: 'x', addresses: [v4('192.0.2.1')] }, OBSERVED);
      await t.registry.register(erin, { device: 'y', addresses: [v4('192.0.2.1')] }, OBSERVED);
      expect(
        (await t.registry.register(erin, { device: 'x', addresses: [], expires: 0 }, OBSERVED))
          .binding,
      ).toBeUndefined();
      await t.registry.unregister(erin, 'y');
      expect(await codeOf(t.registry.unregister(erin, 'y'))).toBe(ResultCode.ObjectDoesNotExist);
      expect(
        await codeOf(
          t.registry.register(erin, { device: 'x', addresses: [], expires: 0 }, OBSERVED),
        ),
      ).toBe(ResultCode.ObjectDoesNotExist);
      const looked = await t.registry.lookup(erin, erin.address);
      expect('bindings' in looked && looked.bindings).toEqual([]);
    });

    it('writes one audit row per command, success or refusal', async () => {
      const frank = await fresh('frank');
      await t.registry.register(frank, { device: 'a', addresses: [v4('192.0.2.1')] }, OBSERVED);
      await codeOf(
        t.registry.register(frank, { device: 'a', addresses: [v4('127.0.0.1')] }, OBSERVED),
      );
      await codeOf(t.registry.unregister(frank, 'nope'));
      const rows = await t.audit.list({ actorId: frank.userId });
      expect(rows.map((r) => [r.action, r.resultCode])).toEqual([
        ['registerAddress', 1000],
        ['registerAddress', 2306],
        ['unregisterAddress', 2303],
      ]);
      expect(rows[0]!.details).toMatchObject({ device: 'a' });
    });

    it('lists bindings most recently updated first', async () => {
      const gina = await fresh('gina');
      await t.registry.register(gina, { device: 'old', addresses: [v4('192.0.2.1')] }, OBSERVED);
      await new Promise((resolve) => setTimeout(resolve, 5));
      await t.registry.register(gina, { device: 'new', addresses: [v4('192.0.2.2')] }, OBSERVED);
      const viewer = await fresh('viewer');
      const looked = await t.registry.lookup(viewer, gina.address);
      expect('bindings' in looked && looked.bindings.map((b) => b.device)).toEqual(['new', 'old']);
    });
  });

  describe('lookupAddress (spec §8)', () => {
    it('refers a user of another domain, and answers 2303 for an unknown user', async () => {
      const me = await fresh('me');
      expect(await t.registry.lookup(me, 'bob@Other.Example')).toEqual({
        referral: 'other.example',
      });
      expect(await codeOf(t.registry.lookup(me, 'nobody-here'))).toBe(
        ResultCode.ObjectDoesNotExist,
      );
      expect(await codeOf(t.registry.lookup(me, 'x'))).toBe(ResultCode.ObjectDoesNotExist);
    });

    it('answers 2304 for a disabled user', async () => {
      const me = await fresh('me');
      await t.user('gone-user', 'disabled');
      expect(await codeOf(t.registry.lookup(me, 'gone-user'))).toBe(ResultCode.StatusProhibits);
    });
  });

  describe('presence across the event bus (spec §8, §11)', () => {
    it('pushes the full list once after subscribing and on every change and removal', async () => {
      const owner = await fresh('owner');
      const watcher = await fresh('watcher');
      const session = watcher.session();
      await t.registry.register(owner, { device: 'a', addresses: [v4('192.0.2.1')] }, OBSERVED);
      const result = await t.registry.subscribe(watcher, session, [owner.userId]);
      expect(result).toEqual({
        subscriptions: [{ user: owner.address, status: 'active' }],
        pending: false,
      });
      const first = await eventually(() => session.notifies[0] as PresenceNotify | undefined);
      expect(first).toMatchObject({
        event: 'presence',
        user: owner.address,
        bindings: [{ device: 'a' }],
      });

      await t.registry.register(owner, { device: 'b', addresses: [v4('192.0.2.2')] }, OBSERVED);
      const second = await eventually(() => session.notifies[1] as PresenceNotify | undefined);
      expect(second.bindings.map((b) => b.device)).toEqual(['b', 'a']);

      await t.registry.unregister(owner, 'a');
      const third = await eventually(() => session.notifies[2] as PresenceNotify | undefined);
      expect(third.bindings.map((b) => b.device)).toEqual(['b']);

      t.registry.unsubscribe(session, [owner.address]);
      await t.registry.unregister(owner, 'b');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(session.notifies).toHaveLength(3);
    });

    it('notifies a lapse within a few seconds (purge)', async () => {
      const owner = await fresh('owner');
      const watcher = await fresh('watcher');
      const session = watcher.session();
      await t.registry.register(
        owner,
        { device: 'short', addresses: [v4('192.0.2.1')], expires: 1 },
        OBSERVED,
      );
      await t.registry.subscribe(watcher, session, [owner.address]);
      await eventually(() => session.notifies.length === 1);
      const lapse = await eventually(() => session.notifies[1] as PresenceNotify | undefined, 4000);
      expect(lapse).toEqual({ event: 'presence', user: owner.address, bindings: [] });
    });

    it('drops the subscriptions of a closed session', async () => {
      const owner = await fresh('owner');
      const watcher = await fresh('watcher');
      const session = watcher.session();
      await t.registry.subscribe(watcher, session, [owner.address]);
      expect(t.hub.subscriptionsOf(session).size).toBe(1);
      session.end();
      expect(t.hub.subscriptionsOf(session).size).toBe(0);
    });

    it('limits subscriptions per session (2306) and is atomic over the users named', async () => {
      const watcher = await fresh('watcher');
      const session = watcher.session();
      const [a, b, c, d] = await Promise.all([fresh('o'), fresh('o'), fresh('o'), fresh('o')]);
      expect(
        await codeOf(t.registry.subscribe(watcher, session, [a.userId, 'nobody-at-all'])),
      ).toBe(ResultCode.ObjectDoesNotExist);
      expect(t.hub.subscriptionsOf(session).size).toBe(0);
      await t.registry.subscribe(watcher, session, [a.userId, b.userId, c.userId]);
      expect(await codeOf(t.registry.subscribe(watcher, session, [d.userId]))).toBe(
        ResultCode.PolicyError,
      );
      // re-subscribing does not count twice
      expect(await codeOf(t.registry.subscribe(watcher, session, [a.userId]))).toBe('ok');
    });
  });

  describe('for the PKI feature', () => {
    it('removes the bindings registered with a revoked certificate and notifies watchers (spec §8)', async () => {
      const owner = await fresh('sca');
      const watcher = await fresh('watcher');
      const session = watcher.session();
      const serial = '0a'.repeat(16);
      await t.registry.register(
        { ...owner, certificateSerial: serial },
        { device: 'sca', addresses: [v4('192.0.2.1')] },
        OBSERVED,
      );
      await t.registry.register(owner, { device: 'upa', addresses: [v4('192.0.2.2')] }, OBSERVED);
      await t.registry.subscribe(watcher, session, [owner.userId]);
      expect(
        ((await eventually(() => session.notifies[0])) as PresenceNotify).bindings,
      ).toHaveLength(2);
      const owners = await t.dataSource.transaction((m) =>
        t.registry.removeBindingsOfCertificate(m, serial.toUpperCase()),
      );
      expect(owners).toEqual([owner.userKey]);
      const after = (await eventually(() => session.notifies[1])) as PresenceNotify;
      expect(after.bindings.map((b) => b.device)).toEqual(['upa']);
    });
  });

  describe('visibility and watchers (spec §8.1)', () => {
    it('watchers: pending request, watch-request notify, approval activates with a presence notify', async () => {
      const owner = await fresh('owner');
      const watcher = await fresh('watcher');
      const ownerSession = owner.session();
      const session = watcher.session();
      await t.registry.setPolicy(owner, 'watchers');
      await t.registry.register(owner, { device: 'a', addresses: [v4('192.0.2.1')] }, OBSERVED);
      expect(await codeOf(t.registry.lookup(watcher, owner.userId))).toBe(
        ResultCode.AuthorizationError,
      );

      const result = await t.registry.subscribe(watcher, session, [owner.userId]);
      expect(result).toEqual({
        subscriptions: [{ user: owner.address, status: 'pending' }],
        pending: true,
      });
      await eventually(() => ownerSession.notifies.length === 1);
      expect(ownerSession.notifies[0]).toEqual({ event: 'watch-request', user: watcher.address });
      expect(await t.registry.listWatchers(owner)).toEqual([
        { user: watcher.address, status: 'pending', since: expect.any(Date) as Date },
      ]);
      // asking again records nothing new
      await t.registry.subscribe(watcher, session, [owner.userId]);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(ownerSession.notifies).toHaveLength(1);
      expect(session.notifies).toHaveLength(0);

      await t.registry.approveWatcher(owner, watcher.address);
      const presence = await eventually(() => session.notifies[0]);
      expect(presence).toMatchObject({
        event: 'presence',
        user: owner.address,
        bindings: [{ device: 'a' }],
      });
      expect(await t.registry.lookup(watcher, owner.userId)).toMatchObject({ user: owner.address });
      expect((await t.registry.listWatchers(owner))[0]).toMatchObject({ status: 'approved' });

      await t.registry.removeWatcher(owner, watcher.userId);
      await eventually(() => session.notifies[1]);
      expect(session.notifies[1]).toEqual({ event: 'watch-removed', user: owner.address });
      expect(t.hub.subscriptionsOf(session).size).toBe(0);
      expect(await codeOf(t.registry.removeWatcher(owner, watcher.userId))).toBe(
        ResultCode.ObjectDoesNotExist,
      );
    });

    it('removeWatcher denies a pending request with watch-removed', async () => {
      const owner = await fresh('owner');
      const watcher = await fresh('watcher');
      const session = watcher.session();
      await t.registry.setPolicy(owner, 'watchers');
      await t.registry.subscribe(watcher, session, [owner.userId]);
      await t.registry.removeWatcher(owner, watcher.userId);
      await eventually(() => session.notifies[0]);
      expect(session.notifies).toEqual([{ event: 'watch-removed', user: owner.address }]);
      expect(await t.registry.listWatchers(owner)).toEqual([]);
    });

    it('tightening to watchers ends non-approved subscriptions; approved ones stay', async () => {
      const owner = await fresh('owner');
      const [kept, dropped] = [await fresh('kept'), await fresh('dropped')];
      const keptSession = kept.session();
      const droppedSession = dropped.session();
      await t.registry.approveWatcher(owner, kept.userId);
      await t.registry.subscribe(kept, keptSession, [owner.userId]);
      await t.registry.subscribe(dropped, droppedSession, [owner.userId]);
      await eventually(
        () => keptSession.notifies.length === 1 && droppedSession.notifies.length === 1,
      );
      await t.registry.setPolicy(owner, 'watchers');
      await eventually(() => droppedSession.notifies[1]);
      expect(droppedSession.notifies[1]).toEqual({ event: 'watch-removed', user: owner.address });
      await t.registry.register(owner, { device: 'a', addresses: [v4('192.0.2.1')] }, OBSERVED);
      await eventually(() => keptSession.notifies[1]);
      expect(keptSession.notifies[1]).toMatchObject({ event: 'presence' });
      expect(droppedSession.notifies).toHaveLength(2);
    });

    it('nobody: 2201 for others, pending requests dropped, subscriptions end; the owner still sees their own', async () => {
      const owner = await fresh('owner');
      const [active, waiting] = [await fresh('active'), await fresh('waiting')];
      const activeSession = active.session();
      const waitingSession = waiting.session();
      await t.registry.subscribe(active, activeSession, [owner.userId]);
      await t.registry.setPolicy(owner, 'watchers');
      await t.registry.approveWatcher(owner, active.userId);
      await t.registry.subscribe(waiting, waitingSession, [owner.userId]);
      await t.registry.setPolicy(owner, 'nobody');
      await eventually(
        () =>
          activeSession.notifies.some((x) => x.event === 'watch-removed') &&
          waitingSession.notifies[0],
      );
      expect(waitingSession.notifies).toEqual([{ event: 'watch-removed', user: owner.address }]);
      expect(await t.registry.listWatchers(owner)).toEqual([
        { user: active.address, status: 'approved', since: expect.any(Date) as Date },
      ]);
      expect(await codeOf(t.registry.lookup(active, owner.userId))).toBe(
        ResultCode.AuthorizationError,
      );
      expect(await codeOf(t.registry.subscribe(active, activeSession, [owner.userId]))).toBe(
        ResultCode.AuthorizationError,
      );
      expect(await codeOf(t.registry.lookup(owner, owner.userId))).toBe('ok');
    });

    it('loosening to domain turns pending requests into active subscriptions', async () => {
      const owner = await fresh('owner');
      const waiting = await fresh('waiting');
      const session = waiting.session();
      await t.registry.setPolicy(owner, 'watchers');
      await t.registry.subscribe(waiting, session, [owner.userId]);
      await t.registry.setPolicy(owner, 'domain');
      const presence = await eventually(() => session.notifies[0]);
      expect(presence).toEqual({ event: 'presence', user: owner.address, bindings: [] });
      expect(await t.registry.listWatchers(owner)).toEqual([]);
    });

    it('subscribe is atomic: one refusing owner and nothing is recorded', async () => {
      const open = await fresh('open');
      const closed = await fresh('closed');
      const guarded = await fresh('guarded');
      const watcher = await fresh('watcher');
      const session = watcher.session();
      await t.registry.setPolicy(closed, 'nobody');
      await t.registry.setPolicy(guarded, 'watchers');
      expect(
        await codeOf(
          t.registry.subscribe(watcher, session, [open.userId, guarded.userId, closed.userId]),
        ),
      ).toBe(ResultCode.AuthorizationError);
      expect(t.hub.subscriptionsOf(session).size).toBe(0);
      expect(await t.registry.listWatchers(guarded)).toEqual([]);
    });

    it('refuses to approve oneself (2004) and unknown users (2303)', async () => {
      const owner = await fresh('owner');
      expect(await codeOf(t.registry.approveWatcher(owner, owner.address))).toBe(
        ResultCode.ValueRange,
      );
      expect(await codeOf(t.registry.approveWatcher(owner, 'no-such-user'))).toBe(
        ResultCode.ObjectDoesNotExist,
      );
    });
  });

  describe('signed bindings (spec §8.2)', () => {
    it('accepts a valid attestation, returns it unchanged, clamps the expiry; refuses tampering with 2306', async () => {
      const ca = await testCa('P-256');
      const key = await generateKeyPair('P-256');
      const owner = await fresh('signer');
      const cert = ca.issuer.issueUserCertificate({
        subjectKey: key.publicKey,
        userId: owner.userId,
        domain: 'example.com',
        profile: 'user',
      });
      const previous = t.certificates.use({
        validFingerprints: (userKey) =>
          Promise.resolve(userKey === owner.userKey ? [cert.sha256] : []),
        certificateOfUser: (userKey, sha256) =>
          Promise.resolve(
            userKey === owner.userKey && sha256 === cert.sha256
              ? { der: cert.der, notAfter: cert.notAfter }
              : undefined,
          ),
      });
      try {
        const addresses = [
          {
            family: 'ipv6' as const,
            address: '2001:db8::7',
            port: 4605,
            transport: 'tcp' as const,
          },
        ];
        const now = Date.now();
        const notAfter = new Date(Math.floor(now / 1000) * 1000 + 600_000);
        const text = Buffer.from(
          buildBindingAttestationText({
            user: owner.address,
            device: 'laptop',
            addresses,
            notBefore: new Date(now - 60_000),
            notAfter,
          }),
        );
        const signature = signBindingAttestation(key.privateKey, 'ecdsa-sha256', text);
        const attestation = { cert: cert.sha256, alg: 'ecdsa-sha256' as const, text, signature };
        const request = {
          device: 'laptop',
          addresses: [{ family: 'ipv6' as const, address: '2001:0DB8::0007', port: 4605 }],
          expires: 86_400,
          attestation,
        };
        const result = await t.registry.register(owner, request, OBSERVED);
        expect(result.binding!.expiresAt.getTime()).toBe(notAfter.getTime());
        expect(result.binding!.certificates).toEqual([cert.sha256]);
        expect(Buffer.from(result.binding!.attestation!.text).equals(text)).toBe(true);
        expect(
          Buffer.from(result.binding!.attestation!.signature).equals(Buffer.from(signature)),
        ).toBe(true);

        const tampered = Buffer.from(signature);
        tampered[tampered.length - 1]! ^= 1;
        expect(
          await codeOf(
            t.registry.register(
              owner,
              { ...request, attestation: { ...attestation, signature: tampered } },
              OBSERVED,
            ),
          ),
        ).toBe(ResultCode.PolicyError);
        // the text must state this request's addresses
        expect(
          await codeOf(
            t.registry.register(
              owner,
              { ...request, addresses: [{ family: 'ipv6', address: '2001:db8::8', port: 4605 }] },
              OBSERVED,
            ),
          ),
        ).toBe(ResultCode.PolicyError);
        // and this device
        expect(
          await codeOf(t.registry.register(owner, { ...request, device: 'phone' }, OBSERVED)),
        ).toBe(ResultCode.PolicyError);
        // a certificate that is not the caller's
        const other = await fresh('other');
        expect(await codeOf(t.registry.register(other, request, OBSERVED))).toBe(
          ResultCode.PolicyError,
        );
      } finally {
        t.certificates.use(previous);
      }
    });
  });
});
