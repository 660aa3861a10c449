import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaSigner } from '../ca/ca-signer.js';
import { parseCsr } from '../csr/csr.js';
import { parseCertificate } from '../certificate/parsed-certificate.js';
import { generateKeyPair } from '../keys/key-algorithm.js';
import { PkiError } from '../pki.error.js';
import { testCa, TEST_URLS, type TestCa } from '../testing/fixtures.js';
import { makeTempDir, ok, openssl, type TempDir } from '../testing/openssl.js';

type WebCrypto = Parameters<typeof x509.cryptoProvider.set>[0];

let dir: TempDir;
let t: TestCa;

beforeAll(async () => {
  dir = await makeTempDir();
  t = await testCa('P-384');
  await dir.write('root.pem', t.rootPem);
  await dir.write('intermediate.pem', t.intermediatePem);
});
afterAll(async () => {
  await dir.cleanup();
});

async function opensslCsr(name: string, keyArgs: string[]): Promise<string> {
  ok(
    await openssl([
      'req',
      '-new',
      ...keyArgs,
      '-nodes',
      '-keyout',
      dir.file(`${name}.key`),
      '-out',
      dir.file(`${name}.csr`),
      '-subj',
      '/CN=evil/O=bogus',
    ]),
  );
  return (await dir.read(`${name}.csr`)).toString('utf8');
}

