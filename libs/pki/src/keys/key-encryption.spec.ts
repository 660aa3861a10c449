import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, toPrivateKey } from './key-algorithm.js';
import { decryptPrivateKey, encryptPrivateKey, parseMasterKey } from './key-encryption.js';

const MASTER = randomBytes(32);

describe('encryptPrivateKey / decryptPrivateKey', () => {
  it('round-trips a PKCS#8 key and produces a versioned envelope with a fresh nonce', async () => {
    const { privateKeyPkcs8Der } = await generateKeyPair('P-384');
    const a = encryptPrivateKey(privateKeyPkcs8Der, MASTER, 'ca-key:intermediate:1');
    const b = encryptPrivateKey(privateKeyPkcs8Der, MASTER, 'ca-key:intermediate:1');
    expect(Buffer.from(a.subarray(0, 6)).toString('hex')).toBe(
      Buffer.from('IRPK\x01\x01', 'latin1').toString('hex'),
    );
    expect(a.length).toBe(6 + 12 + privateKeyPkcs8Der.length + 16);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    const plain = decryptPrivateKey(a, MASTER, 'ca-key:intermediate:1');
    expect(Buffer.from(plain).equals(Buffer.from(privateKeyPkcs8Der))).toBe(true);
    expect(toPrivateKey(plain).asymmetricKeyType).toBe('ec');
  });

  it('fails loudly with a wrong master key, a wrong context, or any tampered byte', () => {
    const env = encryptPrivateKey(Buffer.from('secret key bytes'), MASTER, 'ctx');
    expect(() => decryptPrivateKey(env, randomBytes(32), 'ctx')).toThrow(
      expect.objectContaining({ code: 'decrypt' }),
    );
    expect(() => decryptPrivateKey(env, MASTER, 'other')).toThrow(
      expect.objectContaining({ code: 'decrypt' }),
    );
    for (const i of [5, 6, 20, env.length - 1]) {
      const t = Buffer.from(env);
      t[i] = (t[i] ?? 0) ^ 0x01;
      expect(() => decryptPrivateKey(t, MASTER, 'ctx')).toThrow(
        expect.objectContaining({ code: i === 5 ? 'unsupported' : 'decrypt' }),
      );
    }
    expect(() => decryptPrivateKey(env.subarray(0, 20), MASTER, 'ctx')).toThrow(
      expect.objectContaining({ code: 'syntax' }),
    );
    expect(() =>
      decryptPrivateKey(Buffer.from('not an envelope at all, nope'), MASTER, 'ctx'),
    ).toThrow(expect.objectContaining({ code: 'syntax' }));
  });

  it('refuses a master key that is not 32 bytes', () => {
    expect(() => encryptPrivateKey(Buffer.from('x'), randomBytes(16), 'ctx')).toThrow(
      expect.objectContaining({ code: 'argument' }),
    );
  });
});

describe('parseMasterKey', () => {
  const key = Buffer.from(
    '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
    'hex',
  );
  it.each([
    ['lower hex', key.toString('hex')],
    ['upper hex with white space', `  ${key.toString('hex').toUpperCase()}\n`],
    ['base64', key.toString('base64')],
    ['base64 without padding', key.toString('base64').replace(/=$/, '')],
    ['base64url', key.toString('base64url')],
  ])('accepts %s', (_name, text) => {
    expect(Buffer.from(parseMasterKey(text)).equals(key)).toBe(true);
  });
  it.each([
    ['31 bytes of hex', key.subarray(1).toString('hex')],
    ['33 bytes of base64', Buffer.concat([key, Buffer.from([1])]).toString('base64')],
    ['a passphrase', 'correct horse battery staple'],
    ['empty', ''],
    ['non-canonical base64 (last bits set)', `${key.toString('base64').slice(0, 42)}9=`],
  ])('refuses %s', (_name, text) => {
    expect(() => parseMasterKey(text)).toThrow(expect.objectContaining({ code: 'argument' }));
  });
});
