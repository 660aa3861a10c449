import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildCsr, generateKeyPair, parseCertificate } from '@irp/pki';
import { type SessionPeer } from '../transport/irp-session.js';
import { type CertificateCaller } from './certificates.service.js';
import { OPERATOR, startPkiServices, type PkiTestContext } from './testing/pki-testing.js';

/** A new connection presenting `der`. */
function peer(der: Uint8Array): SessionPeer {
  return {
    address: '192.0.2.1',
    family: 'ipv4',
    port: 1,
    certificate: Buffer.from(der),
  };
}

async function issue(t: PkiTestContext, caller: CertificateCaller) {
  const keys = await generateKeyPair('P-256');
  const csr = buildCsr({ privateKey: keys.privateKey, subject: [{ type: 'CN', value: 'x' }] }).pem;
  const outcome = await t.certificates.requestCertificate(caller, {
    profile: 'device',
    key: { kind: 'csr', csr },
  });
  if (outcome.status !== 'issued') throw new Error('expected an issued certificate');
  const info = outcome.certificate;
  return { info, der: parseCertificate(info.pem ?? '').der };
}

/**
 * The crypto verdict (path, signatures, EKU) is cached by fingerprint and per
 * connection; what may change never is (spec §6.2: revocation and the user read from
 * the registry at login time; validity against the clock).
 */
describe('ClientCertificateVerifier cache', () => {
  let t: PkiTestContext;

  beforeAll(async () => {
    t = await startPkiServices();
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  /** Counts the expensive checks (parse + chain signatures) the verifier makes. */
  function countChecks(): { readonly calls: number } {
    const spy = vi.spyOn(
      t.verifier as unknown as { checkCertificate: (...args: unknown[]) => unknown },
      'checkCertificate',
    );
    return {
      get calls() {
        return spy.mock.calls.length;
      },
    };
  }

  it('checks the signatures once per certificate: greeting and SCA login, and later connections', async () => {
    const gina = await t.user('gina');
    const { info, der } = await issue(t, gina.caller);
    const checks = countChecks();
    const first = peer(der);
    expect(await t.verifier.inspect(first)).toEqual({ status: 'valid', user: 'gina@example.com' });
    expect(await t.verifier.authenticate(first)).toMatchObject({
      userKey: gina.key,
      certificateSerial: info.serial,
      user: { id: gina.key, userId: 'gina', status: 'active' },
    });
    expect(await t.verifier.authenticate(peer(der))).toMatchObject({
      userKey: gina.key,
      certificateSerial: info.serial,
    });
    expect(checks.calls).toBe(1);
  });

  it('a cached verdict cannot hide a revocation: the next SCA login (new connection) fails', async () => {
    const hugo = await t.user('hugo');
    const { info, der } = await issue(t, hugo.caller);
    const checks = countChecks();
    // warm: greeting + login of one connection, greeting of a second one
    const before = peer(der);
    expect((await t.verifier.inspect(before)).status).toBe('valid');
    expect(await t.verifier.authenticate(before)).toBeDefined();
    const greeted = peer(der);
    expect((await t.verifier.inspect(greeted)).status).toBe('valid');

    await t.certificates.revokeCertificate(hugo.caller, info.serial);

    // a new connection: the crypto verdict comes from the cache, the revocation from the database
    const after = peer(der);
    expect(await t.verifier.inspect(after)).toEqual({
      status: 'revoked',
      user: 'hugo@example.com',
    });
    expect(await t.verifier.authenticate(after)).toBeUndefined();
    // and the connection greeted `valid` before the revocation is refused at login too
    expect(await t.verifier.authenticate(greeted)).toBeUndefined();
    expect(checks.calls).toBe(1);
  });

  it('a cached verdict cannot hide a disabled user', async () => {
    const iris = await t.user('iris');
    const { der } = await issue(t, iris.caller);
    const greeted = peer(der);
    expect((await t.verifier.inspect(greeted)).status).toBe('valid');
    await t.users.disableUser(OPERATOR, 'iris');
    expect(await t.verifier.authenticate(greeted)).toBeUndefined();
    expect(await t.verifier.authenticate(peer(der))).toBeUndefined();
    await t.users.enableUser(OPERATOR, 'iris');
    expect(await t.verifier.authenticate(peer(der))).toBeDefined();
  });

  it('an expired certificate is refused although its verdict is cached', async () => {
    const jack = await t.user('jack');
    const { info, der } = await issue(t, jack.caller);
    const checks = countChecks();
    const greeted = peer(der);
    expect((await t.verifier.inspect(greeted)).status).toBe('valid');
    expect(await t.verifier.authenticate(peer(der))).toBeDefined();

    // the clock passes notAfter (only Date is faked: the database keeps working)
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(info.notAfter.getTime() + 1000);
    expect(await t.verifier.inspect(peer(der))).toEqual({
      status: 'expired',
      user: 'jack@example.com',
    });
    expect(await t.verifier.authenticate(peer(der))).toBeUndefined();
    expect(await t.verifier.authenticate(greeted)).toBeUndefined();
    // and before notBefore
    vi.setSystemTime(info.notBefore.getTime() - 1000);
    expect(await t.verifier.authenticate(peer(der))).toBeUndefined();
    expect((await t.verifier.verify(der, new Date(info.notAfter.getTime() + 1))).status).toBe(
      'expired',
    );
    expect(checks.calls).toBe(1);
  });

  it('keeps at most CRYPTO_CACHE_SIZE verdicts, dropping the least recently used', async () => {
    const { CRYPTO_CACHE_SIZE } = await import('./client-certificate-verifier.service.js');
    const cache = (t.verifier as unknown as { cache: Map<string, unknown> }).cache;
    expect(cache.size).toBeLessThanOrEqual(CRYPTO_CACHE_SIZE);
    const checks = countChecks();
    // garbage certificates are untrusted, and cached like any other (bounded)
    for (let i = 0; i < CRYPTO_CACHE_SIZE + 5; i++) {
      const junk = Buffer.alloc(8);
      junk.writeUInt32BE(i);
      expect((await t.verifier.verify(junk)).status).toBe('untrusted');
    }
    expect(cache.size).toBe(CRYPTO_CACHE_SIZE);
    expect(checks.calls).toBe(CRYPTO_CACHE_SIZE + 5);
    // the first ones were evicted: judged again
    expect((await t.verifier.verify(Buffer.alloc(8))).status).toBe('untrusted');
    expect(checks.calls).toBe(CRYPTO_CACHE_SIZE + 6);
  });
});
