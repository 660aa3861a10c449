import { beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../keys/key-algorithm.js';
import type { IssuedCertificate } from '../issuance/certificate-issuer.js';
import { testCa, type TestCa } from '../testing/fixtures.js';
import {
  buildCertificatePath,
  checkClientCertificate,
  checkUploadedCertificate,
} from './certificate-validation.js';
import { parseCertificate } from '../certificate/parsed-certificate.js';

let t: TestCa;
let other: TestCa;
let user: IssuedCertificate;
let server: IssuedCertificate;
let foreign: IssuedCertificate;

beforeAll(async () => {
  t = await testCa('P-384');
  other = await testCa('P-256');
  const k = await generateKeyPair('P-256');
  user = t.issuer.issueUserCertificate({
    subjectKey: k.publicKey,
    userId: 'alice',
    domain: 'example.com',
    email: 'Alice@Example.com',
    profile: 'user',
    validityDays: 30,
  });
  server = t.issuer.issueServerCertificate({
    subjectKey: k.publicKey,
    dnsNames: ['dir.example.com'],
  });
  foreign = other.issuer.issueUserCertificate({
    subjectKey: k.publicKey,
    userId: 'alice',
    domain: 'example.com',
    profile: 'user',
  });
});

describe('checkClientCertificate (spec §6.2, §6.6)', () => {
  const anchors = (): { trustAnchors: Uint8Array[]; intermediates: Uint8Array[] } => ({
    trustAnchors: [t.ca.root.certificateDer],
    intermediates: [t.ca.intermediate.certificateDer],
  });

  it('reports ok with issuer, serial and fingerprint for a fresh user certificate', () => {
    const r = checkClientCertificate({ certificate: user.der, ...anchors() });
    expect(r).toMatchObject({
      status: 'ok',
      chains: true,
      withinValidity: true,
      hasClientAuth: true,
      serialHex: user.serialHex,
      sha256: user.sha256,
    });
    expect(r.issuer).toBe('CN=example.com IRP Issuing CA,O=Example Org');
    expect(
      Buffer.from(r.issuerDer).equals(Buffer.from(parseCertificate(t.intermediatePem).subjectDer)),
    ).toBe(true);
  });

  it('reports untrusted for a certificate of another CA, even with that CA as intermediate', () => {
    expect(checkClientCertificate({ certificate: foreign.der, ...anchors() }).status).toBe(
      'untrusted',
    );
    const r = checkClientCertificate({
      certificate: foreign.pem,
      trustAnchors: [t.ca.root.certificateDer],
      intermediates: [t.ca.intermediate.certificateDer, other.ca.intermediate.certificateDer],
    });
    expect(r.status).toBe('untrusted');
  });

  it('reports untrusted when the intermediate is missing', () => {
    expect(
      checkClientCertificate({ certificate: user.der, trustAnchors: [t.ca.root.certificateDer] })
        .status,
    ).toBe('untrusted');
  });

  it('reports expired before notBefore and after notAfter', () => {
    expect(
      checkClientCertificate({
        certificate: user.der,
        ...anchors(),
        at: new Date(user.notAfter.getTime() + 1000),
      }).status,
    ).toBe('expired');
    expect(
      checkClientCertificate({
        certificate: user.der,
        ...anchors(),
        at: new Date(user.notBefore.getTime() - 1000),
      }).status,
    ).toBe('expired');
  });

  it('reports no-client-auth for a certificate without EKU clientAuth', () => {
    expect(checkClientCertificate({ certificate: server.der, ...anchors() }).status).toBe(
      'no-client-auth',
    );
  });

  it('refuses a tampered certificate as untrusted', () => {
    const der = Buffer.from(user.der);
    const i = der.indexOf(Buffer.from('alice'));
    der[i] = 0x41; // "Alice"
    expect(checkClientCertificate({ certificate: der, ...anchors() }).status).toBe('untrusted');
  });

  it('does not accept an end-entity certificate as an issuer', () => {
    const k = parseCertificate(user.der);
    expect(() => buildCertificatePath(parseCertificate(server.der), { trustAnchors: [k] })).toThrow(
      expect.objectContaining({ code: 'chain' }),
    );
  });
});

describe('checkUploadedCertificate (spec §9)', () => {
  it('accepts a certificate naming the caller by URI, with its issuer chain, and lists its SANs', () => {
    const r = checkUploadedCertificate({
      certificate: user.pem,
      chain: [t.intermediatePem, t.rootPem],
      userId: 'alice',
      domain: 'example.com',
    });
    expect(r.uris).toEqual(['irp:alice@example.com']);
    expect(r.emails).toEqual(['Alice@Example.com']);
    expect(r.serialHex).toBe(user.serialHex);
  });

  it('accepts by rfc822Name case-insensitively', () => {
    expect(() =>
      checkUploadedCertificate({
        certificate: user.der,
        userId: 'bob',
        domain: 'example.com',
        email: 'alice@example.com',
      }),
    ).not.toThrow();
  });

  it('refuses a certificate not naming the caller with policy', () => {
    expect(() =>
      checkUploadedCertificate({ certificate: user.der, userId: 'bob', domain: 'example.com' }),
    ).toThrow(expect.objectContaining({ code: 'policy' }));
  });

  it('refuses a certificate outside its validity with validity', () => {
    const at = new Date(user.notAfter.getTime() + 1000);
    expect(() =>
      checkUploadedCertificate({
        certificate: user.der,
        userId: 'alice',
        domain: 'example.com',
        at,
      }),
    ).toThrow(expect.objectContaining({ code: 'validity' }));
  });

  it('refuses a chain whose first certificate is not the issuer with chain', () => {
    expect(() =>
      checkUploadedCertificate({
        certificate: user.der,
        chain: [t.rootPem],
        userId: 'alice',
        domain: 'example.com',
      }),
    ).toThrow(expect.objectContaining({ code: 'chain' }));
    expect(() =>
      checkUploadedCertificate({
        certificate: user.der,
        chain: [other.intermediatePem],
        userId: 'alice',
        domain: 'example.com',
      }),
    ).toThrow(expect.objectContaining({ code: 'chain' }));
  });

  it('refuses garbage as syntax', () => {
    expect(() =>
      checkUploadedCertificate({ certificate: 'nope', userId: 'alice', domain: 'example.com' }),
    ).toThrow(expect.objectContaining({ code: 'syntax' }));
  });
});
