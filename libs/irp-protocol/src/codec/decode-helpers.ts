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
  const found = childrenNamed(el, name);
  if (found.length > 1) {
    fail(ctx, ResultCode.SyntaxError, `Command syntax error: <${name}> given more than once`);
  }
  return found[0];
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

/**
 * An integer in decimal, optionally negative (ranges are the service's).
 * Not an integer → 2005; an integer too large to represent exactly → 2004.
 */
export function toInteger(text: string, what: string, ctx: DecodeContext): number {
  if (!/^-?[0-9]+$/.test(text)) {
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

/** RFC 3339 time (spec §3) → Date; anything else → 2005. */
export function toTime(text: string, what: string, ctx: DecodeContext): Date {
  return (
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
