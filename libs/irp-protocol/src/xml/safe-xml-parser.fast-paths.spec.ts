/**
 * The shortcuts of the safe parser must not change what it accepts: the text
 * and attribute limits are decided on exact UTF-8 sizes, documents above one
 * 64 KiB slice take the streaming path, the shared UTF-8 decoder carries no
 * state from one document to the next, and the saxes parser object stays a
 * fast-properties object (the 4–5× speed-up of parsing depends on it).
 */
import { setFlagsFromString } from 'node:v8';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IrpProtocolError } from '../errors/irp-protocol.error.js';
import { DEFAULT_XML_LIMITS } from '../limits.js';
import { utf8 } from '../testing/test-buffers.js';
import { IrpSaxesParser, parseXml } from './safe-xml-parser.js';

/** A piece of text: ASCII, 2-, 3- and 4-octet characters, entities, line ends. */
const piece = fc.string({
  unit: fc.constantFrom('a', ' ', 'é', '€', '😀', '&amp;', '&#233;', '\n', '\r\n'),
  maxLength: 8,
});

/** What a piece means once parsed (entities expanded, CR LF normalised). */
function meaning(xml: string): string {
  return xml
    .replace(/&amp;/g, '&')
    .replace(/&#233;/g, 'é')
    .replace(/\r\n/g, '\n');
}

function refused(xml: Uint8Array, maxTextBytes: number): boolean {
  try {
    parseXml(xml, { ...DEFAULT_XML_LIMITS, maxTextBytes });
    return false;
  } catch (e) {
    expect(e).toBeInstanceOf(IrpProtocolError);
    expect((e as IrpProtocolError).message).toMatch(/maxTextBytes/);
    return true;
  }
}

describe('safe XML parser: exact limits behind the fast paths', () => {
  it('refuses the text of one element exactly when its UTF-8 size exceeds maxTextBytes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(piece, fc.constantFrom('text', 'cdata', 'comment')), { maxLength: 6 }),
        fc.integer({ min: 1, max: 60 }),
        (parts, maxTextBytes) => {
          let body = '';
          let text = '';
          for (const [p, kind] of parts) {
            if (kind === 'cdata') {
              const raw = meaning(p);
              body += `<![CDATA[${raw}]]>`;
              text += raw.replace(/\r\n/g, '\n');
            } else if (kind === 'comment') {
              body += `${p}<!--c-->`;
              text += meaning(p);
            } else {
              body += p;
              text += meaning(p);
            }
          }
          const xml = utf8(`<a>${body}</a>`);
          const over = Buffer.byteLength(text, 'utf8') > maxTextBytes;
          expect(refused(xml, maxTextBytes)).toBe(over);
          if (!over) expect(parseXml(xml, DEFAULT_XML_LIMITS).text).toBe(text);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses an attribute value exactly when its UTF-8 size exceeds maxTextBytes', () => {
    fc.assert(
      fc.property(piece, fc.integer({ min: 1, max: 40 }), (p, maxTextBytes) => {
        const value = meaning(p).replace(/\n/g, ' '); // attribute value normalisation
        const over = Buffer.byteLength(value, 'utf8') > maxTextBytes;
        expect(refused(utf8(`<a x="${p}"/>`), maxTextBytes)).toBe(over);
      }),
      { numRuns: 500 },
    );
  });

  it('parses a document larger than one 64 KiB slice, multi-octet characters straddling slices', () => {
    const text = '€'.repeat(50_000); // 150 000 octets: 3 slices, characters cut at both edges
    const root = parseXml(utf8(`<a x="1"><b>${text}</b><c/></a>`), DEFAULT_XML_LIMITS);
    expect(root.children.map((c) => c.name)).toEqual(['b', 'c']);
    expect(root.children[0]?.text).toBe(text);
  });

  it('refuses invalid UTF-8 in the last slice of a large document', () => {
    const xml = Buffer.concat([utf8(`<a>${'a'.repeat(100_000)}`), Buffer.from([0xe2, 0x82])]);
    expect(() => parseXml(xml, DEFAULT_XML_LIMITS)).toThrow(/invalid UTF-8/);
  });

  it('keeps no decoder state from a refused document', () => {
    // A truncated sequence at the end of one document must not glue onto the next.
    const truncated = Buffer.concat([utf8('<a>x</a>'), Buffer.from([0xe2, 0x82])]);
    expect(() => parseXml(truncated, DEFAULT_XML_LIMITS)).toThrow(/invalid UTF-8/);
    expect(parseXml(utf8('<a>\u00ac</a>'), DEFAULT_XML_LIMITS).text).toBe('\u00ac');
    expect(() => parseXml(Buffer.from([0xac]), DEFAULT_XML_LIMITS)).toThrow(/invalid UTF-8/);
  });
});

describe('safe XML parser: saxes object layout', () => {
  it('keeps the parser a fast-properties object once every handler is installed', () => {
    setFlagsFromString('--allow-natives-syntax');
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (
      o: object,
    ) => boolean;
    const parser = new IrpSaxesParser();
    for (const event of [
      'xmldecl',
      'doctype',
      'processinginstruction',
      'opentagstart',
      'attribute',
      'text',
      'cdata',
      'closetag',
    ] as const) {
      parser.on(event, () => undefined);
    }
    expect(hasFastProperties(parser)).toBe(true);
  });
});
