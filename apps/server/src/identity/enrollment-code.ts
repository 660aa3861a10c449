import { createHash, randomBytes } from 'node:crypto';

/** RFC 4648 base32 alphabet, lower-case: easy to read aloud and to type. */
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
/** 20 random octets = 160 bits (spec §7.2 / issue: at least 128). */
const CODE_BYTES = 20;
const CODE_CHARS = (CODE_BYTES * 8) / 5;
const WELL_FORMED = new RegExp(`^[${BASE32}]{${CODE_CHARS}}$`);

/** Default lifetime of an enrollment code (decision): 7 days. */
export const ENROLLMENT_CODE_TTL_SECONDS = 7 * 24 * 3600;
/** Longest lifetime an operator may give a code (decision): 90 days. */
export const MAX_ENROLLMENT_CODE_TTL_SECONDS = 90 * 24 * 3600;

function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/** A new code: 32 base32 characters in groups of four, e.g. `k3vq-…-7xa2`. */
export function generateEnrollmentCode(): string {
  return (base32(randomBytes(CODE_BYTES)).match(/.{4}/g) ?? []).join('-');
}

/**
 * The stored form of a code as a client typed it: case, spaces and dashes do not
 * matter. Undefined when it cannot be a code at all (then nothing is looked up).
 */
export function hashEnrollmentCode(typed: string): Buffer | undefined {
  const normalised = typed.toLowerCase().replace(/[\s-]/g, '');
  if (!WELL_FORMED.test(normalised)) return undefined;
  return createHash('sha256').update(normalised, 'utf8').digest();
}
