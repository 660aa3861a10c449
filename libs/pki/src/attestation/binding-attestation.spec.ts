import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateKeyPair,
  type GeneratedKeyPair,
  type KeyAlgorithmName,
} from '../keys/key-algorithm.js';
import type { IssuedCertificate } from '../issuance/certificate-issuer.js';
import { testCa, type TestCa } from '../testing/fixtures.js';
import { makeTempDir, ok, openssl, type TempDir } from '../testing/openssl.js';
import {
  buildBindingAttestationText,
  checkBindingAttestationWindow,
  parseBindingAttestationText,
  signBindingAttestation,
  verifyBindingAttestation,
  type AttestationAlgorithm,
  type BindingAttestation,
} from './binding-attestation.js';

const T0 = new Date('2026-11-25T08:00:00Z');
const T1 = new Date('2026-11-25T09:00:00Z');

const SPEC_EXAMPLE: BindingAttestation = {
  user: 'alice@example.com',
  device: 'laptop',
  addresses: [{ family: 'ipv6', transport: 'tcp', port: 4605, address: '2001:db8::7' }],
  notBefore: T0,
  notAfter: T1,
};

describe('buildBindingAttestationText', () => {
  it.each<[string, BindingAttestation, string]>([
    [
      'the spec §8.2 example',
      SPEC_EXAMPLE,
      'IRP-BINDING-1\nuser:alice@example.com\ndevice:laptop\naddress:ipv6 tcp 4605 2001:db8::7\nnotBefore:2026-11-25T08:00:00Z\nnotAfter:2026-11-25T09:00:00Z',
    ],
    [
      'port 0 when absent, default transport tcp, byte-order sorting, canonical IPv6, truncated milliseconds',
      {
        user: 'bob@example.com',
        device: 'phone.1',
        addresses: [
          { family: 'ipv6', transport: 'udp', port: 80, address: '2001:DB8:0:0:0:0:0:42' },
          { family: 'ipv4', address: '198.51.100.7' },
          { family: 'ipv6', transport: 'quic', port: 443, address: '2001:db8::1' },
          { family: 'ipv4', transport: 'tcp', port: 4605, address: '198.51.100.7' },
        ],
        notBefore: new Date('2026-11-25T08:00:00.999Z'),
        notAfter: new Date('2026-11-26T08:00:00Z'),
      },
      [
        'IRP-BINDING-1',
        'user:bob@example.com',
        'device:phone.1',
        'address:ipv4 tcp 0 198.51.100.7',
        'address:ipv4 tcp 4605 198.51.100.7',
        'address:ipv6 quic 443 2001:db8::1',
        'address:ipv6 udp 80 2001:db8::42',
        'notBefore:2026-11-25T08:00:00Z',
        'notAfter:2026-11-26T08:00:00Z',
      ].join('\n'),
    ],
    [
      'ports compare as text in byte order, RFC 5952 zero-run choice',
      {
        user: 'c@example.com',
        device: 'd',
        addresses: [
          { family: 'ipv4', port: 80, address: '192.0.2.1' },
          { family: 'ipv4', port: 4605, address: '192.0.2.1' },
          {
            family: 'ipv6',
            transport: 'tls',
            port: 1,
            address: '2001:0db8:0000:0000:0001:0000:0000:0001',
          },
        ],
        notBefore: T0,
        notAfter: T1,
      },
      [
        'IRP-BINDING-1',
        'user:c@example.com',
        'device:d',
        'address:ipv4 tcp 4605 192.0.2.1',
        'address:ipv4 tcp 80 192.0.2.1',
        'address:ipv6 tls 1 2001:db8::1:0:0:1',
        'notBefore:2026-11-25T08:00:00Z',
        'notAfter:2026-11-25T09:00:00Z',
      ].join('\n'),
    ],
  ])('builds %s', (_name, input, expected) => {
    const text = buildBindingAttestationText(input);
    expect(text).toBe(expected);
    expect(text.endsWith('\n')).toBe(false);
    expect(buildBindingAttestationText(parseBindingAttestationText(text))).toBe(text);
  });

  it.each<[string, Partial<BindingAttestation>]>([
    [
      'a family that does not match the address',
      { addresses: [{ family: 'ipv4', address: '2001:db8::1' }] },
    ],
    ['no address', { addresses: [] }],
    ['a bad device', { device: 'my laptop' }],
    ['a user with a line break', { user: 'alice@example.com\nuser:eve@example.com' }],
    ['port 70000', { addresses: [{ family: 'ipv4', port: 70000, address: '192.0.2.1' }] }],
  ])('refuses %s', (_name, patch) => {
    expect(() => buildBindingAttestationText({ ...SPEC_EXAMPLE, ...patch })).toThrow(
      expect.objectContaining({ code: 'syntax' }),
    );
  });
});

describe('parseBindingAttestationText', () => {
  const good = buildBindingAttestationText(SPEC_EXAMPLE);
  it('parses the spec example', () => {
    expect(parseBindingAttestationText(Buffer.from(good))).toEqual(SPEC_EXAMPLE);
  });
  it.each([
    ['a trailing LF', `${good}\n`],
    ['CRLF line ends', good.replace(/\n/g, '\r\n')],
    ['a non-canonical IPv6 address', good.replace('2001:db8::7', '2001:DB8::7')],
    [
      'unsorted addresses',
      good.replace(
        'address:ipv6 tcp 4605 2001:db8::7',
        'address:ipv6 tcp 4605 2001:db8::7\naddress:ipv4 tcp 1 192.0.2.1',
      ),
    ],
    ['a wrong header', good.replace('IRP-BINDING-1', 'IRP-BINDING-2')],
    ['a time with milliseconds', good.replace('08:00:00Z', '08:00:00.000Z')],
    ['a port with a leading zero', good.replace('4605', '04605')],
  ])('refuses %s', (_name, text) => {
    expect(() => parseBindingAttestationText(text)).toThrow(
      expect.objectContaining({ code: 'syntax' }),
    );
  });
  it('refuses invalid UTF-8', () => {
    expect(() => parseBindingAttestationText(Buffer.from([0x49, 0xff, 0xfe]))).toThrow(
      expect.objectContaining({ code: 'syntax' }),
    );
  });
});

