import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, spkiDer, toPrivateKey } from '../keys/key-algorithm.js';
import type { PkiError } from '../pki.error.js';
import { parseCertificate } from '../certificate/parsed-certificate.js';
import type { IssuedCertificate } from '../issuance/certificate-issuer.js';
import { testCa, type TestCa } from '../testing/fixtures.js';
import { makeTempDir, ok, openssl, type TempDir } from '../testing/openssl.js';
import { buildPkcs12 } from './pkcs12-builder.js';
import { bmpPassword, pkcs12Kdf } from './pkcs12-kdf.js';
import { inspectPkcs12, readPkcs12 } from './pkcs12-reader.js';
import type { GeneratedKeyPair } from '../keys/key-algorithm.js';

let dir: TempDir;
let t: TestCa;
let keys: GeneratedKeyPair;
let cert: IssuedCertificate;
let p12: Uint8Array;
const PASS = 'correct horse battery staple';

beforeAll(async () => {
  dir = await makeTempDir();
  t = await testCa('P-384');
  keys = await generateKeyPair('P-256');
  cert = t.issuer.issueUserCertificate({
    subjectKey: keys.publicKey,
    userId: 'alice',
    domain: 'example.com',
    profile: 'user',
  });
  p12 = await buildPkcs12({
    privateKey: keys.privateKeyPkcs8Der,
    certificate: cert.der,
    chain: [t.ca.intermediate.certificateDer, t.ca.root.certificateDer],
    passphrase: PASS,
    friendlyName: 'alice@example.com',
    iterations: 2048,
  });
  await dir.write('a.p12', p12);
});
afterAll(async () => {
  await dir.cleanup();
});

describe('pkcs12Kdf (RFC 7292 Appendix B)', () => {
  // Independent vectors: the classic PKCS#12 KDF test values of BouncyCastle's PKCS12Test (SHA-1).
  it.each([
    // [password, salt hex, id, iterations, length, expected hex]
    ['smeg', '0a58cf64530d823f', 1, 1, 24, '8aaae6297b6cb04642ab5b077851284eb7128f1a2a7fbca3'],
    ['smeg', '0a58cf64530d823f', 2, 1, 8, '79993dfe048d3b76'],
    ['queeg', '05dec959acff72f7', 1, 1000, 24, 'ed2034e36328830ff09df1e1a07dd357185dac0d4f9eb3d4'],
    ['queeg', '05dec959acff72f7', 2, 1000, 8, '11dedad7758d4860'],
  ])(
    'derives the known value for password %s, salt %s, id %i, %i iterations',
    async (pw, salt, id, iter, len, expected) => {
      const out = await pkcs12Kdf('sha1', bmpPassword(pw), Buffer.from(salt, 'hex'), iter, id, len);
      expect(out.toString('hex')).toBe(expected);
    },
  );
});

describe('buildPkcs12', () => {
  it('opens with openssl pkcs12 (OpenSSL 3 defaults, no -legacy) and contains the key, certificate and chain', async () => {
    const out = ok(
      await openssl(['pkcs12', '-in', dir.file('a.p12'), '-passin', `pass:${PASS}`, '-nodes']),
    );
    expect(out.stdout).toContain('-----BEGIN PRIVATE KEY-----');
    expect(out.stdout.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(3);
    expect(out.stdout).toContain('friendlyName: alice@example.com');
    const info = ok(
      await openssl([
        'pkcs12',
        '-in',
        dir.file('a.p12'),
        '-passin',
        `pass:${PASS}`,
        '-info',
        '-noout',
      ]),
    );
    expect(info.stderr).toContain('MAC: sha256, Iteration 2048');
    expect(info.stderr).toContain(
      'PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256',
    );
    expect(info.stderr).toContain(
      'Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256',
    );
    // The key openssl extracted is ours.
    await dir.write('out.pem', out.stdout);
    const keyPem = ok(await openssl(['pkey', '-in', dir.file('out.pem'), '-pubout'])).stdout;
    expect(spkiDer(createPublicKey(keyPem)).equals(spkiDer(keys.publicKey))).toBe(true);
    const certPem = ok(await openssl(['x509', '-in', dir.file('out.pem')])).stdout;
    expect(parseCertificate(certPem).sha256).toBe(cert.sha256);
  });

  it('is refused by openssl with a wrong passphrase', async () => {
    const out = await openssl([
      'pkcs12',
      '-in',
      dir.file('a.p12'),
      '-passin',
      'pass:wrong',
      '-nodes',
    ]);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/mac verify error/i);
  });

  it('handles a non-ASCII passphrase the way OpenSSL does', async () => {
    const pass = 'pässwörd-€-😀';
    const file = await buildPkcs12({
      privateKey: keys.privateKey,
      certificate: cert.pem,
      passphrase: pass,
      iterations: 2048,
    });
    await dir.write('u.p12', file);
    const out = await openssl([
      'pkcs12',
      '-in',
      dir.file('u.p12'),
      '-passin',
      `pass:${pass}`,
      '-nodes',
    ]);
    expect(out.stderr).toBe('');
    expect(out.stdout).toContain('-----BEGIN PRIVATE KEY-----');
  });

  it('refuses a key that is not the certificate key, and an empty passphrase', async () => {
    const other = await generateKeyPair('P-256');
    await expect(
      buildPkcs12({ privateKey: other.privateKey, certificate: cert.der, passphrase: PASS }),
    ).rejects.toMatchObject({
      code: 'mismatch',
    });
    await expect(
      buildPkcs12({ privateKey: keys.privateKey, certificate: cert.der, passphrase: '' }),
    ).rejects.toMatchObject({
      code: 'argument',
    });
  });

  it('uses 100 000 iterations by default', async () => {
    const file = await buildPkcs12({
      privateKey: keys.privateKey,
      certificate: cert.der,
      passphrase: PASS,
    });
    expect(inspectPkcs12(file).macIterations).toBe(100_000);
  });
});

