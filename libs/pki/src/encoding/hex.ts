import { createHash } from 'node:crypto';

/** Lower-case hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * SHA-256 fingerprint of a DER certificate as 64 lower-case hex digits (spec §9).
 */
export function sha256Fingerprint(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

/**
 * Formats serial-number magnitude octets (as in the DER INTEGER, without a
 * leading 0x00 sign octet) as lower-case hex. Serials of the domain CA are 16
 * octets with the first in 0x01–0x7f, so this yields exactly 32 digits with any
 * leading zero digit kept (spec §9). Other issuers' serials come out with their
 * own length (uploaded certificates, spec §9).
 */
export function formatSerialHex(serial: Uint8Array): string {
  let i = 0;
  while (i < serial.length - 1 && serial[i] === 0) i++;
  return toHex(serial.subarray(i));
}

/**
 * Normalises a serial given as text (upper or lower case, optional `0x`, `:`
 * separators) to lower-case hex without leading zero octets; returns undefined
 * when the text is not hex.
 */
export function normalizeSerialHex(text: string): string | undefined {
  let s = text.trim().toLowerCase().replace(/:/g, '');
  if (s.startsWith('0x')) s = s.slice(2);
  if (s.length === 0 || !/^[0-9a-f]+$/.test(s)) return undefined;
  if (s.length % 2 === 1) s = `0${s}`;
  while (s.length > 2 && s.startsWith('00')) s = s.slice(2);
  return s;
}

/** True when `text` is a serial of the domain CA: exactly 32 lower-case hex digits, positive, first octet 01–7f. */
export function isDomainSerialHex(text: string): boolean {
  return /^(0[1-9a-f]|[1-7][0-9a-f])[0-9a-f]{30}$/.test(text);
}