describe('checkBindingAttestationWindow', () => {
  it('accepts up to 86 400 s and refuses a past notAfter or a longer window', () => {
    expect(() =>
      checkBindingAttestationWindow(SPEC_EXAMPLE, new Date('2026-11-25T08:30:00Z')),
    ).not.toThrow();
    expect(() => checkBindingAttestationWindow(SPEC_EXAMPLE, T1)).toThrow(
      expect.objectContaining({ code: 'policy' }),
    );
    const long = { ...SPEC_EXAMPLE, notAfter: new Date(T0.getTime() + 86_401_000) };
    expect(() => checkBindingAttestationWindow(long, T0)).toThrow(
      expect.objectContaining({ code: 'policy' }),
    );
  });
});

describe('sign/verify', () => {
  let t: TestCa;
  let dir: TempDir;
  const certs = new Map<KeyAlgorithmName, { keys: GeneratedKeyPair; cert: IssuedCertificate }>();
  const text = buildBindingAttestationText(SPEC_EXAMPLE);

  beforeAll(async () => {
    t = await testCa('P-384');
    dir = await makeTempDir();
    for (const alg of ['P-256', 'P-384', 'Ed25519', 'RSA-2048'] as const) {
      const keys = await generateKeyPair(alg);
      const cert = t.issuer.issueUserCertificate({
        subjectKey: keys.publicKey,
        userId: 'alice',
        domain: 'example.com',
        profile: 'user',
      });
      certs.set(alg, { keys, cert });
    }
  });
  afterAll(async () => {
    await dir.cleanup();
  });

  it.each<[AttestationAlgorithm, KeyAlgorithmName]>([
    ['ecdsa-sha256', 'P-256'],
    ['ecdsa-sha384', 'P-384'],
    ['ecdsa-sha256', 'P-384'],
    ['ed25519', 'Ed25519'],
    ['rsa-pkcs1-sha256', 'RSA-2048'],
  ])('signs and verifies with %s on a %s key; tampering fails', (alg, keyAlg) => {
    const { keys, cert } = certs.get(keyAlg)!;
    const sig = signBindingAttestation(keys.privateKey, alg, text);
    if (alg.startsWith('ecdsa')) expect(sig[0]).toBe(0x30); // DER SEQUENCE
    expect(verifyBindingAttestation(cert.der, alg, Buffer.from(text), sig)).toBe(true);
    expect(verifyBindingAttestation(cert.pem, alg, text.replace('4605', '4606'), sig)).toBe(false);
    const bad = Buffer.from(sig);
    bad[bad.length - 3] = (bad[bad.length - 3] ?? 0) ^ 0x01;
    expect(verifyBindingAttestation(cert.der, alg, text, bad)).toBe(false);
  });

  it('refuses an algorithm that does not fit the key type', () => {
    const ec = certs.get('P-256')!;
    expect(() => signBindingAttestation(ec.keys.privateKey, 'ed25519', text)).toThrow(
      expect.objectContaining({ code: 'mismatch' }),
    );
    const sig = signBindingAttestation(ec.keys.privateKey, 'ecdsa-sha256', text);
    expect(() => verifyBindingAttestation(ec.cert.der, 'rsa-pkcs1-sha256', text, sig)).toThrow(
      expect.objectContaining({ code: 'mismatch' }),
    );
    const rsa = certs.get('RSA-2048')!;
    expect(() => verifyBindingAttestation(rsa.cert.der, 'ecdsa-sha256', text, sig)).toThrow(
      expect.objectContaining({ code: 'mismatch' }),
    );
    expect(() =>
      verifyBindingAttestation(rsa.cert.der, 'hmac' as AttestationAlgorithm, text, sig),
    ).toThrow(expect.objectContaining({ code: 'unsupported' }));
  });

  it.each<[AttestationAlgorithm, KeyAlgorithmName, string[]]>([
    ['ecdsa-sha256', 'P-256', ['dgst', '-sha256', '-sign']],
    ['rsa-pkcs1-sha256', 'RSA-2048', ['dgst', '-sha256', '-sign']],
    ['ed25519', 'Ed25519', ['pkeyutl', '-sign', '-rawin', '-inkey']],
  ])('verifies a %s signature made by openssl', async (alg, keyAlg, cmd) => {
    const { keys, cert } = certs.get(keyAlg)!;
    const key = await dir.write(
      `${alg}.key`,
      keys.privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    const msg = await dir.write(`${alg}.txt`, text);
    ok(
      await openssl([
        ...cmd,
        key,
        '-out',
        dir.file(`${alg}.sig`),
        ...(cmd[0] === 'dgst' ? [msg] : ['-in', msg]),
      ]),
    );
    const sig = await dir.read(`${alg}.sig`);
    expect(verifyBindingAttestation(cert.der, alg, await dir.read(`${alg}.txt`), sig)).toBe(true);
  });
});
