import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../keys/key-algorithm.js';
import type { IssuedCertificate } from '../issuance/certificate-issuer.js';
import { testCa, type TestCa } from '../testing/fixtures.js';
import { makeTempDir, ok, openssl, type TempDir } from '../testing/openssl.js';
import { buildCrl } from './crl-builder.js';
import { OcspResponder, ocspErrorResponse, type OcspCertStatus } from './ocsp-responder.js';

let dir: TempDir;
let t: TestCa;
let good: IssuedCertificate;
let revoked: IssuedCertificate;
const revokedAt = new Date('2026-02-01T10:00:00Z');

beforeAll(async () => {
  dir = await makeTempDir();
  t = await testCa('P-384');
  await dir.write('root.pem', t.rootPem);
  await dir.write('int.pem', t.intermediatePem);
  await dir.write('chain.pem', t.intermediatePem + t.rootPem);
  const k = await generateKeyPair('P-256');
  good = t.issuer.issueUserCertificate({
    subjectKey: k.publicKey,
    userId: 'alice',
    domain: 'example.com',
    profile: 'user',
  });
  revoked = t.issuer.issueUserCertificate({
    subjectKey: k.publicKey,
    userId: 'alice',
    domain: 'example.com',
    profile: 'device',
  });
  await dir.write('good.pem', good.pem);
  await dir.write('revoked.pem', revoked.pem);
});
afterAll(async () => {
  await dir.cleanup();
});

