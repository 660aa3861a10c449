/**
 * Small readers used by the table-driven decoders. Each refusal throws an
 * IrpProtocolError with the code of spec §5 and the id/cmd of the context.
 */
import { decodeBase64 } from '../binary.js';
import { IrpProtocolError } from '../errors/irp-protocol.error.js';
import { ResultCode } from '../result-codes.js';
import { parseTime } from '../time.js';
import { trimXmlSpace, type XmlElement } from '../xml/xml-element.js';

/** Where a decoder is: the id and command (or server message) being decoded. */
export interface DecodeContext {
  readonly id: string;
  readonly cmd: string;
}

/** Throws an IrpProtocolError for the context. */
export function fail(ctx: DecodeContext, code: ResultCode, message: string): never {
  throw new IrpProtocolError(code, message, { id: ctx.id, cmd: ctx.cmd });
}

/** All children named `name`, in order. */
export function childrenNamed(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}

/**
 * The one child named `name`, or undefined. A non-repeatable parameter given
 * twice is ambiguous: refused with 2001 rather than guessing which one counts.
 */
export function optionalChild(
  el: XmlElement,
  name: string,
  ctx: DecodeContext,
): XmlElement | undefined {
  let found: XmlElement | undefined;
  for (const child of el.children) {
    if (child.name !== name) continue;
    if (found !== undefined) {
      fail(ctx, ResultCode.SyntaxError, `Command syntax error: <${name}> given more than once`);
    }
    found = child;
  }
  return found;
}

/** The one child named `name`; 2003 when absent. */
export function requiredChild(el: XmlElement, name: string, ctx: DecodeContext): XmlElement {
  return (
    optionalChild(el, name, ctx) ??
    fail(ctx, ResultCode.MissingParameter, `Required parameter missing: <${name}>`)
  );
}

/** Text options: `raw` keeps the text exactly as sent (passwords, notes, spec §3). */
export interface TextOptions {
  raw?: boolean;
}

/** Character data of an element, trimmed of XML white space unless `raw` (spec §3). */
export function textOf(el: XmlElement, opts: TextOptions = {}): string {
  return opts.raw ? el.text : trimXmlSpace(el.text);
}

/**
 * Optional text parameter. Absent or empty → `undefined` (an empty optional
 * parameter means "not given").
 */
export function optionalText(
  el: XmlElement,
  name: string,
  ctx: DecodeContext,
  opts: TextOptions = {},
): string | undefined {
  const child = optionalChild(el, name, ctx);
  if (!child) return undefined;
  const text = textOf(child, opts);
  return text.length ? text : undefined;
}

/**
 * Optional text parameter whose empty value is meaningful (profile fields:
 * `<displayName/>` in `update` clears it). Absent → `undefined`, empty → `""`.
 */
export function presentText(
  el: XmlElement,
  name: string,
  ctx: DecodeContext,
  opts: TextOptions = {},
): string | undefined {
  const child = optionalChild(el, name, ctx);
  return child ? textOf(child, opts) : undefined;
}

/** Required text parameter; absent or empty (after trimming if trimmed) → 2003. */
export function requiredText(
  el: XmlElement,
  name: string,
  ctx: DecodeContext,
  opts: TextOptions = {},
): string {
  return (
    optionalText(el, name, ctx, opts) ??
    fail(ctx, ResultCode.MissingParameter, `Required parameter missing: <${name}>`)
  );
}

/** The element's own text (trimmed unless `raw`); empty → 2003. */
export function requiredOwnText(
  el: XmlElement,
  ctx: DecodeContext,
  opts: TextOptions = {},
): string {
  const text = textOf(el, opts);
  if (text.length === 0) {
    fail(ctx, ResultCode.MissingParameter, `Required parameter missing: text of <${el.name}>`);
  }
  return text;
}

/** Optional attribute, trimmed unless `raw`; absent or empty → `undefined`. */
export function optionalAttr(
  el: XmlElement,
  name: string,
  opts: TextOptions = {},
): string | undefined {
  const value = el.attributes.get(name);
  if (value === undefined) return undefined;
  const text = opts.raw ? value : trimXmlSpace(value);
  return text.length ? text : undefined;
}

