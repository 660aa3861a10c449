import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { XmlEncodeError } from '../errors/xml-encode.error.js';
import { DEFAULT_XML_LIMITS } from '../limits.js';
import { parseXml } from './safe-xml-parser.js';
import { el, type XmlNode } from './xml-element.js';
import { serializeXml, serializeXmlReference } from './xml-writer.js';

const write = (text: string, attr: string): string =>
  serializeXml(el('a', { v: attr }, text)).toString('utf8');

describe('serializeXml escaping', () => {
  // xmlbuilder2 4.0.3 leaves entity-looking '&' sequences alone; these pin the workaround.
  it('escapes text that already looks like entities', () => {
    expect(write('&amp; &lt; &#65; &foo;', '')).toBe(
      '<a v="">&amp;amp; &amp;lt; &amp;#65; &amp;foo;</a>',
    );
  });

  it('escapes <, > and hence ]]> in text', () => {
    expect(write('a<b>c]]>d', '')).toBe('<a v="">a&lt;b&gt;c]]&gt;d</a>');
  });

  it('escapes CR in text so it is not normalised to LF', () => {
    expect(write('x\r\ny\rz', '')).toBe('<a v="">x&#13;\ny&#13;z</a>');
  });

  it('escapes ", <, &, >, TAB, LF, CR in attribute values', () => {
    expect(write('', '"<&>\t\n\r\'')).toBe('<a v="&quot;&lt;&amp;&gt;&#9;&#10;&#13;\'"/>');
  });

  it('round-trips awkward values through the safe parser exactly', () => {
    const value = ' &amp;\t"\'<>]]>\r\n\r😀 ';
    const root = parseXml(serializeXml(el('a', { v: value }, value)), DEFAULT_XML_LIMITS);
    expect(root.text).toBe(value);
    expect(root.attributes.get('v')).toBe(value);
  });

  it.each(['\u0000', '\u0008', '\u000b', '\u001f', '\ud800', '\udfff', '\ufffe', '\uffff'])(
    'refuses %j in text and in attributes',
    (ch) => {
      expect(() => write(`a${ch}`, '')).toThrow(XmlEncodeError);
      expect(() => write('', `a${ch}`)).toThrow(XmlEncodeError);
    },
  );

  it('names the path of the bad value', () => {
    expect(() => serializeXml(el('irp', {}, el('x', { y: '\u0001' })))).toThrow(/\/irp\/x\/@y/);
  });
});

describe('serializeXml layout', () => {
  const both = (node: XmlNode): [string, string] => [
    serializeXml(node).toString('utf8'),
    serializeXmlReference(node).toString('utf8'),
  ];

  it('writes an element without child nodes as <a/>, also with empty text', () => {
    expect(both(el('a'))).toEqual(['<a/>', '<a/>']);
    expect(both({ name: 'a', text: '' })).toEqual(['<a/>', '<a/>']);
    expect(both({ name: 'a', attrs: {}, text: '', children: [] })).toEqual(['<a/>', '<a/>']);
  });

  it('writes attributes in property order and leaves undefined ones out', () => {
    const node: XmlNode = { name: 'a', attrs: { z: '1', m: undefined, b: '' } };
    expect(both(node)).toEqual(['<a z="1" b=""/>', '<a z="1" b=""/>']);
  });

  it('writes text before the children', () => {
    const node: XmlNode = { name: 'a', text: 't', children: [el('b'), el('c', {}, 'x')] };
    expect(both(node)).toEqual(['<a>t<b/><c>x</c></a>', '<a>t<b/><c>x</c></a>']);
  });

  it('reports the same path and message as the reference', () => {
    const node = el('irp', {}, el('x', {}, el('y', { ok: 'fine' }, 'bad\u0000')));
    expect(() => serializeXml(node)).toThrow('Cannot encode /irp/x/y: character U+0000');
    expect(() => serializeXmlReference(node)).toThrow('Cannot encode /irp/x/y: character U+0000');
  });

  // Names the direct writer hands to xmlbuilder2 (namespaces, its own syntax, prototype keys).
  it.each(['xmlns', 'a:b', 'xml:lang', '__proto__', 'hasOwnProperty', '1', '10', 'a@b', ''])(
    'treats the attribute name %j exactly as the reference',
    (name) => {
      const node: XmlNode = {
        name: 'a',
        attrs: Object.fromEntries([
          ['v', '1'],
          [name, 'x'],
        ]),
      };
      expect(outcome(() => serializeXml(node))).toEqual(outcome(() => serializeXmlReference(node)));
    },
  );
});

// ---- equivalence with the xmlbuilder2 reference serialiser ----

type Outcome =
  | { readonly bytes: string }
  | { readonly error: string; readonly message: string; readonly path?: string };

