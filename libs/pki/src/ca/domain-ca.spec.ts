import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate } from '../certificate/parsed-certificate.js';
import { makeTempDir, ok, openssl, type TempDir } from '../testing/openssl.js';
import { testCa } from '../testing/fixtures.js';
import { CaSigner } from './ca-signer.js';
import { createDomainCa, importCa, type CaKeyAlgorithm } from './domain-ca.js';

let dir: TempDir;
beforeAll(async () => {
  dir = await makeTempDir();
});
afterAll(async () => {
  await dir.cleanup();
});

describe('createDomainCa', () => {
  it.each<[CaKeyAlgorithm, string, string]>([
    ['P-384', 'ecdsa-with-SHA384', 'NIST CURVE: P-384'],
    ['P-256', 'ecdsa-with-SHA256', 'NIST CURVE: P-256'],
    ['RSA-4096', 'sha256WithRSAEncryption', 'Public-Key: (4096 bit)'],
  ])(
    'creates a %s root and intermediate that openssl verifies',
    async (algorithm, sigAlg, keyText) => {
      const now = new Date('2026-01-01T00:00:00Z');
      const ca =
        algorithm === 'RSA-4096'
          ? await createDomainCa({ domain: 'Example.COM', algorithm, now })
          : (await testCa(algorithm)).ca;
      const root = await dir.write(`${algorithm}-root.pem`, ca.root.certificatePem);
      const int = await dir.write(`${algorithm}-int.pem`, ca.intermediate.certificatePem);
      expect((await openssl(['verify', '-CAfile', root, int])).stdout).toContain(': OK');
      expect((await openssl(['verify', '-x509_strict', '-CAfile', root, root])).stdout).toContain(
        ': OK',
      );
      const rootText = ok(await openssl(['x509', '-in', root, '-noout', '-text'])).stdout;
      const intText = ok(await openssl(['x509', '-in', int, '-noout', '-text'])).stdout;
      expect(rootText).toContain(`Signature Algorithm: ${sigAlg}`);
      expect(rootText).toContain(keyText);
      expect(rootText).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:1/);
      expect(rootText).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
      expect(rootText).toContain('X509v3 Subject Key Identifier');
      expect(intText).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
      expect(intText).toMatch(
        /Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/,
      );
      expect(intText).toContain('X509v3 Authority Key Identifier');
      expect(ca.root.serialHex).toMatch(/^[0-7][0-9a-f]{31}$/);
      const years = (d: { notBefore: Date; notAfter: Date }): number =>
        (d.notAfter.getTime() - d.notBefore.getTime()) / (365.25 * 86_400_000);
      expect(years(ca.root)).toBeCloseTo(20, 1);
      expect(years(ca.intermediate)).toBeCloseTo(10, 1);
      if (algorithm === 'RSA-4096') {
        expect(ca.root.subject).toBe('CN=example.com IRP Root CA,O=example.com');
        expect(ca.root.notBefore.toISOString()).toBe('2025-12-31T23:00:00.000Z');
      }
    },
    120_000,
  );

  it('produces certificates @peculiar/x509 parses with the same SKI/AKI linkage', async () => {
    const { ca } = await testCa('P-384');
    const root = new x509.X509Certificate(ca.root.certificateDer);
    const int = new x509.X509Certificate(ca.intermediate.certificateDer);
    expect(int.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(
      root.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId,
    );
    expect(int.getExtension(x509.BasicConstraintsExtension)?.pathLength).toBe(0);
    expect(await root.isSelfSigned()).toBe(true);
  });

  it('uses UTCTime before 2050 and GeneralizedTime from 2050 on', async () => {
    const ca = await createDomainCa({
      domain: 'example.com',
      algorithm: 'P-256',
      now: new Date('2040-06-01T00:00:00Z'),
    });
    const root = await dir.write('late-root.pem', ca.root.certificatePem);
    const asn = ok(await openssl(['asn1parse', '-in', root])).stdout;
    expect(asn).toContain('UTCTIME           :400531230000Z');
    expect(asn).toContain('GENERALIZEDTIME   :20600531230000Z');
    expect(parseCertificate(ca.root.certificateDer).notAfter.toISOString()).toBe(
      '2060-05-31T23:00:00.000Z',
    );
  });

  it('refuses a bad domain', async () => {
    await expect(createDomainCa({ domain: 'not a domain' })).rejects.toMatchObject({
      code: 'argument',
    });
  });
});