describe('buildCrl', () => {
  it('builds a v2 CRL that openssl reads, with the revoked serial, reason, CRL number and AKI', async () => {
    const crl = buildCrl(t.signer, {
      crlNumber: 7,
      entries: [{ serialHex: revoked.serialHex, revokedAt, reason: 'keyCompromise' }],
    });
    await dir.write('crl.der', crl.der);
    const text = ok(
      await openssl(['crl', '-inform', 'DER', '-in', dir.file('crl.der'), '-noout', '-text']),
    ).stdout;
    expect(text).toContain('Version 2 (0x1)');
    expect(text).toContain(`Serial Number: ${revoked.serialHex.toUpperCase()}`);
    expect(text).toMatch(/X509v3 CRL Reason Code:\s*\n\s*Key Compromise/);
    expect(text).toMatch(/X509v3 CRL Number:\s*\n\s*7/);
    expect(text).toContain('X509v3 Authority Key Identifier');
    expect(text).toContain('Revocation Date: Feb  1 10:00:00 2026 GMT');
    const sig = await openssl([
      'crl',
      '-inform',
      'DER',
      '-in',
      dir.file('crl.der'),
      '-noout',
      '-CAfile',
      dir.file('chain.pem'),
    ]);
    expect(sig.stderr + sig.stdout).toContain('verify OK');
    expect(crl.pem.startsWith('-----BEGIN X509 CRL-----\n')).toBe(true);
    expect(crl.pem.endsWith('-----END X509 CRL-----\n')).toBe(true);
  });

  it('makes openssl verify -crl_check refuse the revoked certificate and accept the good one', async () => {
    const crl = buildCrl(t.signer, {
      crlNumber: 8,
      entries: [{ serialHex: revoked.serialHex, revokedAt, reason: 'superseded' }],
    });
    await dir.write('crl.pem', crl.pem);
    const base = [
      'verify',
      '-crl_check',
      '-CRLfile',
      dir.file('crl.pem'),
      '-CAfile',
      dir.file('root.pem'),
      '-untrusted',
      dir.file('int.pem'),
    ];
    const bad = await openssl([...base, dir.file('revoked.pem')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout + bad.stderr).toContain('certificate revoked');
    const fine = await openssl([...base, dir.file('good.pem')]);
    expect(fine.stdout).toContain(': OK');
  });

  it('omits revokedCertificates when empty and writes no reasonCode for unspecified', () => {
    const empty = buildCrl(t.signer, { crlNumber: 1n, entries: [] });
    const parsed = new x509.X509Crl(empty.der);
    expect(parsed.entries).toHaveLength(0);
    const one = buildCrl(t.signer, {
      crlNumber: 2n,
      entries: [{ serialHex: good.serialHex, revokedAt, reason: 'unspecified' }],
    });
    const entry = new x509.X509Crl(one.der).entries[0];
    expect(entry?.serialNumber.toLowerCase()).toBe(good.serialHex);
    expect(entry?.extensions).toHaveLength(0);
  });

  it('refuses a nextUpdate not after thisUpdate and a bad serial', () => {
    const now = new Date();
    expect(() =>
      buildCrl(t.signer, { crlNumber: 1, entries: [], thisUpdate: now, nextUpdate: now }),
    ).toThrow(expect.objectContaining({ code: 'argument' }));
    expect(() =>
      buildCrl(t.signer, { crlNumber: 1, entries: [{ serialHex: 'xyz', revokedAt }] }),
    ).toThrow(expect.objectContaining({ code: 'argument' }));
  });
});

describe('OcspResponder', () => {
  const statuses = new Map<string, OcspCertStatus>();
  const lookup = (serialHex: string): OcspCertStatus =>
    statuses.get(serialHex) ?? { status: 'unknown' };

  beforeAll(() => {
    statuses.set(good.serialHex, { status: 'good' });
    statuses.set(revoked.serialHex, { status: 'revoked', revokedAt, reason: 'keyCompromise' });
  });

  async function roundTrip(certFile: string, hashArgs: string[] = []): Promise<string> {
    const name = `${certFile}-${hashArgs.join('')}`;
    ok(
      await openssl([
        'ocsp',
        '-issuer',
        dir.file('int.pem'),
        ...hashArgs,
        '-cert',
        dir.file(certFile),
        '-reqout',
        dir.file(`${name}.req`),
      ]),
    );
    const responder = new OcspResponder(t.signer);
    const result = await responder.respond(await dir.read(`${name}.req`), lookup);
    expect(result.status).toBe('successful');
    await dir.write(`${name}.resp`, result.der);
    const out = await openssl([
      'ocsp',
      '-reqin',
      dir.file(`${name}.req`),
      '-respin',
      dir.file(`${name}.resp`),
      '-issuer',
      dir.file('int.pem'),
      '-CAfile',
      dir.file('chain.pem'),
      '-resp_text',
    ]);
    const verify = await openssl([
      'ocsp',
      '-respin',
      dir.file(`${name}.resp`),
      '-issuer',
      dir.file('int.pem'),
      ...hashArgs,
      '-cert',
      dir.file(certFile),
      '-CAfile',
      dir.file('chain.pem'),
      '-no_nonce',
    ]);
    return `${out.stdout}\n${out.stderr}\n${verify.stdout}\n${verify.stderr}`;
  }

  it('answers good for a valid certificate, and openssl verifies the response', async () => {
    const out = await roundTrip('good.pem');
    expect(out).toContain('Response verify OK');
    expect(out).toContain('Cert Status: good');
    expect(out).toMatch(/good\.pem: good/);
    expect(out).not.toContain('Nonce Verify error');
    expect(out).not.toContain('no nonce in response');
  });

  it('answers revoked with time and reason', async () => {
    const out = await roundTrip('revoked.pem');
    expect(out).toContain('Response verify OK');
    expect(out).toContain('Cert Status: revoked');
    expect(out).toContain('Revocation Time: Feb  1 10:00:00 2026 GMT');
    expect(out).toContain('Revocation Reason: keyCompromise');
    expect(out).toMatch(/revoked\.pem: revoked/);
  });

  it('matches SHA-256 CertIDs as well as SHA-1', async () => {
    const out = await roundTrip('good.pem', ['-sha256']);
    expect(out).toContain('Response verify OK');
    expect(out).toContain('Hash Algorithm: sha256');
    expect(out).toMatch(/good\.pem: good/);
  });

  it('echoes the request nonce', async () => {
    ok(
      await openssl([
        'ocsp',
        '-issuer',
        dir.file('int.pem'),
        '-cert',
        dir.file('good.pem'),
        '-reqout',
        dir.file('n.req'),
      ]),
    );
    const req = pkijs.OCSPRequest.fromBER(await dir.read('n.req'));
    const reqNonce = req.tbsRequest.requestExtensions?.find(
      (e) => e.extnID === '1.3.6.1.5.5.7.48.1.2',
    );
    expect(reqNonce).toBeDefined();
    const result = await new OcspResponder(t.signer).respond(await dir.read('n.req'), lookup);
    const resp = pkijs.OCSPResponse.fromBER(result.der);
    const basic = pkijs.BasicOCSPResponse.fromBER(
      resp.responseBytes!.response.valueBlock.valueHexView,
    );
    const respNonce = basic.tbsResponseData.responseExtensions?.find(
      (e) => e.extnID === '1.3.6.1.5.5.7.48.1.2',
    );
    expect(Buffer.from(respNonce!.extnValue.valueBlock.valueHexView).toString('hex')).toBe(
      Buffer.from(reqNonce!.extnValue.valueBlock.valueHexView).toString('hex'),
    );
  });

  it('answers unknown for a serial the registry does not know', async () => {
    const k = await generateKeyPair('P-256');
    const stranger = t.issuer.issueUserCertificate({
      subjectKey: k.publicKey,
      userId: 'zed',
      domain: 'example.com',
      profile: 'user',
    });
    await dir.write('stranger.pem', stranger.pem);
    const out = await roundTrip('stranger.pem');
    expect(out).toMatch(/stranger\.pem: unknown/);
  });

  it('answers unauthorized for a CertID of another issuer', async () => {
    const other = await testCa('P-256');
    await dir.write('other-int.pem', other.intermediatePem);
    const k = await generateKeyPair('P-256');
    const foreign = other.issuer.issueUserCertificate({
      subjectKey: k.publicKey,
      userId: 'eve',
      domain: 'example.com',
      profile: 'user',
    });
    await dir.write('foreign.pem', foreign.pem);
    ok(
      await openssl([
        'ocsp',
        '-issuer',
        dir.file('other-int.pem'),
        '-cert',
        dir.file('foreign.pem'),
        '-reqout',
        dir.file('f.req'),
      ]),
    );
    const result = await new OcspResponder(t.signer).respond(await dir.read('f.req'), lookup);
    expect(result.status).toBe('unauthorized');
    await dir.write('f.resp', result.der);
    const text = (await openssl(['ocsp', '-respin', dir.file('f.resp'), '-resp_text', '-noverify']))
      .stdout;
    expect(text).toContain('Responder Error: unauthorized (6)');
  });

  it.each([
    ['garbage', Buffer.from('not an ocsp request')],
    ['empty', Buffer.alloc(0)],
    ['a SEQUENCE with nothing in it', Buffer.from([0x30, 0x00])],
  ])('answers malformedRequest for %s', async (_name, bytes) => {
    const result = await new OcspResponder(t.signer).respond(bytes, lookup);
    expect(result.status).toBe('malformedRequest');
    const resp = pkijs.OCSPResponse.fromBER(result.der);
    expect(resp.responseStatus.valueBlock.valueDec).toBe(1);
    expect(resp.responseBytes).toBeUndefined();
  });

  it('answers malformedRequest when bytes trail the request', async () => {
    ok(
      await openssl([
        'ocsp',
        '-issuer',
        dir.file('int.pem'),
        '-cert',
        dir.file('good.pem'),
        '-reqout',
        dir.file('t.req'),
      ]),
    );
    const req = Buffer.concat([await dir.read('t.req'), Buffer.from([0])]);
    expect((await new OcspResponder(t.signer).respond(req, lookup)).status).toBe(
      'malformedRequest',
    );
  });

  it('builds error-only responses', () => {
    const der = ocspErrorResponse('tryLater');
    const asn = asn1js.fromBER(der);
    expect(asn.offset).toBe(der.length);
    expect(pkijs.OCSPResponse.fromBER(der).responseStatus.valueBlock.valueDec).toBe(3);
  });

  it('propagates lookup errors so the server can answer internalError', async () => {
    ok(
      await openssl([
        'ocsp',
        '-issuer',
        dir.file('int.pem'),
        '-cert',
        dir.file('good.pem'),
        '-reqout',
        dir.file('e.req'),
      ]),
    );
    await expect(
      new OcspResponder(t.signer).respond(await dir.read('e.req'), () => {
        throw new Error('db down');
      }),
    ).rejects.toThrow('db down');
  });
});