describe('readPkcs12', () => {
  it('reads back our own file', async () => {
    const c = await readPkcs12(p12, PASS);
    expect(Buffer.from(c.certificateDer).equals(Buffer.from(cert.der))).toBe(true);
    expect(c.chainDer).toHaveLength(2);
    expect(c.friendlyName).toBe('alice@example.com');
    expect(
      spkiDer(createPublicKey(toPrivateKey(c.privateKeyPkcs8Der))).equals(spkiDer(keys.publicKey)),
    ).toBe(true);
  });

  it('fails with decrypt on a wrong passphrase and on a tampered file', async () => {
    await expect(readPkcs12(p12, 'wrong')).rejects.toMatchObject({ code: 'decrypt' });
    const tampered = Buffer.from(p12);
    tampered[200] = (tampered[200] ?? 0) ^ 0xff;
    const error: unknown = await readPkcs12(tampered, PASS).catch((e: unknown) => e);
    expect(['decrypt', 'syntax']).toContain((error as PkiError).code);
  });

  it('reads an openssl-made PFX (OpenSSL 3 defaults) and a -legacy one with 3DES key bags', async () => {
    await dir.write('key.pem', keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await dir.write('cert.pem', cert.pem);
    await dir.write('chain.pem', t.intermediatePem);
    ok(
      await openssl([
        'pkcs12',
        '-export',
        '-inkey',
        dir.file('key.pem'),
        '-in',
        dir.file('cert.pem'),
        '-certfile',
        dir.file('chain.pem'),
        '-passout',
        'pass:pw',
        '-out',
        dir.file('o.p12'),
      ]),
    );
    const c = await readPkcs12(await dir.read('o.p12'), 'pw');
    expect(parseCertificate(c.certificateDer).sha256).toBe(cert.sha256);
    expect(c.chainDer).toHaveLength(1);
    ok(
      await openssl([
        'pkcs12',
        '-export',
        '-inkey',
        dir.file('key.pem'),
        '-in',
        dir.file('cert.pem'),
        '-keypbe',
        'PBE-SHA1-3DES',
        '-certpbe',
        'PBE-SHA1-3DES',
        '-macalg',
        'sha1',
        '-passout',
        'pass:pw',
        '-out',
        dir.file('l.p12'),
      ]),
    );
    const l = await readPkcs12(await dir.read('l.p12'), 'pw');
    expect(parseCertificate(l.certificateDer).sha256).toBe(cert.sha256);
  });
});

describe('inspectPkcs12', () => {
  it('describes our file without a passphrase', () => {
    expect(inspectPkcs12(p12)).toEqual({
      version: 3,
      integrity: 'password',
      macAlgorithm: 'sha256',
      macIterations: 2048,
      contentTypes: ['encryptedData', 'data'],
      size: p12.length,
    });
  });

  it('accepts an openssl-made PFX', async () => {
    await dir.write('k2.pem', keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await dir.write('c2.pem', cert.pem);
    ok(
      await openssl([
        'pkcs12',
        '-export',
        '-inkey',
        dir.file('k2.pem'),
        '-in',
        dir.file('c2.pem'),
        '-passout',
        'pass:x',
        '-out',
        dir.file('o2.p12'),
      ]),
    );
    const info = inspectPkcs12(await dir.read('o2.p12'));
    expect(info).toMatchObject({ version: 3, integrity: 'password', macAlgorithm: 'sha256' });
  });

  it('accepts a BER (indefinite-length) PFX', async () => {
    // Re-encode the outer PFX and authSafe with indefinite lengths and a constructed OCTET STRING.
    const asn1js = await import('asn1js');
    const pfx = asn1js.fromBER(p12).result as InstanceType<typeof asn1js.Sequence>;
    pfx.lenBlock.isIndefiniteForm = true;
    const ber = Buffer.from(pfx.toBER(false));
    expect(ber.subarray(0, 2).toString('hex')).toBe('3080');
    expect(inspectPkcs12(ber).version).toBe(3);
  });

  it.each([
    ['garbage', Buffer.from('this is not a pfx at all')],
    ['empty input', Buffer.alloc(0)],
    ['version 2', Buffer.from('3003020102', 'hex')],
    ['an empty SEQUENCE', Buffer.from('3000', 'hex')],
  ])('refuses %s with a syntax error', (_n, bytes) => {
    expect(() => inspectPkcs12(bytes)).toThrow(expect.objectContaining({ code: 'syntax' }));
  });

  it('refuses a certificate DER and trailing bytes', () => {
    expect(() => inspectPkcs12(cert.der)).toThrow(expect.objectContaining({ code: 'syntax' }));
    expect(() => inspectPkcs12(Buffer.concat([p12, Buffer.from([0])]))).toThrow(
      expect.objectContaining({ code: 'syntax' }),
    );
  });
});
