/**
 * A strict, bounds-checked DER reader for untrusted input (CSRs, certificates).
 * It only locates TLVs; interpretation is left to the callers, which keep the
 * exact encoded bytes (needed to verify signatures over them).
 *
 * Rejected: indefinite lengths, high tag numbers (>= 31), lengths beyond the
 * enclosing element. BER input (PKCS#12 files) is read with asn1js instead.
 */

/** Thrown for malformed DER; callers convert it to `PkiError('syntax')`. */
export class DerError extends Error {
  override readonly name = 'DerError';
}

/** One located TLV inside a buffer. */
export interface Tlv {
  /** The identifier octet (class | constructed | number). */
  readonly tag: number;
  /** Offset of the identifier octet. */
  readonly start: number;
  /** Offset of the first content octet. */
  readonly contentStart: number;
  /** Offset just past the last content octet. */
  readonly end: number;
}

/** Reads the TLV at `offset`; it must end at or before `limit`. */
export function readTlv(buf: Uint8Array, offset: number, limit: number = buf.length): Tlv {
  if (offset + 2 > limit) throw new DerError('truncated DER header');
  const tag = buf[offset] ?? 0;
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not supported');
  const first = buf[offset + 1] ?? 0;
  let length: number;
  let contentStart: number;
  if (first < 0x80) {
    length = first;
    contentStart = offset + 2;
  } else {
    const n = first & 0x7f;
    if (n === 0) throw new DerError('indefinite length is not DER');
    if (n > 4) throw new DerError('DER length too large');
    if (offset + 2 + n > limit) throw new DerError('truncated DER length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + (buf[offset + 2 + i] ?? 0);
    contentStart = offset + 2 + n;
  }
  const end = contentStart + length;
  if (end > limit) throw new DerError('DER length exceeds the enclosing element');
  return { tag, start: offset, contentStart, end };
}

/** Reads exactly one TLV spanning the whole buffer (no trailing bytes). */
export function readWhole(buf: Uint8Array, expectedTag?: number): Tlv {
  const t = readTlv(buf, 0, buf.length);
  if (t.end !== buf.length) throw new DerError('trailing bytes after DER element');
  if (expectedTag !== undefined && t.tag !== expectedTag) throw new DerError('unexpected tag');
  return t;
}

/** The children of a constructed TLV. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  if ((parent.tag & 0x20) === 0) throw new DerError('expected a constructed element');
  const out: Tlv[] = [];
  let offset = parent.contentStart;
  while (offset < parent.end) {
    const t = readTlv(buf, offset, parent.end);
    out.push(t);
    offset = t.end;
  }
  return out;
}

/** The content octets of a TLV (a view, not a copy). */
export function content(buf: Uint8Array, t: Tlv): Uint8Array {
  return buf.subarray(t.contentStart, t.end);
}

/** The whole encoding of a TLV (a view, not a copy). */
export function encoding(buf: Uint8Array, t: Tlv): Uint8Array {
  return buf.subarray(t.start, t.end);
}

/** Asserts the tag of a TLV that may be missing. */
export function expect(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t || t.tag !== tag) throw new DerError(`expected ${what}`);
  return t;
}

/** Decodes an OBJECT IDENTIFIER TLV to dotted text. */
export function readOid(buf: Uint8Array, t: Tlv): string {
  if (t.tag !== 0x06) throw new DerError('expected OBJECT IDENTIFIER');
  const c = content(buf, t);
  if (c.length === 0) throw new DerError('empty OBJECT IDENTIFIER');
  const arcs: bigint[] = [];
  let v = 0n;
  let inArc = false;
  for (const byte of c) {
    if (!inArc && byte === 0x80) throw new DerError('non-minimal OID arc');
    v = (v << 7n) | BigInt(byte & 0x7f);
    inArc = (byte & 0x80) !== 0;
    if (!inArc) {
      arcs.push(v);
      v = 0n;
    }
  }
  if (inArc) throw new DerError('truncated OID arc');
  const [first = 0n, ...rest] = arcs;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...rest].join('.');
}

/** Decodes a BIT STRING TLV; returns the octets and the count of unused bits. */
export function readBitString(buf: Uint8Array, t: Tlv): { bytes: Uint8Array; unusedBits: number } {
  if (t.tag !== 0x03) throw new DerError('expected BIT STRING');
  const c = content(buf, t);
  const unusedBits = c[0];
  if (unusedBits === undefined || unusedBits > 7) throw new DerError('bad BIT STRING');
  if (c.length === 1 && unusedBits !== 0) throw new DerError('bad BIT STRING');
  return { bytes: c.subarray(1), unusedBits };
}

/** Decodes a non-negative INTEGER TLV to its magnitude octets (sign octet removed). */
export function readUnsignedIntegerBytes(buf: Uint8Array, t: Tlv): Uint8Array {
  if (t.tag !== 0x02) throw new DerError('expected INTEGER');
  const c = content(buf, t);
  if (c.length === 0) throw new DerError('empty INTEGER');
  if ((c[0] ?? 0) & 0x80) throw new DerError('negative INTEGER');
  if (c.length > 1 && c[0] === 0 && ((c[1] ?? 0) & 0x80) === 0) {
    throw new DerError('non-minimal INTEGER');
  }
  return c[0] === 0 && c.length > 1 ? c.subarray(1) : c;
}

/** Decodes a small INTEGER TLV (up to 2^53) to a number; negative values allowed. */
export function readSmallInteger(buf: Uint8Array, t: Tlv): number {
  if (t.tag !== 0x02 && t.tag !== 0x0a) throw new DerError('expected INTEGER');
  const c = content(buf, t);
  if (c.length === 0 || c.length > 6) throw new DerError('INTEGER out of range');
  let v = (c[0] ?? 0) & 0x80 ? -1 : 0;
  // Two's complement: starting from -1 for a negative value sign-extends it.
  for (const byte of c) v = v * 256 + byte;
  return v;
}

/** Decodes a BOOLEAN TLV. */
export function readBoolean(buf: Uint8Array, t: Tlv): boolean {
  if (t.tag !== 0x01 || t.end - t.contentStart !== 1) throw new DerError('expected BOOLEAN');
  return buf[t.contentStart] !== 0;
}

function digits(s: string, from: number, len: number): number {
  const part = s.slice(from, from + len);
  if (!/^\d+$/.test(part) || part.length !== len) throw new DerError('bad time');
  return Number(part);
}

/** Decodes UTCTime / GeneralizedTime (`Z` form, seconds precision, optional fraction). */
export function readTime(buf: Uint8Array, t: Tlv): Date {
  const s = Buffer.from(content(buf, t)).toString('latin1');
  let year: number;
  let rest: string;
  if (t.tag === 0x17) {
    if (!/^\d{12}Z$/.test(s)) throw new DerError('bad UTCTime');
    const yy = digits(s, 0, 2);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    rest = s.slice(2);
  } else if (t.tag === 0x18) {
    if (!/^\d{14}(\.\d+)?Z$/.test(s)) throw new DerError('bad GeneralizedTime');
    year = digits(s, 0, 4);
    rest = s.slice(4);
  } else {
    throw new DerError('expected a time');
  }
  const month = digits(rest, 0, 2);
  const day = digits(rest, 2, 2);
  const hour = digits(rest, 4, 2);
  const minute = digits(rest, 6, 2);
  const second = digits(rest, 8, 2);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    throw new DerError('time out of range');
  }
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  return new Date(ms);
}
