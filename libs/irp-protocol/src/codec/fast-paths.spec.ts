/**
 * The codec's fast paths are exact replacements: the time formatter and parser
 * shortcuts agree with `formatTime`/`parseTime` on every input, and `el()`
 * builds the same node (same properties, same order) as the original
 * spread-based version.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { XmlEncodeError } from '../errors/xml-encode.error.js';
import { formatTime, parseTime } from '../time.js';
import { el, type XmlNode } from '../xml/xml-element.js';
import { parseCanonicalTime, toTime } from './decode-helpers.js';
import { formatTimeFast, time } from './encode-helpers.js';

const MAX_MS = 8.64e15;

/** Any Date, valid or not, biased towards edges (years 0, 99, 100, 9999, 10000, leap days). */
const anyDate: fc.Arbitrary<Date> = fc.oneof(
  fc.integer({ min: -MAX_MS, max: MAX_MS }).map((ms) => new Date(ms)),
  fc.date({ noInvalidDate: false }),
  fc
    .record({
      year: fc.constantFrom(-1, 0, 1, 99, 100, 1600, 1900, 1969, 1970, 2000, 2024, 9999, 10000),
      month: fc.integer({ min: 0, max: 11 }),
      day: fc.integer({ min: 0, max: 32 }),
      ms: fc.integer({ min: -1000, max: 86_401_000 }),
    })
    .map(({ year, month, day, ms }) => {
      const d = new Date(0);
      d.setUTCFullYear(year, month, day);
      return new Date(d.getTime() + ms);
    }),
);

describe('time formatting fast path', () => {
  it('formats exactly as formatTime, and refuses what formatTime refuses', () => {
    fc.assert(
      fc.property(anyDate, (d) => {
        let expected: string | undefined;
        try {
          expected = formatTime(d);
        } catch {
          expected = undefined;
        }
        expect(formatTimeFast(d)).toBe(expected);
        if (expected === undefined) {
          expect(() => time(d, 'x')).toThrow(XmlEncodeError);
        } else {
          expect(time(d, 'x')).toBe(expected);
        }
      }),
      { numRuns: 5000 },
    );
  });
});

/** Texts shaped like `YYYY-MM-DDTHH:MM:SSZ`, with random digits and separators. */
const timeLike: fc.Arbitrary<string> = fc
  .tuple(
    fc.array(fc.constantFrom(...'0123456789'), { minLength: 14, maxLength: 14 }),
    fc.array(fc.constantFrom('-', ':', 'T', 't', 'Z', 'z', ' ', '0', '+'), {
      minLength: 6,
      maxLength: 6,
    }),
    fc.boolean(),
    fc.constantFrom('', '.5', '+01:00', 'x'),
  )
  .map(([d, s, canonical, tail]) => {
    const sep = canonical ? ['-', '-', 'T', ':', ':', 'Z'] : s;
    const [y1, y2, y3, y4, mo1, mo2, d1, d2, h1, h2, mi1, mi2, s1, s2] = d;
    const text = `${y1}${y2}${y3}${y4}${sep[0]}${mo1}${mo2}${sep[1]}${d1}${d2}${sep[2]}${h1}${h2}${sep[3]}${mi1}${mi2}${sep[4]}${s1}${s2}`;
    return `${text}${tail === '' ? sep[5] : tail === 'x' ? `${sep[5]}x` : tail}`;
  });

/** Valid canonical times, including the days that only exist in leap years. */
const canonicalTime: fc.Arbitrary<string> = fc
  .integer({ min: -62_135_596_800_000, max: 253_402_300_799_999 })
  .map((ms) => formatTime(new Date(ms)));

describe('time parsing fast path', () => {
  it('returns what parseTime returns, or leaves the text to parseTime', () => {
    fc.assert(
      fc.property(fc.oneof(timeLike, canonicalTime, fc.string({ maxLength: 24 })), (text) => {
        const fast = parseCanonicalTime(text);
        const reference = parseTime(text);
        if (fast !== undefined) expect(fast.getTime()).toBe(reference?.getTime());
        const ctx = { id: '1', cmd: 'x' };
        if (reference === undefined) {
          expect(() => toTime(text, 'x', ctx)).toThrow(/RFC 3339/);
        } else {
          expect(toTime(text, 'x', ctx).getTime()).toBe(reference.getTime());
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('takes the fast path for the canonical form from year 100 on', () => {
    expect(parseCanonicalTime('2024-02-29T23:59:59Z')?.toISOString()).toBe(
      '2024-02-29T23:59:59.000Z',
    );
    expect(parseCanonicalTime('2023-02-29T00:00:00Z')).toBeUndefined();
    expect(parseCanonicalTime('0099-01-01T00:00:00Z')).toBeUndefined();
    expect(parseTime('0099-01-01T00:00:00Z')?.getUTCFullYear()).toBe(99);
  });
});

/** The original `el()`, kept as the reference of the fast one. */
function referenceEl(
  name: string,
  attrs?: Readonly<Record<string, string | number | boolean | undefined>>,
  ...content: readonly (XmlNode | string | undefined | null | false)[]
): XmlNode {
  const children: XmlNode[] = [];
  let text: string | undefined;
  for (const item of content) {
    if (item === undefined || item === null || item === false) continue;
    if (typeof item === 'string') text = (text ?? '') + item;
    else children.push(item);
  }
  let stringAttrs: Record<string, string | undefined> | undefined;
  if (attrs) {
    stringAttrs = {};
    for (const [k, v] of Object.entries(attrs)) {
      stringAttrs[k] = v === undefined ? undefined : String(v);
    }
  }
  return {
    name,
    ...(stringAttrs ? { attrs: stringAttrs } : {}),
    ...(text !== undefined ? { text } : {}),
    ...(children.length ? { children } : {}),
  };
}

/** Keys in order, recursively: toStrictEqual does not compare property order. */
function shape(node: XmlNode): unknown {
  return {
    keys: Object.keys(node),
    attrs: node.attrs && Object.entries(node.attrs),
    text: node.text,
    children: node.children?.map(shape),
  };
}

describe('el()', () => {
  it('builds the same node as the original, property order included', () => {
    const child: XmlNode = { name: 'c' };
    const attrValue = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(undefined),
    );
    fc.assert(
      fc.property(
        fc.option(fc.dictionary(fc.string({ maxLength: 4 }), attrValue), { nil: undefined }),
        fc.array(
          fc.oneof(
            fc.string(),
            fc.constant(child),
            fc.constantFrom(undefined, null, false as const),
          ),
        ),
        (attrs, content) => {
          const fast = el('a', attrs, ...content);
          const reference = referenceEl('a', attrs, ...content);
          expect(fast).toStrictEqual(reference);
          expect(shape(fast)).toStrictEqual(shape(reference));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