/** Required attribute; absent or empty → 2003. */
export function requiredAttr(
  el: XmlElement,
  name: string,
  ctx: DecodeContext,
  opts: TextOptions = {},
): string {
  return (
    optionalAttr(el, name, opts) ??
    fail(
      ctx,
      ResultCode.MissingParameter,
      `Required parameter missing: ${name} attribute of <${el.name}>`,
    )
  );
}

/** A decimal integer, optionally negative. */
const INTEGER = /^-?[0-9]+$/;

/**
 * An integer in decimal, optionally negative (ranges are the service's).
 * Not an integer → 2005; an integer too large to represent exactly → 2004.
 */
export function toInteger(text: string, what: string, ctx: DecodeContext): number {
  if (!INTEGER.test(text)) {
    fail(ctx, ResultCode.ValueSyntax, `Parameter value syntax error: ${what} is not an integer`);
  }
  const n = Number(text);
  if (!Number.isSafeInteger(n)) {
    fail(ctx, ResultCode.ValueRange, `Parameter value range error: ${what} is out of range`);
  }
  return n === 0 ? 0 : n; // no -0
}

/** A value of a closed set; anything else → 2004. */
export function toEnum<T extends string>(
  text: string,
  values: readonly T[],
  what: string,
  ctx: DecodeContext,
): T {
  if (!(values as readonly string[]).includes(text)) {
    fail(
      ctx,
      ResultCode.ValueRange,
      `Parameter value range error: ${what} must be one of ${values.join(', ')}`,
    );
  }
  return text as T;
}

/** `true` or `false` exactly; anything else → 2004. */
export function toBoolean(text: string, what: string, ctx: DecodeContext): boolean {
  return toEnum(text, ['true', 'false'] as const, what, ctx) === 'true';
}

/** Base64 (spec §3) → octets; bad base64 → 2005. */
export function toBytes(text: string, what: string, ctx: DecodeContext): Buffer {
  return (
    decodeBase64(text) ??
    fail(ctx, ResultCode.ValueSyntax, `Parameter value syntax error: ${what} is not base64`)
  );
}

/** Days of each month in a common year. */
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/** The digit at `i`, or NaN when it is not an ASCII digit (so any sum with it is NaN). */
function digitAt(text: string, i: number): number {
  const d = text.charCodeAt(i) - 0x30;
  return d >= 0 && d <= 9 ? d : NaN;
}

/** Two ASCII digits at `i`, or NaN. */
function twoDigitsAt(text: string, i: number): number {
  return digitAt(text, i) * 10 + digitAt(text, i + 1);
}

/**
 * Fast path of {@link parseTime} for the form every IRP peer writes (spec §3):
 * `YYYY-MM-DDTHH:MM:SSZ`, a valid date, a year from 100 on. Returns the same
 * instant as `parseTime`; `undefined` when the text is not exactly such a
 * time, in which case the caller asks `parseTime` (which refuses or handles
 * fractions, offsets, lower-case `t`/`z`, years below 100).
 */
export function parseCanonicalTime(text: string): Date | undefined {
  if (
    text.length !== 20 ||
    text.charCodeAt(4) !== 0x2d || // -
    text.charCodeAt(7) !== 0x2d ||
    text.charCodeAt(10) !== 0x54 || // T
    text.charCodeAt(13) !== 0x3a || // :
    text.charCodeAt(16) !== 0x3a ||
    text.charCodeAt(19) !== 0x5a // Z
  ) {
    return undefined;
  }
  const year = twoDigitsAt(text, 0) * 100 + twoDigitsAt(text, 2);
  const month = twoDigitsAt(text, 5);
  const day = twoDigitsAt(text, 8);
  const hour = twoDigitsAt(text, 11);
  const minute = twoDigitsAt(text, 14);
  const second = twoDigitsAt(text, 17);
  // NaN fails every comparison, so a non-digit falls through to undefined.
  if (
    !(year >= 100) ||
    !(month >= 1 && month <= 12) ||
    !(day >= 1) ||
    !(hour <= 23) ||
    !(minute <= 59) ||
    !(second <= 59)
  ) {
    return undefined;
  }
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const lastDay = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number);
  if (day > lastDay) return undefined;
  // Date.UTC maps years 0–99 to 1900–1999; those were sent to parseTime above.
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second));
}

