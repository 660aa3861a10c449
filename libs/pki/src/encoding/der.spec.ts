import { describe, expect, it } from 'vitest';
import {
  children,
  DerError,
  readOid,
  readTime,
  readTlv,
  readUnsignedIntegerBytes,
  readWhole,
} from './der-reader.js';
import {
  generalizedTime,
  namedBits,
  oid,
  uint,
  uintFromBytes,
  utcTime,
  x509Time,
} from './der-writer.js';
import { formatSerialHex, isDomainSerialHex, normalizeSerialHex } from './hex.js';
import { derToPem, pemToDer, toDer } from './pem.js';
import { encodeName, formatName } from './name.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// Expected encodings are from X.690 examples and `openssl asn1parse -genstr` output.
describe('DER writer', () => {
  it.each([
    ['1.2.840.113549.1.1.11', '06092a864886f70d01010b'],
    ['2.5.29.17', '0603551d11'],
    ['1.3.6.1.5.5.7.3.2', '06082b06010505070302'],
    ['2.999.3', '0603883703'],
    ['0.9.2342.19200300.100.1.25', '060a0992268993f22c640119'],
  ])('encodes OID %s', (dotted, expected) => {
    expect(hex(oid(dotted))).toBe(expected);
    expect(readOid(oid(dotted), readWhole(oid(dotted)))).toBe(dotted);
  });

  it.each([
    [0, '020100'],
    [127, '02017f'],
    [128, '02020080'],
    [256, '02020100'],
    [2n ** 64n, '0209010000000000000000'],
  ])('encodes INTEGER %s', (value, expected) => {
    expect(hex(uint(value))).toBe(expected);
  });

  it('keeps a 16-octet serial with first octet 0x01–0x7f at exactly 16 content octets', () => {
    const serial = Buffer.from('7f' + '00'.repeat(15), 'hex');
    expect(hex(uintFromBytes(serial))).toBe('0210' + hex(serial));
    expect(hex(uintFromBytes(Buffer.from('80' + '00'.repeat(15), 'hex')))).toBe(
      '021100' + '80' + '00'.repeat(15),
    );
    expect(hex(uintFromBytes(Buffer.from('0001', 'hex')))).toBe('020101');
  });

  it.each([
    [[0], '03020780'],
    [[0, 4], '03020388'],
    [[5, 6], '03020106'],
    [[0, 8], '0303078080'],
  ])('encodes KeyUsage bits %o with trailing zero bits removed', (bits, expected) => {
    expect(hex(namedBits(bits))).toBe(expected);
  });

  it('writes UTCTime through 2049 and GeneralizedTime from 2050', () => {
    expect(hex(x509Time(new Date('2049-12-31T23:59:59.999Z')))).toBe(
      hex(utcTime(new Date('2049-12-31T23:59:59Z'))),
    );
    expect(
      Buffer.from(x509Time(new Date('2050-01-01T00:00:00Z')))
        .toString('latin1')
        .slice(2),
    ).toBe('20500101000000Z');
    expect(
      Buffer.from(generalizedTime(new Date('2026-11-25T08:00:00.5Z')))
        .toString('latin1')
        .slice(2),
    ).toBe('20261125080000Z');
    expect(
      readTime(
        utcTime(new Date('1999-01-02T03:04:05Z')),
        readWhole(utcTime(new Date('1999-01-02T03:04:05Z'))),
      ).toISOString(),
    ).toBe('1999-01-02T03:04:05.000Z');
  });
});

describe('DER reader', () => {
  it.each([
    ['indefinite length', '3080020100000'],
    ['length beyond the buffer', '300502010000'],
    ['truncated header', '30'],
    ['high tag number', '1f8101'],
  ])('refuses %s', (_name, h) => {
    expect(() => readWhole(Buffer.from(h.length % 2 ? `${h}0` : h, 'hex'))).toThrow(DerError);
  });

  it('refuses trailing bytes and non-minimal or negative INTEGERs', () => {
    expect(() => readWhole(Buffer.from('30000000', 'hex'))).toThrow(DerError);
    const nonMinimal = Buffer.from('02020001', 'hex');
    expect(() => readUnsignedIntegerBytes(nonMinimal, readTlv(nonMinimal, 0))).toThrow(DerError);
    const negative = Buffer.from('0201ff', 'hex');
    expect(() => readUnsignedIntegerBytes(negative, readTlv(negative, 0))).toThrow(DerError);
  });

  it('walks nested elements', () => {
    const buf = Buffer.from('300602010102010203', 'hex');
    expect(() => children(buf, readWhole(buf))).toThrow(DerError);
    const ok = Buffer.from('3006020101020102', 'hex');
    expect(children(ok, readWhole(ok)).map((t) => t.tag)).toEqual([2, 2]);
  });
});

describe('names, serials, PEM', () => {
  it('encodes a Name and formats it per RFC 4514 with escaping', () => {
    const der = encodeName([
      { type: 'C', value: 'DE' },
      { type: 'O', value: 'Acme, Inc.' },
      { type: 'OU', value: '#hash ' },
      { type: 'CN', value: ' #Ünïcode+' },
    ]);
    expect(formatName(der)).toBe('CN=\\ #Ünïcode\\+,OU=\\#hash\\ ,O=Acme\\, Inc.,C=DE');
  });

  it('formats serials as lower-case hex with the leading zero digit kept', () => {
    expect(formatSerialHex(Buffer.from('0a' + '11'.repeat(15), 'hex'))).toBe(
      '0a' + '11'.repeat(15),
    );
    expect(formatSerialHex(Buffer.from('00ff', 'hex'))).toBe('ff');
    expect(normalizeSerialHex('0A:BC')).toBe('0abc');
    expect(normalizeSerialHex('0x00ab')).toBe('ab');
    expect(normalizeSerialHex('xyz')).toBeUndefined();
    expect(isDomainSerialHex('0a' + '11'.repeat(15))).toBe(true);
    expect(isDomainSerialHex('00' + '11'.repeat(15))).toBe(false);
    expect(isDomainSerialHex('80' + '11'.repeat(15))).toBe(false);
    expect(isDomainSerialHex('0A' + '11'.repeat(15))).toBe(false);
  });

  it('writes PEM with 64-character lines and a trailing newline, and reads PEM, base64 and DER', () => {
    const der = Buffer.alloc(100, 7);
    const pem = derToPem(der, 'CERTIFICATE');
    expect(pem.split('\n').map((l) => l.length)).toEqual([27, 64, 64, 8, 25, 0]);
    expect(hex(pemToDer(`junk before\n${pem}junk after`, ['CERTIFICATE']))).toBe(hex(der));
    expect(hex(toDer(der.toString('base64').replace(/(.{10})/g, '$1\n '), ['CERTIFICATE']))).toBe(
      hex(der),
    );
    expect(hex(toDer(Buffer.from(pem), ['CERTIFICATE']))).toBe(hex(der));
    expect(() => pemToDer(pem + pem, ['CERTIFICATE'])).toThrow(
      expect.objectContaining({ code: 'syntax' }),
    );
    expect(() => toDer('not base64!', ['CERTIFICATE'])).toThrow(
      expect.objectContaining({ code: 'syntax' }),
    );
  });
});

describe('PEM scanning on hostile input', () => {
  it('stays linear for many BEGIN lines without END', () => {
    const text = '-----BEGIN CERTIFICATE-----\n'.repeat(40_000);
    const start = performance.now();
    expect(() => pemToDer(text, ['CERTIFICATE'])).toThrow(
      expect.objectContaining({ code: 'syntax' }),
    );
    expect(performance.now() - start).toBeLessThan(1000);
  });
});
