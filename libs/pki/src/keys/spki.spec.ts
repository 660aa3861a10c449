import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { afterAll, beforeAll } from 'vitest';
import { makeTempDir, ok, openssl, type TempDir } from '../testing/openssl.js';
import { importSpki } from './spki.js';

let dir: TempDir;
beforeAll(async () => {
  dir = await makeTempDir();
});
afterAll(async () => {
  await dir.cleanup();
});

describe('importSpki', () => {
  it.each([
    ['P-256', generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, 'ECDSA P-256'],
    ['P-384', generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey, 'ECDSA P-384'],
    ['P-521', generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey, 'ECDSA P-521'],
    ['Ed25519', generateKeyPairSync('ed25519').publicKey, 'Ed25519'],
    ['RSA-2048', generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey, 'RSA-2048'],
  ])('imports %s and re-encodes it byte-identically to node:crypto', (_name, key, label) => {
    const der = key.export({ type: 'spki', format: 'der' });
    const r = importSpki(der);
    expect(r.keyAlgorithm.label).toBe(label);
    expect(Buffer.from(r.spkiDer).equals(der)).toBe(true);
    expect(r.publicKey.equals(key)).toBe(true);
  });

  it('decompresses a compressed EC point', async () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = await dir.write('k.pem', key.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    ok(
      await openssl([
        'ec',
        '-in',
        pem,
        '-pubout',
        '-conv_form',
        'compressed',
        '-outform',
        'DER',
        '-out',
        dir.file('c.der'),
      ]),
    );
    const compressed = await dir.read('c.der');
    expect(compressed.length).toBeLessThan(91);
    const r = importSpki(compressed);
    expect(
      Buffer.from(r.spkiDer).equals(key.publicKey.export({ type: 'spki', format: 'der' })),
    ).toBe(true);
  });

  it('refuses a point that is not on the curve with syntax', () => {
    const der = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
      type: 'spki',
      format: 'der',
    });
    der[der.length - 1] = (der[der.length - 1] ?? 0) ^ 0x01;
    expect(() => importSpki(der)).toThrow(expect.objectContaining({ code: 'syntax' }));
  });

  it.each([
    ['RSA-1024', generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey],
    ['secp256k1', generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey],
    ['X25519', generateKeyPairSync('x25519').publicKey],
    ['Ed448', generateKeyPairSync('ed448').publicKey],
    [
      'RSA with an even public exponent',
      createPublicKey({
        key: { kty: 'RSA', n: Buffer.alloc(256, 0xc5).toString('base64url'), e: 'AQAA' },
        format: 'jwk',
      }),
    ],
  ])('refuses %s with policy', (_name, key) => {
    expect(() => importSpki(key.export({ type: 'spki', format: 'der' }))).toThrow(
      expect.objectContaining({ code: 'policy' }),
    );
  });

  it('refuses garbage with syntax', () => {
    expect(() => importSpki(Buffer.from('3003020100', 'hex'))).toThrow(
      expect.objectContaining({ code: 'syntax' }),
    );
  });
});