/** RFC 3339 time (spec §3) → Date; anything else → 2005. */
export function toTime(text: string, what: string, ctx: DecodeContext): Date {
  return (
    parseCanonicalTime(text) ??
    parseTime(text) ??
    fail(
      ctx,
      ResultCode.ValueSyntax,
      `Parameter value syntax error: ${what} is not an RFC 3339 time`,
    )
  );
}

/** Optional integer attribute. */
export function optionalIntAttr(
  el: XmlElement,
  name: string,
  ctx: DecodeContext,
): number | undefined {
  const v = optionalAttr(el, name);
  return v === undefined ? undefined : toInteger(v, `${name} attribute of <${el.name}>`, ctx);
}

/** Required integer attribute. */
export function requiredIntAttr(el: XmlElement, name: string, ctx: DecodeContext): number {
  return toInteger(requiredAttr(el, name, ctx), `${name} attribute of <${el.name}>`, ctx);
}

/** Optional time attribute. */
export function optionalTimeAttr(
  el: XmlElement,
  name: string,
  ctx: DecodeContext,
): Date | undefined {
  const v = optionalAttr(el, name);
  return v === undefined ? undefined : toTime(v, `${name} attribute of <${el.name}>`, ctx);
}

/** Required time attribute. */
export function requiredTimeAttr(el: XmlElement, name: string, ctx: DecodeContext): Date {
  return toTime(requiredAttr(el, name, ctx), `${name} attribute of <${el.name}>`, ctx);
}

/** Optional enumerated attribute. */
export function optionalEnumAttr<T extends string>(
  el: XmlElement,
  name: string,
  values: readonly T[],
  ctx: DecodeContext,
): T | undefined {
  const v = optionalAttr(el, name);
  return v === undefined ? undefined : toEnum(v, values, `${name} attribute of <${el.name}>`, ctx);
}

/** Required enumerated attribute. */
export function requiredEnumAttr<T extends string>(
  el: XmlElement,
  name: string,
  values: readonly T[],
  ctx: DecodeContext,
): T {
  return toEnum(requiredAttr(el, name, ctx), values, `${name} attribute of <${el.name}>`, ctx);
}

/** Optional boolean attribute. */
export function optionalBoolAttr(
  el: XmlElement,
  name: string,
  ctx: DecodeContext,
): boolean | undefined {
  const v = optionalAttr(el, name);
  return v === undefined ? undefined : toBoolean(v, `${name} attribute of <${el.name}>`, ctx);
}

/** Required boolean attribute. */
export function requiredBoolAttr(el: XmlElement, name: string, ctx: DecodeContext): boolean {
  return toBoolean(requiredAttr(el, name, ctx), `${name} attribute of <${el.name}>`, ctx);
}

/** Optional integer child element. */
export function optionalIntText(
  el: XmlElement,
  name: string,
  ctx: DecodeContext,
): number | undefined {
  const v = optionalText(el, name, ctx);
  return v === undefined ? undefined : toInteger(v, `<${name}>`, ctx);
}

/** Optional time child element. */
export function optionalTimeText(
  el: XmlElement,
  name: string,
  ctx: DecodeContext,
): Date | undefined {
  const v = optionalText(el, name, ctx);
  return v === undefined ? undefined : toTime(v, `<${name}>`, ctx);
}

/** Sets `obj[key] = value` only when value is defined (keeps optional fields absent). */
export function setIfDefined<T extends object, K extends keyof T>(
  obj: T,
  key: K,
  value: T[K] | undefined,
): void {
  if (value !== undefined) obj[key] = value;
}