describe('CertificateIssuer.issueUserCertificate with openssl-made CSRs', () => {
  it('issues a user certificate from a P-256 CSR that openssl verifies, with the directory subject', async () => {
    const csr = parseCsr(
      await opensslCsr('p256', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']),
    );
    expect(csr.subject).toBe('O=bogus,CN=evil');
    expect(csr.keyAlgorithm).toMatchObject({ type: 'ec', curve: 'P-256' });
    const cert = t.issuer.issueUserCertificate({
      subjectKey: csr,
      userId: 'alice',
      domain: 'example.com',
      displayName: 'Alice Example',
      email: 'alice@example.com',
      profile: 'user',
      validityDays: 30,
    });
    await dir.write('alice.pem', cert.pem);
    const verify = await openssl([
      'verify',
      '-CAfile',
      dir.file('root.pem'),
      '-untrusted',
      dir.file('intermediate.pem'),
      dir.file('alice.pem'),
    ]);
    expect(verify.stdout).toContain(': OK');
    const text = ok(
      await openssl(['x509', '-in', dir.file('alice.pem'), '-noout', '-text']),
    ).stdout;
    expect(text).toContain('Subject: CN = Alice Example');
    expect(text).not.toContain('evil');
    expect(text).toContain('TLS Web Client Authentication, E-mail Protection');
    expect(text).toContain('email:alice@example.com, URI:irp:alice@example.com');
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Key Agreement/);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toContain(`URI:${TEST_URLS.crlUrl}`);
    expect(text).toContain(`OCSP - URI:${TEST_URLS.ocspUrl}`);
    expect(text).toContain(`CA Issuers - URI:${TEST_URLS.caIssuersUrl}`);
    expect(text).toContain('X509v3 Subject Key Identifier');
    expect(text).toContain('X509v3 Authority Key Identifier');
    // 16-octet serial: openssl prints 16 colon-separated octets
    const serialLine = /Serial Number:\s*\n\s*([0-9a-f:]+)/.exec(text)?.[1] ?? '';
    expect(serialLine.split(':')).toHaveLength(16);
    expect(serialLine.replace(/:/g, '')).toBe(cert.serialHex);
    expect(cert.serialHex).toMatch(/^[0-7][0-9a-f]{31}$/);
    expect(cert.sha256).toMatch(/^[0-9a-f]{64}$/);
    const fp = ok(
      await openssl(['x509', '-in', dir.file('alice.pem'), '-noout', '-fingerprint', '-sha256']),
    ).stdout;
    expect(fp.split('=')[1]?.trim().replace(/:/g, '').toLowerCase()).toBe(cert.sha256);
    expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBe(30 * 86_400_000 + 300_000);
  });

  it('issues a device certificate with EKU clientAuth only, and the CN falls back to the user id', async () => {
    const csr = parseCsr(
      await opensslCsr('dev', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']),
    );
    const cert = t.issuer.issueUserCertificate({
      subjectKey: csr,
      userId: 'bob.k',
      domain: 'example.com',
      profile: 'device',
    });
    await dir.write('dev.pem', cert.pem);
    const text = ok(await openssl(['x509', '-in', dir.file('dev.pem'), '-noout', '-text'])).stdout;
    expect(text).toMatch(/Extended Key Usage:\s*\n\s*TLS Web Client Authentication\n/);
    expect(text).toContain('Subject: CN = bob.k');
    expect(text).toMatch(/Subject Alternative Name:\s*\n\s*URI:irp:bob.k@example.com\n/);
    const purpose = await openssl([
      'verify',
      '-purpose',
      'sslclient',
      '-CAfile',
      dir.file('root.pem'),
      '-untrusted',
      dir.file('intermediate.pem'),
      dir.file('dev.pem'),
    ]);
    expect(purpose.stdout).toContain(': OK');
  });

  it.each([
    ['RSA-2048', ['-newkey', 'rsa:2048'], 'rsa', 'Digital Signature, Key Encipherment'],
    [
      'P-384',
      ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'],
      'ec',
      'Digital Signature, Key Agreement',
    ],
    ['Ed25519', ['-newkey', 'ed25519'], 'ed25519', 'Digital Signature'],
  ])(
    'accepts a %s CSR and issues a certificate openssl verifies',
    async (name, keyArgs, type, ku) => {
      const csr = parseCsr(await opensslCsr(`k-${name}`, keyArgs));
      expect(csr.keyAlgorithm.type).toBe(type);
      const cert = t.issuer.issueUserCertificate({
        subjectKey: csr,
        userId: 'carol',
        domain: 'example.com',
        profile: 'user',
      });
      await dir.write(`k-${name}.pem`, cert.pem);
      const verify = await openssl([
        'verify',
        '-CAfile',
        dir.file('root.pem'),
        '-untrusted',
        dir.file('intermediate.pem'),
        dir.file(`k-${name}.pem`),
      ]);
      expect(verify.stdout).toContain(': OK');
      const text = ok(
        await openssl(['x509', '-in', dir.file(`k-${name}.pem`), '-noout', '-text']),
      ).stdout;
      expect(text).toMatch(new RegExp(`X509v3 Key Usage: critical\\s+${ku}\\n`));
    },
  );

  it('accepts a P-521 CSR and an RSA-PSS-signed CSR', async () => {
    const p521 = parseCsr(
      await opensslCsr('p521', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-521']),
    );
    expect(p521.keyAlgorithm.label).toBe('ECDSA P-521');
    const pss = parseCsr(
      await opensslCsr('pss', [
        '-newkey',
        'rsa:2048',
        '-sigopt',
        'rsa_padding_mode:pss',
        '-sigopt',
        'rsa_pss_saltlen:32',
      ]),
    );
    expect(pss.signatureAlgorithm).toBe('1.2.840.113549.1.1.10');
  });

  it('refuses a CSR signed with SHA-1 with a policy error', async () => {
    const pem = await opensslCsr('sha1', [
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-sha1',
    ]);
    expect(() => parseCsr(pem)).toThrow(expect.objectContaining({ code: 'policy' }));
  });

  it('refuses an RSA-1024 CSR with a policy error', async () => {
    const pem = await opensslCsr('rsa1024', ['-newkey', 'rsa:1024']);
    expect(() => parseCsr(pem)).toThrow(expect.objectContaining({ code: 'policy' }));
  });

  it('refuses a CSR whose signature has a corrupted byte with a syntax error', async () => {
    await opensslCsr('corrupt', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    ok(
      await openssl([
        'req',
        '-in',
        dir.file('corrupt.csr'),
        '-outform',
        'DER',
        '-out',
        dir.file('corrupt.der'),
      ]),
    );
    const der = await dir.read('corrupt.der');
    // The signature BIT STRING is the last element; flip a byte inside r or s.
    der[der.length - 5] = (der[der.length - 5] ?? 0) ^ 0x01;
    expect(() => parseCsr(der)).toThrow(expect.objectContaining({ code: 'syntax' }));
  });

  it('refuses garbage as a syntax error', () => {
    expect(() =>
      parseCsr('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n'),
    ).toThrow(expect.objectContaining({ code: 'syntax' }));
    expect(() => parseCsr(new Uint8Array([0x30, 0x03, 0x02, 0x01]))).toThrow(PkiError);
  });

  it('refuses a CSR for a key type outside the policy (secp256k1) with a policy error', async () => {
    const pem = await opensslCsr('k1', [
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:secp256k1',
    ]);
    expect(() => parseCsr(pem)).toThrow(expect.objectContaining({ code: 'policy' }));
  });
});

describe('CertificateIssuer rules', () => {
  it('clamps validityDays to the maximum and backdates notBefore by 5 minutes', async () => {
    const { publicKey } = await generateKeyPair('P-256');
    const now = new Date('2026-01-10T12:00:00.750Z');
    const cert = t.issuer.issueUserCertificate({
      subjectKey: publicKey,
      userId: 'alice',
      domain: 'example.com',
      profile: 'user',
      validityDays: 5000,
      maxValidityDays: 90,
      now,
    });
    expect(cert.notBefore.toISOString()).toBe('2026-01-10T11:55:00.000Z');
    expect(cert.notAfter.toISOString()).toBe('2026-04-10T12:00:00.000Z');
  });

  it('never lets a certificate outlive the issuing CA', async () => {
    const { publicKey } = await generateKeyPair('P-256');
    const now = new Date(t.signer.certificate.notAfter.getTime() - 86_400_000);
    const cert = t.issuer.issueUserCertificate({
      subjectKey: publicKey,
      userId: 'alice',
      domain: 'example.com',
      profile: 'user',
      now,
    });
    expect(cert.notAfter.getTime()).toBe(t.signer.certificate.notAfter.getTime());
  });

  it.each([
    [{ userId: 'Al' }, 'argument'],
    [{ userId: 'alice', domain: 'Example..com' }, 'argument'],
    [{ validityDays: 0 }, 'argument'],
    [{ validityDays: 1.5 }, 'argument'],
    [{ email: 'ålice@example.com' }, 'policy'],
  ])('refuses %o with %s', async (patch, code) => {
    const { publicKey } = await generateKeyPair('P-256');
    expect(() =>
      t.issuer.issueUserCertificate({
        subjectKey: publicKey,
        userId: 'alice',
        domain: 'example.com',
        profile: 'user',
        ...patch,
      }),
    ).toThrow(expect.objectContaining({ code }));
  });

  it('truncates a display name longer than 64 characters (ub-common-name)', async () => {
    const { publicKey } = await generateKeyPair('P-256');
    const cert = t.issuer.issueUserCertificate({
      subjectKey: publicKey,
      userId: 'alice',
      domain: 'example.com',
      profile: 'user',
      displayName: 'Ä'.repeat(80),
    });
    expect(parseCertificate(cert.der).subject).toBe(`CN=${'Ä'.repeat(64)}`);
  });

  it('produces certificates that @peculiar/x509 parses and verifies against the intermediate', async () => {
    x509.cryptoProvider.set(webcrypto as unknown as WebCrypto);
    const { publicKey } = await generateKeyPair('RSA-2048');
    const cert = t.issuer.issueUserCertificate({
      subjectKey: publicKey,
      userId: 'dave',
      domain: 'example.com',
      profile: 'user',
      email: 'dave@example.com',
      displayName: 'Dave',
    });
    const parsed = new x509.X509Certificate(cert.der);
    const issuer = new x509.X509Certificate(t.ca.intermediate.certificateDer);
    expect(
      await parsed.verify(
        { publicKey: issuer.publicKey, signatureOnly: true },
        webcrypto as unknown as WebCrypto,
      ),
    ).toBe(true);
    expect(parsed.subject).toBe('CN=Dave');
    expect(parsed.serialNumber.toLowerCase()).toBe(cert.serialHex);
    const san = parsed.getExtension(x509.SubjectAlternativeNameExtension);
    expect(san?.names.toJSON()).toEqual([
      { type: 'email', value: 'dave@example.com' },
      { type: 'url', value: 'irp:dave@example.com' },
    ]);
    const eku = parsed.getExtension(x509.ExtendedKeyUsageExtension);
    expect(eku?.usages).toEqual(['1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.4']);
    const bc = parsed.getExtension(x509.BasicConstraintsExtension);
    expect(bc?.ca).toBe(false);
    expect(bc?.critical).toBe(true);
    const aki = parsed.getExtension(x509.AuthorityKeyIdentifierExtension);
    const ski = issuer.getExtension(x509.SubjectKeyIdentifierExtension);
    expect(aki?.keyId).toBe(ski?.keyId);
  });
});

describe('CertificateIssuer with other CA algorithms', () => {
  it.each(['P-256', 'RSA-4096'] as const)(
    'issues certificates openssl verifies under a %s CA',
    async (alg) => {
      const other = await testCa(alg);
      const { publicKey } = await generateKeyPair('P-256');
      const cert = other.issuer.issueUserCertificate({
        subjectKey: publicKey,
        userId: 'alice',
        domain: 'example.com',
        profile: 'user',
      });
      await dir.write(`${alg}-root.pem`, other.rootPem);
      await dir.write(`${alg}-int.pem`, other.intermediatePem);
      await dir.write(`${alg}-ee.pem`, cert.pem);
      const v = await openssl([
        'verify',
        '-purpose',
        'sslclient',
        '-CAfile',
        dir.file(`${alg}-root.pem`),
        '-untrusted',
        dir.file(`${alg}-int.pem`),
        dir.file(`${alg}-ee.pem`),
      ]);
      expect(v.stdout).toContain(': OK');
    },
    120_000,
  );

  it('refuses a CA signer whose key does not match its certificate', async () => {
    const a = await testCa('P-384');
    const b = await testCa('P-256');
    expect(() =>
      CaSigner.create({
        certificate: a.ca.intermediate.certificateDer,
        privateKey: b.ca.intermediate.privateKeyPkcs8Der,
      }),
    ).toThrow(expect.objectContaining({ code: 'mismatch' }));
  });
});

describe('CertificateIssuer.issueServerCertificate', () => {
  it('issues a TLS server certificate that openssl verifies for purpose sslserver', async () => {
    const { publicKey } = await generateKeyPair('P-256');
    const cert = t.issuer.issueServerCertificate({
      subjectKey: publicKey,
      dnsNames: ['dir.example.com'],
      ipAddresses: ['192.0.2.10', '2001:db8::0:1'],
    });
    await dir.write('server.pem', cert.pem);
    const v = await openssl([
      'verify',
      '-purpose',
      'sslserver',
      '-CAfile',
      dir.file('root.pem'),
      '-untrusted',
      dir.file('intermediate.pem'),
      dir.file('server.pem'),
    ]);
    expect(v.stdout).toContain(': OK');
    const host = await openssl([
      'verify',
      '-verify_hostname',
      'dir.example.com',
      '-verify_ip',
      '2001:db8::1',
      '-CAfile',
      dir.file('root.pem'),
      '-untrusted',
      dir.file('intermediate.pem'),
      dir.file('server.pem'),
    ]);
    expect(host.stdout).toContain(': OK');
    const text = ok(
      await openssl(['x509', '-in', dir.file('server.pem'), '-noout', '-text']),
    ).stdout;
    expect(text).toContain(
      'DNS:dir.example.com, IP Address:192.0.2.10, IP Address:2001:DB8:0:0:0:0:0:1',
    );
    expect(text).toMatch(/Extended Key Usage:\s*\n\s*TLS Web Server Authentication\n/);
    const client = await openssl([
      'verify',
      '-purpose',
      'sslclient',
      '-CAfile',
      dir.file('root.pem'),
      '-untrusted',
      dir.file('intermediate.pem'),
      dir.file('server.pem'),
    ]);
    expect(client.code).not.toBe(0);
  });
});
