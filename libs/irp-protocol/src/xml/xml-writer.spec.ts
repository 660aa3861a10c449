import { describe, expect, it } from 'vitest';
import { XmlEncodeError } from '../errors/xml-encode.error.js';
import { DEFAULT_XML_LIMITS } from '../limits.js';
import { parseXml } from './safe-xml-parser.js';
import { el } from './xml-element.js';
import { serializeXml } from './xml-writer.js';

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