describe('importCa and CaSigner', () => {
  beforeAll(async () => {
    const cnf = [
      '[req]',
      'distinguished_name=dn',
      '[dn]',
      '[v3_ca]',
      'basicConstraints=critical,CA:TRUE',
      'keyUsage=critical,keyCertSign,cRLSign',
      'subjectKeyIdentifier=hash',
      '[v3_ee]',
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
    ].join('\n');
    await dir.write('openssl.cnf', cnf);
    ok(
      await openssl([
        'req',
        '-x509',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        dir.file('op.key'),
        '-out',
        dir.file('op.pem'),
        '-subj',
        '/O=Operator/CN=Operator CA',
        '-days',
        '3650',
        '-config',
        dir.file('openssl.cnf'),
        '-extensions',
        'v3_ca',
      ]),
    );
    ok(
      await openssl([
        'req',
        '-x509',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        dir.file('ee.key'),
        '-out',
        dir.file('ee.pem'),
        '-subj',
        '/CN=not a ca',
        '-days',
        '30',
        '-config',
        dir.file('openssl.cnf'),
        '-extensions',
        'v3_ee',
      ]),
    );
    ok(
      await openssl([
        'pkey',
        '-in',
        dir.file('op.key'),
        '-aes256',
        '-passout',
        'pass:s3cret',
        '-out',
        dir.file('op-enc.key'),
      ]),
    );
    ok(await openssl(['ec', '-in', dir.file('op.key'), '-out', dir.file('op-sec1.key')]));
  });

  it('imports an operator CA certificate and key (PKCS#8, SEC1 and encrypted PEM)', async () => {
    const cert = (await dir.read('op.pem')).toString();
    for (const [file, passphrase] of [
      ['op.key', undefined],
      ['op-sec1.key', undefined],
      ['op-enc.key', 's3cret'],
    ] as const) {
      const imported = importCa({
        certificate: cert,
        privateKey: (await dir.read(file)).toString(),
        ...(passphrase ? { passphrase } : {}),
      });
      expect(imported.subject).toBe('CN=Operator CA,O=Operator');
      expect(imported.keyAlgorithm.label).toBe('ECDSA P-256');
      expect(() =>
        CaSigner.create({
          certificate: imported.certificateDer,
          privateKey: imported.privateKeyPkcs8Der,
        }),
      ).not.toThrow();
    }
  });

  it('refuses a key that does not match, a non-CA certificate and a wrong passphrase', async () => {
    const cert = (await dir.read('op.pem')).toString();
    await expect(async () =>
      importCa({ certificate: cert, privateKey: (await dir.read('ee.key')).toString() }),
    ).rejects.toMatchObject({ code: 'mismatch' });
    await expect(async () =>
      importCa({
        certificate: (await dir.read('ee.pem')).toString(),
        privateKey: (await dir.read('ee.key')).toString(),
      }),
    ).rejects.toMatchObject({ code: 'chain' });
    await expect(async () =>
      importCa({
        certificate: cert,
        privateKey: (await dir.read('op-enc.key')).toString(),
        passphrase: 'nope',
      }),
    ).rejects.toMatchObject({ code: 'decrypt' });
  });

  it('verifies a supplied chain and refuses a wrong one', async () => {
    const { ca } = await testCa('P-384');
    const imported = importCa({
      certificate: ca.intermediate.certificatePem,
      privateKey: ca.intermediate.privateKeyPkcs8Der,
      chain: ca.root.certificatePem,
    });
    expect(imported.chainDer).toHaveLength(1);
    const op = (await dir.read('op.pem')).toString();
    expect(() =>
      importCa({
        certificate: ca.intermediate.certificatePem,
        privateKey: ca.intermediate.privateKeyPkcs8Der,
        chain: op,
      }),
    ).toThrow(expect.objectContaining({ code: 'chain' }));
  });

  it('refuses an expired CA with validity', async () => {
    const { ca } = await testCa('P-384');
    expect(() =>
      importCa({
        certificate: ca.intermediate.certificateDer,
        privateKey: ca.intermediate.privateKeyPkcs8Der,
        now: new Date('2100-01-01T00:00:00Z'),
      }),
    ).toThrow(expect.objectContaining({ code: 'validity' }));
  });
});
