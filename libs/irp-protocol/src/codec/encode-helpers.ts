/** Small writers used by the table-driven encoders. */
import { encodeBase64 } from '../binary.js';
import { XmlEncodeError } from '../errors/xml-encode.error.js';
import { formatTime } from '../time.js';
import { el, type XmlNode } from '../xml/xml-element.js';

/** `<name>value</name>`, or nothing when value is undefined. */
export function textEl(name: string, value: string | undefined): XmlNode | undefined {
  return value === undefined ? undefined : el(name, undefined, value);
}

/** An RFC 3339 time (spec §3); invalid dates refused with XmlEncodeError. */
export function time(d: Date, path: string): string {
  if (!(d instanceof Date)) throw new XmlEncodeError(path, 'not a Date');
  try {
    return formatTime(d);
  } catch (e) {
    throw new XmlEncodeError(path, e instanceof Error ? e.message : String(e));
  }
}

/** An optional time. */
export function optTime(d: Date | undefined, path: string): string | undefined {
  return d === undefined ? undefined : time(d, path);
}

/** A decimal integer; non-integers refused with XmlEncodeError. */
export function int(n: number, path: string): string {
  if (!Number.isSafeInteger(n)) throw new XmlEncodeError(path, `${n} is not an integer`);
  return String(n);
}

/** An optional integer. */
export function optInt(n: number | undefined, path: string): string | undefined {
  return n === undefined ? undefined : int(n, path);
}

/** An optional boolean as `true`/`false`. */
export function optBool(b: boolean | undefined): string | undefined {
  return b === undefined ? undefined : String(b);
}

/** Octets as base64 (spec §3). */
export function b64(bytes: Uint8Array): string {
  return encodeBase64(bytes);
}