function outcome(serialize: () => Buffer): Outcome {
  try {
    return { bytes: serialize().toString('hex') };
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    return error instanceof XmlEncodeError
      ? { error: error.name, message: error.message, path: error.path }
      : { error: error.name, message: error.message };
  }
}

/** Values that stress escaping: markup, entity look-alikes, white space, astral. */
const TRICKY = [
  '&',
  '<',
  '>',
  '"',
  "'",
  '\r',
  '\n',
  '\t',
  ']]>',
  '&amp;',
  '&#65;',
  '&#x41;',
  '&foo;',
  '&#13;',
  '&lt;',
  '&;',
  '&#;',
  '😀',
  '\u{10FFFF}',
  '\u0085',
  '\u2028',
  '\uFEFF',
  '\uFFFD',
  ' ',
  'a',
];
/** Characters XML 1.0 cannot carry. */
const ILLEGAL = [
  '\u0000',
  '\u0001',
  '\u0008',
  '\u000B',
  '\u001F',
  '\uD800',
  '\uDFFF',
  '\uFFFE',
  '\uFFFF',
];

const isLegal = (c: string): boolean =>
  !/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(c);
const oneChar = (unit: 'binary' | 'binary-ascii'): fc.Arbitrary<string> =>
  fc.string({ unit, minLength: 1, maxLength: 1 });

/** Any character XML 1.0 can carry, biased towards the ones that need escaping. */
const legalUnit = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...TRICKY) },
  { weight: 3, arbitrary: oneChar('binary-ascii').filter(isLegal) },
  { weight: 2, arbitrary: oneChar('binary').filter(isLegal) },
);
/** Any character, illegal ones included (lone surrogates too). */
const anyUnit = fc.oneof(
  { weight: 12, arbitrary: legalUnit },
  { weight: 1, arbitrary: fc.constantFrom(...ILLEGAL) },
  { weight: 1, arbitrary: oneChar('binary') },
);

const SIMPLE_NAMES = ['irp', 'response', 'result', 'a', 'b', 'x-y', '_z', 'a.b', 'A1', 'v'];
/**
 * Names the direct writer hands to xmlbuilder2. What the reference does with them:
 * `__proto__` attributes vanish, `hasOwnProperty` throws a TypeError, `a@b` puts the
 * element in namespace `b`, `''` is written as `< v="1">` (ill-formed), element
 * names starting `<`, `{`, `[` or `---` are parsed as XML/JSON/YAML documents,
 * `1` and `-a` throw InvalidCharacterError; `xmlns`, `a:b`, `é` are written as is.
 */
const ODD_NAMES = [
  ...['xmlns', 'xmlns:p', 'a:b', 'xml:lang', '__proto__', 'hasOwnProperty', 'valueOf'],
  ...['1', '-a', 'a@b', '', 'é', '<x/>', '{}', '---'],
];

interface TreeOptions {
  readonly unit: fc.Arbitrary<string>;
  readonly names: readonly string[];
}

function tree({ unit, names }: TreeOptions): fc.Arbitrary<XmlNode> {
  const value = fc.string({ unit, maxLength: 12 });
  const name = fc.constantFrom(...names);
  const attrs = fc
    .array(fc.tuple(name, fc.option(value, { nil: undefined })), { maxLength: 4 })
    .map((entries) => Object.fromEntries(entries) as Record<string, string | undefined>);
  const { node } = fc.letrec<{ node: XmlNode }>((tie) => ({
    node: fc.record(
      {
        name,
        attrs,
        text: value,
        children: fc.array(tie('node'), { maxLength: 3, depthIdentifier: 'xml' }),
      },
      { requiredKeys: ['name'] },
    ),
  }));
  return node;
}

describe('serializeXml ≡ serializeXmlReference', () => {
  it('writes the same octets for every tree of legal values', () => {
    fc.assert(
      fc.property(tree({ unit: legalUnit, names: SIMPLE_NAMES }), (t) => {
        const direct = serializeXml(t);
        expect(direct.equals(serializeXmlReference(t))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('writes the same octets or throws the same XmlEncodeError for any values', () => {
    fc.assert(
      fc.property(tree({ unit: anyUnit, names: SIMPLE_NAMES }), (t) => {
        const direct = outcome(() => serializeXml(t));
        expect(direct).toEqual(outcome(() => serializeXmlReference(t)));
        if ('error' in direct) expect(direct.error).toBe('XmlEncodeError');
      }),
      { numRuns: 3000 },
    );
  });

  it('behaves as the reference for odd element and attribute names', () => {
    fc.assert(
      fc.property(tree({ unit: anyUnit, names: [...SIMPLE_NAMES, ...ODD_NAMES] }), (t) => {
        expect(outcome(() => serializeXml(t))).toEqual(outcome(() => serializeXmlReference(t)));
      }),
      { numRuns: 1000 },
    );
  });
});
