/** Small writers used by the table-driven encoders. */
import { encodeBase64 } from '../binary.js';
import { XmlEncodeError } from '../errors/xml-encode.error.js';
import { formatTime } from '../time.js';
import { el, type XmlNode } from '../xml/xml-element.js';

/** `<name>value</name>`, or nothing when value is undefined. */
export function textEl(name: string, value: string | undefined): XmlNode | undefined {
  return value === undefined ? undefined : el(name, undefined, value);
}

/** Two decimal digits. */
function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

/**
 * Fast path of `formatTime`: the same text (`YYYY-MM-DDTHH:MM:SSZ`, UTC, the
 * milliseconds truncated towards −∞) computed with integer arithmetic instead
 * of a `Date` copy and `toISOString()`. `undefined` for an invalid date or a
 * year outside 0000–9999, which `formatTime` refuses with its own message.
 * Days → civil date: H. Hinnant's `civil_from_days` (proleptic Gregorian, as
 * ECMAScript dates).
 */
export function formatTimeFast(d: Date): string | undefined {
  const ms = d.getTime();
  if (!Number.isFinite(ms)) return undefined;
  const seconds = Math.floor(ms / 1000);
  const days = Math.floor(seconds / 86_400);
  const secondOfDay = seconds - days * 86_400;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear =
    dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999) return undefined;
  const hour = Math.floor(secondOfDay / 3600);
  const minute = Math.floor((secondOfDay - hour * 3600) / 60);
  const second = secondOfDay - hour * 3600 - minute * 60;
  const yyyy = year >= 1000 ? `${year}` : `${year}`.padStart(4, '0');
  return `${yyyy}-${pad2(month)}-${pad2(day)}T${pad2(hour)}:${pad2(minute)}:${pad2(second)}Z`;
}

/** An RFC 3339 time (spec §3); invalid dates refused with XmlEncodeError. */
export function time(d: Date, path: string): string {
  if (!(d instanceof Date)) throw new XmlEncodeError(path, 'not a Date');
  const fast = formatTimeFast(d);
  if (fast !== undefined) return fast;
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
