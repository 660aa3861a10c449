import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BindingAddress, type PresenceNotify, ResultCode } from '@irp/protocol';
import {
  buildBindingAttestationText,
  buildCsr,
  generateKeyPair,
  signBindingAttestation,
} from '@irp/pki';
import { testCa } from '../../libs/pki/src/testing/fixtures.js';
import { UserCertificatesPort } from '../../apps/server/src/addresses/user-certificates.js';
import { AuditService } from '../../apps/server/src/audit/audit.service.js';
import { RawIrp, asResponse } from '../support/raw-irp.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import {
  ADDRESS_ENV,
  PASSWORD,
  type UserClient,
  login,
  newUser,
  settle,
} from './addresses-support.js';

const v4 = (address: string, extra: Partial<BindingAddress> = {}): BindingAddress => ({
  family: 'ipv4',
  address,
  ...extra,
});
const v6 = (address: string, extra: Partial<BindingAddress> = {}): BindingAddress => ({
  family: 'ipv6',
  address,
  ...extra,
});

/** The address registry over real TLS (spec §8, §8.1, §8.2, §11). */
describe('address registry end to end', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({
      ...ADDRESS_ENV,
      IRP_MAX_BINDINGS_PER_USER: '2',
      IRP_ADDRESS_MIN_EXPIRY_SECONDS: '1',
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  async function register(
    u: UserClient,
    addresses: BindingAddress[],
    extra: Record<string, unknown> = {},
  ) {
    return u.client.request({ cmd: 'registerAddress', addresses, ...extra });
  }

  it('lists the address commands in the greeting', async () => {
    const client = await server.connect();
    expect(client.greeting.commands).toEqual(
      expect.arrayContaining([
        'registerAddress',
        'unregisterAddress',
        'lookupAddress',
        'subscribe',
        'unsubscribe',
        'setAddressPolicy',
        'listWatchers',
        'approveWatcher',
        'removeWatcher',
      ]),
    );
  });

  describe('registerAddress validation (spec §8)', () => {
    let alice: UserClient;
    beforeAll(async () => {
      alice = await newUser(server, 'alice');
    });

    it.each<[string, BindingAddress, number]>([
      ['family ipv4 with IPv6 text', v4('2001:db8::1'), ResultCode.ValueSyntax],
      ['family ipv6 with IPv4 text', v6('192.0.2.1'), ResultCode.ValueSyntax],
      ['text that is no address', v6('not-an-address'), ResultCode.ValueSyntax],
      ['port 0', v4('192.0.2.1', { port: 0 }), ResultCode.ValueRange],
      ['port 65536', v4('192.0.2.1', { port: 65536 }), ResultCode.ValueRange],
      ['unspecified ::', v6('::'), ResultCode.PolicyError],
      ['unspecified 0.0.0.0', v4('0.0.0.0'), ResultCode.PolicyError],
      ['multicast', v6('ff02::1'), ResultCode.PolicyError],
      ['IPv4 multicast', v4('224.0.0.251'), ResultCode.PolicyError],
      ['IPv4-mapped IPv6', v6('::ffff:192.0.2.1'), ResultCode.PolicyError],
      ['loopback (not allowed here)', v4('127.0.0.1'), ResultCode.PolicyError],
      ['IPv6 loopback (not allowed here)', v6('::1'), ResultCode.PolicyError],
      ['link-local (not allowed here)', v6('fe80::1'), ResultCode.PolicyError],
    ])('refuses %s', async (_name, address, code) => {
      const res = await register(alice, [address]);
      expect(res.result.code).toBe(code);
    });

    it('refuses a bad device name with 2005 and more than 8 addresses with 2004', async () => {
      expect((await register(alice, [v4('192.0.2.1')], { device: 'bad device' })).result.code).toBe(
        ResultCode.ValueSyntax,
      );
      const nine = Array.from({ length: 9 }, (_, i) => v4(`192.0.2.${i + 1}`));
      expect((await register(alice, nine)).result.code).toBe(ResultCode.ValueRange);
    });

    it('stores IPv6 canonically and returns the binding with what the server observed', async () => {
      const res = await register(alice, [v6('2001:0db8:0:0:0:0:0:1', { port: 4605 })], {
        device: 'laptop',
        expires: 3600,
        presence: { status: 'available', note: ' in a meeting ' },
        service: 'chat',
      });
      expect(res.result.code).toBe(ResultCode.Success);
      if (res.cmd !== 'registerAddress') throw new Error('unexpected response');
      expect(res.data.binding).toMatchObject({
        device: 'laptop',
        addresses: [{ family: 'ipv6', address: '2001:db8::1', port: 4605, transport: 'tcp' }],
        presence: { status: 'available', note: ' in a meeting ' },
        service: 'chat',
      });
      const lifetime = res.data.binding!.expiresAt.getTime() - Date.now();
      expect(lifetime).toBeGreaterThan(3590_000);
      expect(lifetime).toBeLessThan(3602_000);
      const socket = (alice.client as unknown as { socket: { localPort?: number } }).socket;
      expect(res.data.observed).toEqual({
        family: 'ipv4',
        address: '127.0.0.1',
        port: socket.localPort,
      });
    });

    it('replaces a device on re-registration, enforces maxBindingsPerUser, removes with expires 0 and unregister', async () => {
      const bob = await newUser(server, 'bob');
      expect((await register(bob, [v4('192.0.2.1')], { device: 'a' })).result.code).toBe(
        ResultCode.Success,
      );
      expect((await register(bob, [v4('192.0.2.2')], { device: 'a' })).result.code).toBe(
        ResultCode.Success,
      );
      expect((await register(bob, [v4('192.0.2.3')], { device: 'b' })).result.code).toBe(
        ResultCode.Success,
      );
      expect((await register(bob, [v4('192.0.2.4')], { device: 'c' })).result.code).toBe(
        ResultCode.PolicyError,
      );
      const look = await bob.client.call({ cmd: 'lookupAddress', user: bob.userId });
      expect(look.bindings?.map((b) => [b.device, b.addresses[0]!.address])).toEqual([
        ['b', '192.0.2.3'],
        ['a', '192.0.2.2'],
      ]);
      expect((await register(bob, [], { device: 'a', expires: 0 })).result.code).toBe(
        ResultCode.Success,
      );
      expect(
        (await bob.client.request({ cmd: 'unregisterAddress', device: 'b' })).result.code,
      ).toBe(ResultCode.Success);
      expect(
        (await bob.client.request({ cmd: 'unregisterAddress', device: 'b' })).result.code,
      ).toBe(ResultCode.ObjectDoesNotExist);
      expect((await register(bob, [], { device: 'a', expires: 0 })).result.code).toBe(
        ResultCode.ObjectDoesNotExist,
      );
      expect(
        (await bob.client.call({ cmd: 'lookupAddress', user: bob.address })).bindings ?? [],
      ).toEqual([]);
      const rows = await server.app.get(AuditService).list({ actorId: bob.userId });
      expect(rows.filter((r) => r.action === 'registerAddress').map((r) => r.resultCode)).toEqual([
        1000, 1000, 1000, 2306, 1000, 2303,
      ]);
    });
  });

  describe('lookupAddress and presence (spec §8, §11)', () => {
    it('refers a user of another domain with 2303 and <referral>', async () => {
      const u = await newUser(server, 'ref');
      const res = await u.client.request({ cmd: 'lookupAddress', user: 'bob@other.example' });
      expect(res.result.code).toBe(ResultCode.ObjectDoesNotExist);
      if (res.cmd !== 'lookupAddress') throw new Error('unexpected response');
      expect(res.data.referral).toEqual({ domain: 'other.example' });
      expect(
        (await u.client.request({ cmd: 'lookupAddress', user: 'no-such-user' })).result.code,
      ).toBe(ResultCode.ObjectDoesNotExist);
    });

    it('pushes presence once after subscribe, on change, on removal, and on lapse', async () => {
      const owner = await newUser(server, 'owner');
      const watcher = await newUser(server, 'watcher');
      await owner.client.call({
        cmd: 'registerAddress',
        device: 'desk',
        addresses: [v4('192.0.2.10')],
      });
      const sub = await watcher.client.request({ cmd: 'subscribe', users: [owner.address] });
      expect(sub.result.code).toBe(ResultCode.Success);
      if (sub.cmd !== 'subscribe') throw new Error('unexpected response');
      expect(sub.data.subscriptions).toEqual([{ user: owner.address, status: 'active' }]);
      const first = (await watcher.notify(0)) as PresenceNotify;
      expect(first).toMatchObject({
        event: 'presence',
        user: owner.address,
        bindings: [{ device: 'desk' }],
      });

      await owner.client.call({
        cmd: 'registerAddress',
        device: 'phone',
        addresses: [v4('192.0.2.11')],
        expires: 1,
      });
      expect(((await watcher.notify(1)) as PresenceNotify).bindings.map((b) => b.device)).toEqual([
        'phone',
        'desk',
      ]);
      // the phone lapses after 1–2 s: the purge announces it
      const lapse = (await watcher.notify(2, 4000)) as PresenceNotify;
      expect(lapse.bindings.map((b) => b.device)).toEqual(['desk']);

      await owner.client.call({ cmd: 'unregisterAddress', device: 'desk' });
      expect((await watcher.notify(3)) as PresenceNotify).toEqual({
        event: 'presence',
        user: owner.address,
        bindings: [],
      });

      await watcher.client.call({ cmd: 'unsubscribe', users: [owner.userId] });
      await owner.client.call({
        cmd: 'registerAddress',
        device: 'desk',
        addresses: [v4('192.0.2.10')],
      });
      await settle();
      expect(watcher.notifies).toHaveLength(4);
    });

    it('sends the first presence notify after the subscribe response', async () => {
      const owner = await newUser(server, 'order');
      const raw = await RawIrp.open(server.irpPort, server.serverCa);
      await raw.waitFor(1);
      raw.send(
        `<irp version="1.0"><login id="l" method="upa"><user>${owner.userId}</user><password>${PASSWORD}</password></login></irp>`,
      );
      raw.send(
        `<irp version="1.0"><subscribe id="s"><user>${owner.userId}</user></subscribe></irp>`,
      );
      const [, login, subscribe, notify] = await raw.waitFor(4);
      expect(asResponse(login).result.code).toBe(ResultCode.Success);
      expect(asResponse(subscribe)).toMatchObject({
        id: 's',
        cmd: 'subscribe',
        result: { code: ResultCode.Success },
      });
      expect(notify).toMatchObject({
        kind: 'notify',
        notify: { event: 'presence', user: owner.address },
      });
      raw.close();
    });
  });

  describe('visibility policy and watchers (spec §8.1)', () => {
    it('watchers: 1001 pending, watch-request, approval → presence, removal → watch-removed', async () => {
      const owner = await newUser(server, 'guarded');
      const carol = await newUser(server, 'carol');
      await owner.client.call({ cmd: 'setAddressPolicy', visibility: 'watchers' });
      await owner.client.call({ cmd: 'registerAddress', addresses: [v4('192.0.2.20')] });
      expect(
        (await carol.client.request({ cmd: 'lookupAddress', user: owner.userId })).result.code,
      ).toBe(ResultCode.AuthorizationError);

      const sub = await carol.client.request({ cmd: 'subscribe', users: [owner.userId] });
      expect(sub.result.code).toBe(ResultCode.SuccessPending);
      if (sub.cmd !== 'subscribe') throw new Error('unexpected response');
      expect(sub.data.subscriptions).toEqual([{ user: owner.address, status: 'pending' }]);
      expect(await owner.notify(0)).toEqual({ event: 'watch-request', user: carol.address });
      const listed = await owner.client.call({ cmd: 'listWatchers' });
      expect(listed.watchers).toEqual([
        { user: carol.address, status: 'pending', since: expect.any(Date) as Date },
      ]);

      await owner.client.call({ cmd: 'approveWatcher', user: carol.address });
      expect(await carol.notify(0)).toMatchObject({
        event: 'presence',
        user: owner.address,
        bindings: [{ device: 'default' }],
      });
      expect(
        (await carol.client.request({ cmd: 'lookupAddress', user: owner.userId })).result.code,
      ).toBe(ResultCode.Success);

      await owner.client.call({ cmd: 'removeWatcher', user: carol.userId });
      expect(await carol.notify(1)).toEqual({ event: 'watch-removed', user: owner.address });
      expect(
        (await carol.client.request({ cmd: 'lookupAddress', user: owner.userId })).result.code,
      ).toBe(ResultCode.AuthorizationError);
      expect((await owner.client.call({ cmd: 'listWatchers' })).watchers ?? []).toEqual([]);
    });

    it('domain → watchers ends unapproved subscriptions; → domain activates pending ones; nobody refuses all', async () => {
      const owner = await newUser(server, 'policy');
      const approved = await newUser(server, 'friend');
      const stranger = await newUser(server, 'stranger');
      await owner.client.call({ cmd: 'approveWatcher', user: approved.userId });
      await approved.client.call({ cmd: 'subscribe', users: [owner.userId] });
      await stranger.client.call({ cmd: 'subscribe', users: [owner.userId] });
      await approved.notify(0);
      await stranger.notify(0);

      await owner.client.call({ cmd: 'setAddressPolicy', visibility: 'watchers' });
      expect(await stranger.notify(1)).toEqual({ event: 'watch-removed', user: owner.address });

      expect(
        (await stranger.client.request({ cmd: 'subscribe', users: [owner.userId] })).result.code,
      ).toBe(ResultCode.SuccessPending);
      await owner.client.call({ cmd: 'setAddressPolicy', visibility: 'domain' });
      expect(await stranger.notify(2)).toEqual({
        event: 'presence',
        user: owner.address,
        bindings: [],
      });

      await owner.client.call({ cmd: 'setAddressPolicy', visibility: 'nobody' });
      expect(await stranger.notify(3)).toEqual({ event: 'watch-removed', user: owner.address });
      expect(await approved.notify(1)).toEqual({ event: 'watch-removed', user: owner.address });
      expect(
        (await stranger.client.request({ cmd: 'lookupAddress', user: owner.userId })).result.code,
      ).toBe(ResultCode.AuthorizationError);
      expect(
        (await approved.client.request({ cmd: 'subscribe', users: [owner.userId] })).result.code,
      ).toBe(ResultCode.AuthorizationError);
      expect(
        (await owner.client.request({ cmd: 'lookupAddress', user: owner.userId })).result.code,
      ).toBe(ResultCode.Success);
    });

    it('subscribe is atomic: an unknown user refuses the whole command', async () => {
      const u = await newUser(server, 'atomic');
      const other = await newUser(server, 'other');
      const res = await u.client.request({
        cmd: 'subscribe',
        users: [other.userId, 'nobody-by-that-name'],
      });
      expect(res.result.code).toBe(ResultCode.ObjectDoesNotExist);
      await other.client.call({ cmd: 'registerAddress', addresses: [v4('192.0.2.30')] });
      await settle();
      expect(u.notifies).toEqual([]);
    });
  });

  describe('signed bindings (spec §8.2)', () => {
    it('accepts a valid attestation and returns it unchanged; a tampered one → 2306', async () => {
      const signer = await newUser(server, 'signer');
      const peer = await newUser(server, 'peer');
      const ca = await testCa('P-256');
      const key = await generateKeyPair('P-256');
      const cert = ca.issuer.issueUserCertificate({
        subjectKey: key.publicKey,
        userId: signer.userId,
        domain: 'example.com',
        profile: 'device',
      });
      const users = server.app.get(UserCertificatesPort);
      const previous = users.use({
        validFingerprints: () => Promise.resolve([cert.sha256]),
        certificateOfUser: (_userKey, sha256) =>
          Promise.resolve(
            sha256 === cert.sha256 ? { der: cert.der, notAfter: cert.notAfter } : undefined,
          ),
      });
      try {
        const now = Date.now();
        const notAfter = new Date(Math.floor(now / 1000) * 1000 + 3_600_000);
        const text = Buffer.from(
          buildBindingAttestationText({
            user: signer.address,
            device: 'laptop',
            addresses: [{ family: 'ipv6', transport: 'tcp', port: 4605, address: '2001:db8::7' }],
            notBefore: new Date(now - 1000),
            notAfter,
          }),
        );
        const signature = signBindingAttestation(key.privateKey, 'ecdsa-sha256', text);
        const attestation = { cert: cert.sha256, alg: 'ecdsa-sha256' as const, text, signature };
        const addresses = [v6('2001:db8::7', { port: 4605 })];
        const ok = await signer.client.call({
          cmd: 'registerAddress',
          device: 'laptop',
          addresses,
          expires: 86400,
          attestation,
        });
        expect(ok.binding?.expiresAt.getTime()).toBe(notAfter.getTime());

        const look = await peer.client.call({ cmd: 'lookupAddress', user: signer.userId });
        const binding = look.bindings![0]!;
        expect(binding.certificates).toEqual([cert.sha256]);
        expect(binding.attestation?.cert).toBe(cert.sha256);
        expect(binding.attestation?.alg).toBe('ecdsa-sha256');
        expect(Buffer.from(binding.attestation!.text).equals(text)).toBe(true);
        expect(Buffer.from(binding.attestation!.signature).equals(Buffer.from(signature))).toBe(
          true,
        );

        const tampered = Buffer.from(text.toString('utf8').replace('2001:db8::7', '2001:db8::8'));
        const res = await signer.client.request({
          cmd: 'registerAddress',
          device: 'laptop',
          addresses: [v6('2001:db8::8', { port: 4605 })],
          attestation: { ...attestation, text: tampered },
        });
        expect(res.result.code).toBe(ResultCode.PolicyError);
      } finally {
        users.use(previous);
      }
    });
  });
  describe('with certificates of the domain CA (spec §8, §8.2, §9)', () => {
    it('returns fingerprints and a signed binding; revoking the SCA certificate removes its bindings', async () => {
      const owner = await newUser(server, 'pki');
      const watcher = await newUser(server, 'pkiwatch');
      const key = await generateKeyPair('P-256');
      const issued = await owner.client.call({
        cmd: 'requestCertificate',
        profile: 'device',
        key: { kind: 'csr', csr: buildCsr({ privateKey: key.privateKey }).pem },
      });
      const certificate = issued.certificate!;

      // an SCA session of the owner registers a signed binding
      const keyPem = key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const sca = await server.connect({ cert: certificate.pem!, key: keyPem });
      await sca.call({ cmd: 'login', method: 'sca' });
      const now = Date.now();
      const text = Buffer.from(
        buildBindingAttestationText({
          user: owner.address,
          device: 'sca-laptop',
          addresses: [{ family: 'ipv4', transport: 'quic', port: 4433, address: '192.0.2.77' }],
          notBefore: new Date(now - 1000),
          notAfter: new Date(now + 600_000),
        }),
      );
      const attestation = {
        cert: certificate.sha256,
        alg: 'ecdsa-sha256' as const,
        text,
        signature: signBindingAttestation(key.privateKey, 'ecdsa-sha256', text),
      };
      await sca.call({
        cmd: 'registerAddress',
        device: 'sca-laptop',
        addresses: [v4('192.0.2.77', { port: 4433, transport: 'quic' })],
        attestation,
      });
      // and a UPA session another one
      await owner.client.call({
        cmd: 'registerAddress',
        device: 'upa-phone',
        addresses: [v4('192.0.2.78')],
      });

      await watcher.client.call({ cmd: 'subscribe', users: [owner.userId] });
      const first = (await watcher.notify(0)) as PresenceNotify;
      expect(first.bindings.map((b) => b.device)).toEqual(['upa-phone', 'sca-laptop']);
      expect(first.bindings.every((b) => b.certificates.includes(certificate.sha256))).toBe(true);
      expect(Buffer.from(first.bindings[1]!.attestation!.text).equals(text)).toBe(true);

      await owner.client.call({
        cmd: 'revokeCertificate',
        serial: certificate.serial,
        reason: 'keyCompromise',
      });
      // the SCA binding goes and the fingerprint with it (possibly over two notifies)
      for (let i = 1; ; i++) {
        const next = (await watcher.notify(i)) as PresenceNotify;
        if (next.bindings.length === 1 && next.bindings[0]!.certificates.length === 0) {
          expect(next.bindings[0]!.device).toBe('upa-phone');
          break;
        }
      }
      const look = await (
        await login(server, watcher.userId)
      ).client.call({ cmd: 'lookupAddress', user: owner.userId });
      expect(look.bindings?.map((b) => [b.device, b.certificates])).toEqual([['upa-phone', []]]);
    });
  });
});
