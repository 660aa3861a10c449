/**
 * A small DER writer. Every function returns a complete TLV as a Buffer; callers
 * nest them. It is deliberately minimal and allocation-light because the
 * certificate issuance hot path builds every TBSCertificate with it.
 *
 * Only single-octet tags are supported (tag numbers < 31), which covers X.509,
 * PKCS#10, CRL, OCSP and PKCS#12.
 */

/** ASN.1 universal and common context tags used by this library (first octet). */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

function headerLength(length: number): number {
  if (length < 0x80) return 2;
  if (length < 0x100) return 3;
  if (length < 0x10000) return 4;
  if (length < 0x1000000) return 5;
  return 6;
}

function writeHeader(out: Buffer, tag: number, length: number): number {
  out[0] = tag;
  if (length < 0x80) {
    out[1] = length;
    return 2;
  }
  if (length < 0x100) {
    out[1] = 0x81;
    out[2] = length;
    return 3;
  }
  if (length < 0x10000) {
    out[1] = 0x82;
    out.writeUInt16BE(length, 2);
    return 4;
  }
  if (length < 0x1000000) {
    out[1] = 0x83;
    out.writeUIntBE(length, 2, 3);
    return 5;
  }
  out[1] = 0x84;
  out.writeUInt32BE(length, 2);
  return 6;
}

/** A TLV with the given tag octet and content octets. */
export function tlv(tag: number, content: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(headerLength(content.length) + content.length);
  const h = writeHeader(out, tag, content.length);
  out.set(content, h);
  return out;
}

/** A constructed TLV whose content is the concatenation of `parts` (copied once). */
export function constructed(tag: number, parts: readonly Uint8Array[]): Buffer {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = Buffer.allocUnsafe(headerLength(length) + length);
  let offset = writeHeader(out, tag, length);
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** SEQUENCE of the given encoded elements. */
export function seq(...parts: Uint8Array[]): Buffer {
  return constructed(Tag.SEQUENCE, parts);
}

/** SET (OF) of the given encoded elements, sorted by their encodings as DER requires (X.690 §11.6). */
export function setOf(...parts: Uint8Array[]): Buffer {
  const sorted = [...parts].sort((a, b) => Buffer.compare(a, b));
  return constructed(Tag.SET, sorted);
}

/** `[n] EXPLICIT` wrapper (constructed, context class). */
export function explicit(n: number, inner: Uint8Array): Buffer {
  return tlv(0xa0 | n, inner);
}

/** `[n] IMPLICIT` primitive context tag around raw content octets. */
export function implicitPrimitive(n: number, content: Uint8Array): Buffer {
  return tlv(0x80 | n, content);
}

/** `[n] IMPLICIT` constructed context tag around encoded elements. */
export function implicitConstructed(n: number, ...parts: Uint8Array[]): Buffer {
  return constructed(0xa0 | n, parts);
}

/**
 * INTEGER from unsigned big-endian magnitude octets: leading zero octets are
 * stripped and a 0x00 is prepended when the high bit is set, so the value is
 * always non-negative and minimally encoded.
 */
export function uintFromBytes(magnitude: Uint8Array): Buffer {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const body = magnitude.subarray(i);
  if (body.length === 0) return Buffer.from([Tag.INTEGER, 1, 0]);
  if ((body[0] ?? 0) & 0x80) return constructed(Tag.INTEGER, [Buffer.from([0]), body]);
  return tlv(Tag.INTEGER, body);
}

/** INTEGER from a non-negative safe integer or bigint. */
export function uint(value: number | bigint): Buffer {
  let v = BigInt(value);
  if (v < 0n) throw new RangeError('negative INTEGER not supported');
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  } while (v > 0n);
  return uintFromBytes(Uint8Array.from(bytes));
}

/** BOOLEAN (DER: TRUE is 0xff). */
export function bool(value: boolean): Buffer {
  return Buffer.from([Tag.BOOLEAN, 1, value ? 0xff : 0x00]);
}

/** NULL. */
export const NULL: Buffer = Buffer.from([Tag.NULL, 0]);

/** OCTET STRING. */
export function octetString(content: Uint8Array): Buffer {
  return tlv(Tag.OCTET_STRING, content);
}

/** BIT STRING with `unusedBits` unused bits in the last octet. */
export function bitString(content: Uint8Array, unusedBits = 0): Buffer {
  return constructed(Tag.BIT_STRING, [Buffer.from([unusedBits]), content]);
}

