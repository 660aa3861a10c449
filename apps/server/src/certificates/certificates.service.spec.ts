import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CertificateInfo, ResultCode } from '@irp/protocol';
import {
  CaSigner,
  CertificateIssuer,
  buildCsr,
  createDomainCa,
  generateKeyPair,
  parseCertificate,
  parseCertificates,
  type DomainCa,
} from '@irp/pki';
import { USER_CERTIFICATES, type UserCertificates } from '../addresses/user-certificates.js';
import { resultCodeOf } from '../audit/audit.service.js';
import { fakeSession } from '../identity/testing/fake-session.js';
import { type CertificateCaller } from './certificates.service.js';
import { OPERATOR, startPkiServices, type PkiTestContext } from './testing/pki-testing.js';

async function code(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return ResultCode.Success;
  } catch (error) {
    return resultCodeOf(error);
  }
}

async function eventually(check: () => Promise<void>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

async function csrPem(): Promise<{
  pem: string;
  keys: Awaited<ReturnType<typeof generateKeyPair>>;
}> {
  const keys = await generateKeyPair('P-256');
  return {
    pem: buildCsr({ privateKey: keys.privateKey, subject: [{ type: 'CN', value: 'ignored' }] }).pem,
    keys,
  };
}

async function issue(
  t: PkiTestContext,
  caller: CertificateCaller,
  profile: 'user' | 'device' = 'device',
  renews?: string,
): Promise<CertificateInfo> {
  const outcome = await t.certificates.requestCertificate(caller, {
    profile,
    key: { kind: 'csr', csr: (await csrPem()).pem },
    renews,
  });
  if (outcome.status !== 'issued') throw new Error('expected an issued certificate');
  return outcome.certificate;
}

/** Another CA, for certificates the domain CA did not issue. */
let foreign: { ca: DomainCa; issuer: CertificateIssuer };

beforeAll(async () => {
  const ca = await createDomainCa({ domain: 'other.example', algorithm: 'P-256' });
  const signer = CaSigner.create({
    certificate: ca.intermediate.certificateDer,
    privateKey: ca.intermediate.privateKeyPkcs8Der,
  });
  foreign = {
    ca,
    issuer: new CertificateIssuer(signer, {
      crlUrl: 'http://other.example/crl',
      ocspUrl: 'http://other.example/ocsp',
    }),
  };
});

describe('CertificatesService (automatic issuance)', () => {
  let t: PkiTestContext;
  let alice: CertificateCaller;
  let bob: CertificateCaller;

  beforeAll(async () => {
    t = await startPkiServices();
    alice = (await t.user('alice', { displayName: 'Alice', email: 'alice@example.com' })).caller;
    bob = (await t.user('bob')).caller;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('issues a certificate, records it, and lists it with its fingerprint for the address registry', async () => {
    const cert = await issue(t, alice);
    expect(cert).toMatchObject({ status: 'valid', profile: 'device' });
    expect(cert.serial).toMatch(/^[0-7][0-9a-f]{31}$/);
    const parsed = parseCertificate(cert.pem ?? '');
    expect(parsed.subject).toBe('CN=Alice');
    expect(parsed.subjectAltNames.uri).toEqual(['irp:alice@example.com']);
    expect(
      await t.moduleRef.get<UserCertificates>(USER_CERTIFICATES).validFingerprints(alice.userKey),
    ).toContain(cert.sha256);
    const listed = await t.certificates.listCertificates(alice);
    expect(listed.map((c) => c.serial)).toContain(cert.serial);
    expect(listed[0]?.pem).toBeUndefined();
    const rows = await t.audit.list({ action: 'requestCertificate', target: 'alice' });
    expect(rows.at(-1)).toMatchObject({ resultCode: 1000, details: { serial: cert.serial } });
  });

  it('refuses validityDays 0 (2004), a bad renews serial (2005), an empty keygen passphrase (2003)', async () => {
    const { pem } = await csrPem();
    expect(
      await code(
        t.certificates.requestCertificate(alice, {
          profile: 'user',
          key: { kind: 'csr', csr: pem },
          validityDays: 0,
        }),
      ),
    ).toBe(ResultCode.ValueRange);
    expect(
      await code(
        t.certificates.requestCertificate(alice, {
          profile: 'user',
          key: { kind: 'csr', csr: pem },
          renews: 'xyz',
        }),
      ),
    ).toBe(ResultCode.ValueSyntax);
    expect(
      await code(
        t.certificates.requestCertificate(alice, {
          profile: 'user',
          key: { kind: 'keygen', algorithm: 'P-256', passphrase: '' },
        }),
      ),
    ).toBe(ResultCode.MissingParameter);
    expect(
      await code(
        t.certificates.requestCertificate(alice, {
          profile: 'user',
          key: { kind: 'csr', csr: 'bm90IGEgQ1NS' },
        }),
      ),
    ).toBe(ResultCode.ValueSyntax);
  });

  it('revocation closes the SCA sessions of that certificate, notifies the others, removes its bindings, re-issues the CRL', async () => {
    const cert = await issue(t, alice);
    const sca = fakeSession({
      userKey: alice.userKey,
      userId: 'alice',
      address: 'alice@example.com',
      method: 'sca',
      certificateSerial: cert.serial,
    });
    const otherSca = fakeSession({
      userKey: alice.userKey,
      userId: 'alice',
      address: 'alice@example.com',
      method: 'sca',
      certificateSerial: 'ab'.repeat(16),
    });
    const upa = fakeSession({
      userKey: alice.userKey,
      userId: 'alice',
      address: 'alice@example.com',
      method: 'upa',
    });
    for (const s of [sca, otherSca, upa]) t.sessions.authenticated(s);
    // a binding registered by the SCA session (spec §8: removed on revocation)
    const actor = { kind: 'user' as const, id: 'alice' };
    await t.addresses.register(
      {
        userKey: alice.userKey,
        userId: 'alice',
        address: 'alice@example.com',
        certificateSerial: cert.serial,
        actor,
      },
      { device: 'phone', addresses: [{ family: 'ipv6', address: '2001:db8::7' }] },
      { address: '192.0.2.1', family: 'ipv4', port: 1234 },
    );
    const viewer = { userKey: bob.userKey, userId: 'bob', address: 'bob@example.com', actor };
    expect(await t.addresses.lookup(viewer, 'alice')).toMatchObject({
      bindings: [{ device: 'phone' }],
    });
    const crlBefore = await t.crl.current();

    const revoked = await t.certificates.revokeCertificate(
      { ...alice, session: upa },
      cert.serial.toUpperCase(),
      'keyCompromise',
    );
    expect(revoked).toMatchObject({ status: 'revoked', reason: 'keyCompromise' });
    expect(sca.close).toHaveBeenCalledWith('revoked');
    expect(otherSca.close).not.toHaveBeenCalled();
    expect(upa.close).not.toHaveBeenCalled();
    // the revoking session has its response; the others are told
    expect(upa.notify).not.toHaveBeenCalled();
    expect(otherSca.notify).toHaveBeenCalledWith({
      event: 'certificate',
      certificate: expect.objectContaining({ serial: cert.serial, status: 'revoked' }) as unknown,
    });
    expect(
      await t.dataSource.query(
        'SELECT count(*)::int AS n FROM irp_address_binding WHERE certificate_serial = $1',
        [cert.serial],
      ),
    ).toEqual([{ n: 0 }]);
    // the registry's cache hears of it through the event bus (asynchronous on PostgreSQL)
    await eventually(async () =>
      expect(await t.addresses.lookup(viewer, 'alice')).toMatchObject({ bindings: [] }),
    );
    const crl = await t.crl.current();
    expect(BigInt(crl.crlNumber)).toBe(BigInt(crlBefore.crlNumber) + 1n);
    expect(crl.der.includes(Buffer.from(cert.serial, 'hex'))).toBe(true);
    expect(await t.ocsp.statusOf(cert.serial)).toMatchObject({
      status: 'revoked',
      reason: 'keyCompromise',
    });
    expect(
      await t.moduleRef.get<UserCertificates>(USER_CERTIFICATES).validFingerprints(alice.userKey),
    ).not.toContain(cert.sha256);

    // again → 2304; someone else's → 2303; not hex → 2005
    expect(await code(t.certificates.revokeCertificate(alice, cert.serial))).toBe(
      ResultCode.StatusProhibits,
    );
    const bobs = await issue(t, bob);
    expect(await code(t.certificates.revokeCertificate(alice, bobs.serial))).toBe(
      ResultCode.ObjectDoesNotExist,
    );
    expect(await code(t.certificates.revokeCertificate(alice, 'zz'))).toBe(ResultCode.ValueSyntax);
    const refusals = await t.audit.list({ action: 'revokeCertificate', target: 'alice' });
    expect(refusals.map((r) => r.resultCode)).toEqual([1000, 2304, 2303, 2005]);
  });

  it('shows another user only valid certificates; getCertificate by user with purpose email', async () => {
    const carol = (await t.user('carol', { email: 'carol@example.com' })).caller;
    const user = await issue(t, carol, 'user');
    const device = await issue(t, carol, 'device');
    const gone = await issue(t, carol, 'device');
    await t.certificates.revokeCertificate(carol, gone.serial);
    expect((await t.certificates.listCertificates(carol)).map((c) => c.status).sort()).toEqual([
      'revoked',
      'valid',
      'valid',
    ]);
    expect(
      (await t.certificates.listCertificates(bob, 'carol@example.com')).map((c) => c.serial).sort(),
    ).toEqual([user.serial, device.serial].sort());
    const email = await t.certificates.getCertificate(bob, {
      by: 'user',
      user: 'carol',
      purpose: 'email',
    });
    expect(email.map((c) => c.serial)).toEqual([user.serial]);
    expect(email[0]?.pem).toContain('BEGIN CERTIFICATE');
    expect(
      await code(t.certificates.getCertificate(bob, { by: 'serial', serial: gone.serial })),
    ).toBe(ResultCode.ObjectDoesNotExist);
    expect(
      await t.certificates.getCertificate(carol, {
        by: 'sha256',
        sha256: gone.sha256.toUpperCase(),
      }),
    ).toMatchObject([{ serial: gone.serial, status: 'revoked' }]);
    expect(await code(t.certificates.listCertificates(bob, 'nobody'))).toBe(
      ResultCode.ObjectDoesNotExist,
    );
    expect(await code(t.certificates.listCertificates(bob, 'carol@other.example'))).toBe(
      ResultCode.ObjectDoesNotExist,
    );
  });

  it('certificateStatus: a certificate the CA never issued is unknown with only the attribute asked for', async () => {
    expect(
      await t.certificates.certificateStatus({ by: 'serial', serial: '0A'.repeat(16) }),
    ).toEqual({
      serial: '0a'.repeat(16),
      status: 'unknown',
    });
    expect(
      await t.certificates.certificateStatus({ by: 'sha256', sha256: 'ab'.repeat(32) }),
    ).toEqual({
      sha256: 'ab'.repeat(32),
      status: 'unknown',
    });
    const cert = await issue(t, bob);
    expect(await t.certificates.certificateStatus({ by: 'sha256', sha256: cert.sha256 })).toEqual({
      serial: cert.serial,
      sha256: cert.sha256,
      status: 'valid',
    });
  });

  it('renews: supersedes the old certificate without closing its SCA sessions; only a valid own one can be renewed', async () => {
    const dave = (await t.user('dave')).caller;
    const old = await issue(t, dave);
    const sca = fakeSession({
      userKey: dave.userKey,
      userId: 'dave',
      address: 'dave@example.com',
      method: 'sca',
      certificateSerial: old.serial,
    });
    const other = fakeSession({
      userKey: dave.userKey,
      userId: 'dave',
      address: 'dave@example.com',
      method: 'upa',
    });
    t.sessions.authenticated(sca);
    t.sessions.authenticated(other);
    const fresh = await issue(t, { ...dave, session: sca }, 'device', old.serial);
    expect(fresh.status).toBe('valid');
    const listed = await t.certificates.listCertificates(dave);
    expect(listed.find((c) => c.serial === old.serial)).toMatchObject({
      status: 'superseded',
      reason: 'superseded',
    });
    expect(sca.close).not.toHaveBeenCalled();
    expect(other.notify).toHaveBeenCalledWith({
      event: 'certificate',
      certificate: expect.objectContaining({ serial: old.serial, status: 'superseded' }) as unknown,
    });
    expect(await t.ocsp.statusOf(old.serial)).toMatchObject({
      status: 'revoked',
      reason: 'superseded',
    });
    // superseded again → 2304; someone else's → 2303
    expect(
      await code(
        t.certificates.requestCertificate(dave, {
          profile: 'device',
          key: { kind: 'csr', csr: (await csrPem()).pem },
          renews: old.serial,
        }),
      ),
    ).toBe(ResultCode.StatusProhibits);
    const bobs = await issue(t, bob);
    expect(
      await code(
        t.certificates.requestCertificate(dave, {
          profile: 'device',
          key: { kind: 'csr', csr: (await csrPem()).pem },
          renews: bobs.serial,
        }),
      ),
    ).toBe(ResultCode.ObjectDoesNotExist);
  });

  it('uploadCertificate: accepts a foreign certificate naming the caller, as directory data only', async () => {
    const keys = await generateKeyPair('P-256');
    const named = foreign.issuer.issueUserCertificate({
      subjectKey: keys.publicKey,
      userId: 'alice',
      domain: 'example.com',
      profile: 'user',
    });
    const chain = [foreign.ca.intermediate.certificatePem];
    const stored = await t.certificates.uploadCertificate(alice, named.pem, chain);
    expect(stored).toMatchObject({
      profile: 'uploaded',
      serial: named.serialHex,
      sha256: named.sha256,
      status: 'valid',
    });
    expect(stored.pem).toContain('BEGIN CERTIFICATE');
    expect(await code(t.certificates.uploadCertificate(alice, named.pem, []))).toBe(
      ResultCode.ObjectExists,
    );
    // not the domain CA's: unknown to certificateStatus, OCSP and the address registry, untrusted for SCA
    expect(
      (await t.certificates.certificateStatus({ by: 'sha256', sha256: named.sha256 })).status,
    ).toBe('unknown');
    expect(
      await t.moduleRef.get<UserCertificates>(USER_CERTIFICATES).validFingerprints(alice.userKey),
    ).not.toContain(named.sha256);
    expect((await t.verifier.verify(named.der)).status).toBe('untrusted');
    // refusals
    const bobs = foreign.issuer.issueUserCertificate({
      subjectKey: keys.publicKey,
      userId: 'bob',
      domain: 'example.com',
      profile: 'user',
    });
    expect(await code(t.certificates.uploadCertificate(alice, bobs.pem, []))).toBe(
      ResultCode.PolicyError,
    );
    const expired = foreign.issuer.issueUserCertificate({
      subjectKey: keys.publicKey,
      userId: 'alice',
      domain: 'example.com',
      profile: 'user',
      validityDays: 1,
      now: new Date(Date.now() - 10 * 86_400_000),
    });
    expect(await code(t.certificates.uploadCertificate(alice, expired.pem, []))).toBe(
      ResultCode.StatusProhibits,
    );
    const other = foreign.issuer.issueUserCertificate({
      subjectKey: keys.publicKey,
      userId: 'alice',
      domain: 'example.com',
      profile: 'device',
    });
    expect(
      await code(t.certificates.uploadCertificate(alice, other.pem, [t.domainCa.ca.rootPem])),
    ).toBe(ResultCode.PolicyError);
    expect(await code(t.certificates.uploadCertificate(alice, 'garbage', []))).toBe(
      ResultCode.ValueSyntax,
    );
    // a certificate of the domain CA is already in the registry
    const own = await issue(t, alice);
    expect(await code(t.certificates.uploadCertificate(alice, own.pem ?? '', []))).toBe(
      ResultCode.ObjectExists,
    );
  });

  it('judges client certificates in the order untrusted, expired, revoked, unknown, valid (spec §6.6)', async () => {
    const erin = await t.user('erin');
    const ca = t.domainCa.ca;
    const keys = await generateKeyPair('P-256');
    expect(await t.verifier.verify(undefined)).toEqual({ status: 'none' });
    expect((await t.verifier.verify(new Uint8Array([0x30, 0x00]))).status).toBe('untrusted');
    const foreignCert = foreign.issuer.issueUserCertificate({
      subjectKey: keys.publicKey,
      userId: 'erin',
      domain: 'example.com',
      profile: 'device',
    });
    expect(await t.verifier.verify(foreignCert.der)).toEqual({ status: 'untrusted' });
    // signed by the domain CA but never recorded (e.g. forged record): unknown, no user
    const unrecorded = ca.issuer.issueUserCertificate({
      subjectKey: keys.publicKey,
      userId: 'erin',
      domain: 'example.com',
      profile: 'device',
    });
    expect(await t.verifier.verify(unrecorded.der)).toEqual({ status: 'unknown' });
    const expired = ca.issuer.issueUserCertificate({
      subjectKey: keys.publicKey,
      userId: 'erin',
      domain: 'example.com',
      profile: 'device',
      validityDays: 1,
      now: new Date(Date.now() - 3 * 86_400_000),
    });
    expect((await t.verifier.verify(expired.der)).status).toBe('expired');
    const valid = await issue(t, erin.caller);
    const der = parseCertificate(valid.pem ?? '').der;
    const verdict = await t.verifier.verify(der);
    expect(verdict).toMatchObject({
      status: 'valid',
      user: 'erin@example.com',
      userKey: erin.key,
      serial: valid.serial,
    });
    // the user's row comes with the verdict (read in the same statement)
    expect(verdict.userRow).toMatchObject({ id: erin.key, userId: 'erin', status: 'active' });
    const identity = await t.verifier.authenticate({
      address: '192.0.2.1',
      family: 'ipv4',
      port: 1,
      certificate: Buffer.from(der),
    });
    expect(identity).toMatchObject({ userKey: erin.key, certificateSerial: valid.serial });
    expect(identity?.user).toMatchObject({ id: erin.key, userId: 'erin', upaEnabled: true });
    // the user disabled: unknown, still naming the user
    await t.users.disableUser(OPERATOR, 'erin');
    expect(await t.verifier.verify(der)).toMatchObject({
      status: 'unknown',
      user: 'erin@example.com',
    });
    expect(
      await t.verifier.authenticate({
        address: '192.0.2.1',
        family: 'ipv4',
        port: 1,
        certificate: Buffer.from(der),
      }),
    ).toBeUndefined();
    await t.users.enableUser(OPERATOR, 'erin');
    await t.certificates.revokeCertificate(erin.caller, valid.serial);
    expect(await t.verifier.verify(der)).toMatchObject({
      status: 'revoked',
      user: 'erin@example.com',
    });
    // the server's own TLS certificate is the CA's but no user's
    await t.tls.renew();
    const serverCert = t.tls.certificate;
    expect(serverCert && (await t.verifier.verify(serverCert.der))).toEqual({ status: 'unknown' });
  });

  it('setAuthPolicy: SCA sessions only (2201); disabling UPA needs a valid certificate of the session (2304)', async () => {
    const frank = await t.user('frank');
    const cert = await issue(t, frank.caller);
    const base = { userKey: frank.key, userId: 'frank', actor: frank.caller.actor };
    expect(await code(t.authPolicy.setAuthPolicy({ ...base, method: 'upa' }, false))).toBe(
      ResultCode.AuthorizationError,
    );
    const off = await t.authPolicy.setAuthPolicy(
      { ...base, method: 'sca', certificateSerial: cert.serial },
      false,
    );
    expect(off.upaEnabled).toBe(false);
    await t.certificates.revokeCertificate(frank.caller, cert.serial);
    expect(
      await code(
        t.authPolicy.setAuthPolicy(
          { ...base, method: 'sca', certificateSerial: cert.serial },
          false,
        ),
      ),
    ).toBe(ResultCode.StatusProhibits);
    expect(
      (
        await t.authPolicy.setAuthPolicy(
          { ...base, method: 'sca', certificateSerial: cert.serial },
          true,
        )
      ).upaEnabled,
    ).toBe(true);
    expect(
      (await t.audit.list({ target: 'frank', action: 'setAuthPolicy' })).map((r) => r.resultCode),
    ).toEqual([2201, 2304]);
    expect(
      (await t.audit.list({ target: 'frank', action: 'setUpaEnabled' })).map((r) => r.resultCode),
    ).toEqual([1000, 1000]);
  });

  it('re-issues the CRL when it is a day old, and renews the TLS certificate when it nears its end', async () => {
    const now = await t.crl.current();
    expect((await t.crl.current(new Date(now.thisUpdate.getTime() + 3_600_000))).crlNumber).toBe(
      now.crlNumber,
    );
    const later = await t.crl.current(new Date(now.thisUpdate.getTime() + 25 * 3_600_000));
    expect(BigInt(later.crlNumber)).toBe(BigInt(now.crlNumber) + 1n);
    expect(later.nextUpdate.getTime() - later.thisUpdate.getTime()).toBe(7 * 86_400_000);

    await t.tls.current();
    const seen: string[] = [];
    t.tls.onChange((c) => seen.push(String(c.cert)));
    const cert = t.tls.certificate;
    if (!cert) throw new Error('no TLS certificate');
    expect(await t.tls.renewIfDue()).toBe(false);
    expect(await t.tls.renewIfDue(new Date(cert.notAfter.getTime() - 29 * 86_400_000))).toBe(true);
    expect(seen).toHaveLength(1);
    expect(t.tls.certificate?.serialHex).not.toBe(cert.serialHex);
    // the chain handed to the listener: the new certificate first, then the issuing CA
    expect(parseCertificates(seen[0] ?? '').map((c) => c.serialHex)).toEqual([
      t.tls.certificate?.serialHex,
      t.domainCa.ca.certificates[0]?.serialHex,
    ]);
    expect(await t.ocsp.statusOf(t.tls.certificate?.serialHex ?? '')).toEqual({ status: 'good' });
  });
});

describe('CertificatesService (approval mode, IRP_CERT_APPROVAL=manual)', () => {
  let t: PkiTestContext;

  beforeAll(async () => {
    t = await startPkiServices({ IRP_CERT_APPROVAL: 'manual' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers 1001 with a pending request; approving issues it and pushes it to the user', async () => {
    const gina = await t.user('gina');
    const session = fakeSession({
      userKey: gina.key,
      userId: 'gina',
      address: 'gina@example.com',
      method: 'upa',
    });
    t.sessions.authenticated(session);
    const outcome = await t.certificates.requestCertificate(gina.caller, {
      profile: 'user',
      key: { kind: 'csr', csr: (await csrPem()).pem },
    });
    if (outcome.status !== 'pending') throw new Error('expected pending');
    expect(outcome.request.status).toBe('pending');
    expect(outcome.chain).toHaveLength(2);
    expect(
      (await t.audit.list({ action: 'requestCertificate', target: 'gina' })).at(-1)?.resultCode,
    ).toBe(1001);
    expect(await t.certificates.pendingRequests()).toMatchObject([
      { id: outcome.request.id, userId: 'gina', profile: 'user' },
    ]);
    expect(await t.certificates.listCertificates(gina.caller)).toEqual([]);

    const issued = await t.certificates.approveRequest(OPERATOR, outcome.request.id);
    expect(issued.status).toBe('valid');
    expect(session.notify).toHaveBeenCalledWith({
      event: 'certificate',
      certificate: expect.objectContaining({
        serial: issued.serial,
        pem: expect.stringContaining('BEGIN CERTIFICATE') as unknown,
      }) as unknown,
    });
    expect(
      await t.certificates.getCertificate(gina.caller, { by: 'serial', serial: issued.serial }),
    ).toHaveLength(1);
    expect(await code(t.certificates.approveRequest(OPERATOR, outcome.request.id))).toBe(
      ResultCode.StatusProhibits,
    );
    expect(await code(t.certificates.approveRequest(OPERATOR, 'not-an-id'))).toBe(
      ResultCode.ObjectDoesNotExist,
    );
    expect(await t.certificates.pendingRequests()).toEqual([]);
  });

  it('rejecting pushes <request status="rejected"/>; keygen needs automatic issuance (2101)', async () => {
    const hal = await t.user('hal');
    const session = fakeSession({
      userKey: hal.key,
      userId: 'hal',
      address: 'hal@example.com',
      method: 'upa',
    });
    t.sessions.authenticated(session);
    const outcome = await t.certificates.requestCertificate(hal.caller, {
      profile: 'device',
      key: { kind: 'csr', csr: (await csrPem()).pem },
    });
    if (outcome.status !== 'pending') throw new Error('expected pending');
    await t.certificates.rejectRequest(OPERATOR, outcome.request.id);
    expect(session.notify).toHaveBeenCalledWith({
      event: 'certificate',
      request: { id: outcome.request.id, status: 'rejected' },
    });
    expect(await code(t.certificates.rejectRequest(OPERATOR, outcome.request.id))).toBe(
      ResultCode.StatusProhibits,
    );
    expect(
      await code(
        t.certificates.requestCertificate(hal.caller, {
          profile: 'device',
          key: { kind: 'keygen', algorithm: 'P-256', passphrase: 'pass phrase' },
        }),
      ),
    ).toBe(ResultCode.UnimplementedOption);
  });
});