/**
 * Named-bit BIT STRING (e.g. KeyUsage) from bit positions (bit 0 = the most
 * significant bit of the first octet), with trailing zero bits removed as DER
 * requires (X.690 §11.2.2).
 */
export function namedBits(bits: readonly number[]): Buffer {
  if (bits.length === 0) return Buffer.from([Tag.BIT_STRING, 1, 0]);
  const highest = Math.max(...bits);
  const octets = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const b of bits) octets[b >> 3] = (octets[b >> 3] ?? 0) | (0x80 >> (b & 7));
  const unused = 7 - (highest & 7);
  return bitString(octets, unused);
}

const oidCache = new Map<string, Buffer>();

/** OBJECT IDENTIFIER from dotted text (cached: OIDs repeat on every certificate). */
export function oid(dotted: string): Buffer {
  const cached = oidCache.get(dotted);
  if (cached) return cached;
  const arcs = dotted.split('.').map((a) => {
    if (!/^\d+$/.test(a)) throw new RangeError(`bad OID ${dotted}`);
    return BigInt(a);
  });
  if (arcs.length < 2) throw new RangeError(`bad OID ${dotted}`);
  const [first = 0n, second = 0n, ...rest] = arcs;
  const out: number[] = [];
  for (const arc of [first * 40n + second, ...rest]) {
    const chunk: number[] = [Number(arc & 0x7fn)];
    let v = arc >> 7n;
    while (v > 0n) {
      chunk.unshift(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(...chunk);
  }
  const encoded = tlv(Tag.OID, Uint8Array.from(out));
  oidCache.set(dotted, encoded);
  return encoded;
}

/** AlgorithmIdentifier with optional parameters (already encoded). */
export function algorithmIdentifier(dotted: string, parameters?: Uint8Array): Buffer {
  return parameters ? seq(oid(dotted), parameters) : seq(oid(dotted));
}

/** UTF8String. */
export function utf8String(text: string): Buffer {
  return tlv(Tag.UTF8_STRING, Buffer.from(text, 'utf8'));
}

/** IA5String; throws RangeError on non-ASCII text. */
export function ia5String(text: string, tag: number = Tag.IA5_STRING): Buffer {
  // eslint-disable-next-line no-control-regex
  if (!/^[\x00-\x7f]*$/.test(text)) throw new RangeError('IA5String must be ASCII');
  return tlv(tag, Buffer.from(text, 'latin1'));
}

/** PrintableString; throws RangeError on characters outside the PrintableString set. */
export function printableString(text: string): Buffer {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text)) throw new RangeError('not a PrintableString');
  return tlv(Tag.PRINTABLE_STRING, Buffer.from(text, 'latin1'));
}

/** BMPString (UTF-16BE). */
export function bmpString(text: string): Buffer {
  const b = Buffer.from(text, 'utf16le');
  b.swap16();
  return tlv(Tag.BMP_STRING, b);
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** UTCTime `YYMMDDHHMMSSZ` (seconds precision, milliseconds dropped). */
export function utcTime(date: Date): Buffer {
  const y = date.getUTCFullYear();
  if (y < 1950 || y > 2049) throw new RangeError('UTCTime covers 1950-2049');
  const s =
    pad2(y % 100) +
    pad2(date.getUTCMonth() + 1) +
    pad2(date.getUTCDate()) +
    pad2(date.getUTCHours()) +
    pad2(date.getUTCMinutes()) +
    pad2(date.getUTCSeconds()) +
    'Z';
  return tlv(Tag.UTC_TIME, Buffer.from(s, 'latin1'));
}

/** GeneralizedTime `YYYYMMDDHHMMSSZ` (no fractional seconds, as RFC 5280 §4.1.2.5.2 requires). */
export function generalizedTime(date: Date): Buffer {
  const y = date.getUTCFullYear();
  if (y < 0 || y > 9999) throw new RangeError('year out of range');
  const s =
    String(y).padStart(4, '0') +
    pad2(date.getUTCMonth() + 1) +
    pad2(date.getUTCDate()) +
    pad2(date.getUTCHours()) +
    pad2(date.getUTCMinutes()) +
    pad2(date.getUTCSeconds()) +
    'Z';
  return tlv(Tag.GENERALIZED_TIME, Buffer.from(s, 'latin1'));
}

/** X.509 `Time`: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5). */
export function x509Time(date: Date): Buffer {
  const y = date.getUTCFullYear();
  return y >= 1950 && y <= 2049 ? utcTime(date) : generalizedTime(date);
}
