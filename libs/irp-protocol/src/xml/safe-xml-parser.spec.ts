/**
 * Hostile input (spec §3): every case must be refused with 2001, id="" and
 * cmd="", fast, without expanding or fetching anything.
 */
import { describe, expect, it } from 'vitest';
import { decodeCommand } from '../codec/envelope.js';
import { IrpProtocolError } from '../errors/irp-protocol.error.js';
import { DEFAULT_XML_LIMITS, type XmlLimits } from '../limits.js';
import { irp, utf8 } from '../testing/test-buffers.js';
import { parseXml } from './safe-xml-parser.js';

function refusedQuickly(xml: Uint8Array, limits: XmlLimits = DEFAULT_XML_LIMITS): IrpProtocolError {
  const start = performance.now();
  let caught: unknown;
  try {
    decodeCommand(xml, limits);
  } catch (e) {
    caught = e;
  }
  const ms = performance.now() - start;
  expect(caught).toBeInstanceOf(IrpProtocolError);
  expect(ms).toBeLessThan(1000);
  const err = caught as IrpProtocolError;
  expect({ code: err.code, id: err.id, cmd: err.cmd }).toEqual({ code: 2001, id: '', cmd: '' });
  return err;
}

describe('safe XML parser: forbidden constructs (spec §3)', () => {
  it('refuses billion laughs without expanding anything', () => {
    const decls = ['<!ENTITY lol "lol">'];
    for (let i = 1; i <= 9; i++) {
      decls.push(`<!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`);
    }
    const xml = `<?xml version="1.0"?><!DOCTYPE irp [${decls.join('')}]><irp version="1.0"><ping id="&lol9;"/></irp>`;
    expect(refusedQuickly(utf8(xml)).message).toMatch(/DOCTYPE/);
  });

  it('refuses an external entity and does not fetch it', () => {
    const xml =
      '<?xml version="1.0"?><!DOCTYPE irp [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' +
      '<irp version="1.0"><login id="1" method="upa"><user>&xxe;</user><password>x</password></login></irp>';
    const err = refusedQuickly(utf8(xml));
    expect(err.message).not.toMatch(/root:/); // nothing of /etc/passwd leaked
  });

  it('refuses an external DTD', () => {
    refusedQuickly(
      utf8(
        '<!DOCTYPE irp SYSTEM "http://127.0.0.1:9/x.dtd"><irp version="1.0"><ping id="1"/></irp>',
      ),
    );
  });

  it('refuses an undeclared entity reference (no DOCTYPE)', () => {
    refusedQuickly(
      utf8(irp('<login id="1" method="upa"><user>&nbsp;</user><password>x</password></login>')),
    );
  });

  it('accepts the five predefined entities and numeric references', () => {
    const cmd = decodeCommand(
      utf8(
        irp(
          '<login id="1" method="upa"><user>u</user><password>&lt;&gt;&amp;&apos;&quot;&#65;&#x42;</password></login>',
        ),
      ),
      DEFAULT_XML_LIMITS,
    );
    expect(cmd).toMatchObject({ password: `<>&'"AB` });
  });

  it('refuses a character reference to a character XML forbids', () => {
    refusedQuickly(
      utf8(irp('<login id="1" method="upa"><user>u</user><password>&#0;</password></login>')),
    );
    refusedQuickly(
      utf8(irp('<login id="1" method="upa"><user>u</user><password>&#x1;</password></login>')),
    );
  });

  it.each([
    ['inside the root', irp('<?evil x?><ping id="1"/>')],
    ['before the root', '<?xml-stylesheet href="x"?><irp version="1.0"><ping id="1"/></irp>'],
    ['after the root', `${irp('<ping id="1"/>')}<?evil?>`],
  ])('refuses a processing instruction %s', (_where, xml) => {
    refusedQuickly(utf8(xml));
  });

  it('accepts the XML declaration, which is not a processing instruction', () => {
    expect(
      decodeCommand(
        utf8(`<?xml version="1.0" encoding="utf-8" standalone="yes"?>${irp('<ping id="1"/>')}`),
        DEFAULT_XML_LIMITS,
      ),
    ).toEqual({ cmd: 'ping', id: '1' });
  });

  it('refuses an XML declaration of another version or encoding', () => {
    refusedQuickly(utf8(`<?xml version="1.1"?>${irp('<ping id="1"/>')}`));
    refusedQuickly(utf8(`<?xml version="1.0" encoding="ISO-8859-1"?>${irp('<ping id="1"/>')}`));
  });

  it('refuses an XML declaration that is not at the very start', () => {
    refusedQuickly(utf8(` <?xml version="1.0"?>${irp('<ping id="1"/>')}`));
  });

  it('refuses invalid UTF-8: a lone continuation byte, an overlong form, a surrogate, a truncated tail', () => {
    const prefix = utf8('<irp version="1.0"><ping id="1">');
    const suffix = utf8('</ping></irp>');
    for (const bad of [[0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff]]) {
      refusedQuickly(Buffer.concat([prefix, Buffer.from(bad), suffix]));
    }
    refusedQuickly(Buffer.concat([utf8(irp('<ping id="1"/>')), Buffer.from([0xe2, 0x82])]));
  });

  it('accepts a UTF-8 byte order mark', () => {
    const xml = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8(irp('<ping id="1"/>'))]);
    expect(decodeCommand(xml, DEFAULT_XML_LIMITS)).toEqual({ cmd: 'ping', id: '1' });
  });

  it('refuses characters XML 1.0 forbids even when raw', () => {
    refusedQuickly(utf8(irp('<ping id="1">\u0001</ping>')));
    refusedQuickly(utf8(irp('<ping id="1">\uFFFE</ping>')));
  });

  it('refuses duplicate attributes', () => {
    refusedQuickly(utf8(irp('<ping id="1" id="2"/>')));
  });
});

describe('safe XML parser: limits (spec §3)', () => {
  it('refuses 10 000-deep nesting as soon as depth 17 opens', () => {
    const depth = 10_000;
    const xml = `<irp version="1.0">${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}</irp>`;
    expect(refusedQuickly(utf8(xml)).message).toMatch(/maxDepth/);
  });

  it('accepts exactly maxDepth (root = 1)', () => {
    const inner = `${'<a>'.repeat(14)}${'</a>'.repeat(14)}`; // irp(1) + ping(2) + 14 = 16
    expect(decodeCommand(utf8(irp(`<ping id="1">${inner}</ping>`)), DEFAULT_XML_LIMITS)).toEqual({
      cmd: 'ping',
      id: '1',
    });
    const deeper = `${'<a>'.repeat(15)}${'</a>'.repeat(15)}`;
    refusedQuickly(utf8(irp(`<ping id="1">${deeper}</ping>`)));
  });

  it('refuses too many elements, counting the root', () => {
    const limits = { ...DEFAULT_XML_LIMITS, maxElements: 10 };
    const ok = irp(`<ping id="1">${'<x/>'.repeat(8)}</ping>`); // 1 + 1 + 8 = 10
    expect(decodeCommand(utf8(ok), limits)).toEqual({ cmd: 'ping', id: '1' });
    refusedQuickly(utf8(irp(`<ping id="1">${'<x/>'.repeat(9)}</ping>`)), limits);
  });

  it('refuses 100 000 elements with default limits', () => {
    expect(
      refusedQuickly(utf8(irp(`<ping id="1">${'<x/>'.repeat(100_000)}</ping>`))).message,
    ).toMatch(/maxElements/);
  });

  it('measures text in UTF-8 octets, not characters', () => {
    const limits = { ...DEFAULT_XML_LIMITS, maxTextBytes: 10 };
    const five = 'ééééé'; // 10 octets
    expect(decodeCommand(utf8(irp(`<ping id="1"><x>${five}</x></ping>`)), limits)).toBeTruthy();
    refusedQuickly(utf8(irp(`<ping id="1"><x>${five}a</x></ping>`)), limits);
  });

  it('counts all text pieces of one element together (text + CDATA + entities)', () => {
    const limits = { ...DEFAULT_XML_LIMITS, maxTextBytes: 10 };
    refusedQuickly(
      utf8(irp('<ping id="1"><x>aaaa<![CDATA[bbbb]]>&amp;&amp;&amp;</x></ping>')),
      limits,
    );
  });

  it('refuses an attribute value above maxTextBytes', () => {
    const limits = { ...DEFAULT_XML_LIMITS, maxTextBytes: 10 };
    expect(decodeCommand(utf8(irp(`<ping id="1" x="${'a'.repeat(10)}"/>`)), limits)).toBeTruthy();
    refusedQuickly(utf8(irp(`<ping id="1" x="${'a'.repeat(11)}"/>`)), limits);
  });

  it('refuses a 20 MB text node and stops before reading all of it', () => {
    const head = utf8('<irp version="1.0"><ping id="1"><x>');
    const size = 20 * 1024 * 1024;
    const body = Buffer.alloc(size, 0x61);
    // Poison the tail with invalid UTF-8: a parser that read everything would
    // fail on it; one that stopped at the limit reports the limit.
    body.fill(0xff, 2 * 1024 * 1024);
    const err = refusedQuickly(Buffer.concat([head, body]));
    expect(err.message).toMatch(/maxTextBytes/);
  });

  it('refuses a 20 MB text node of valid text in under a second', () => {
    const xml = Buffer.concat([
      utf8('<irp version="1.0"><ping id="1"><x>'),
      Buffer.alloc(20 * 1024 * 1024, 0x61),
      utf8('</x></ping></irp>'),
    ]);
    expect(refusedQuickly(xml).message).toMatch(/maxTextBytes/);
  });

  it('refuses a huge attribute value, comment, name and DOCTYPE early', () => {
    const big = 'a'.repeat(4 * 1024 * 1024);
    for (const xml of [
      `<irp version="1.0"><ping id="1" x="${big}"/></irp>`,
      `<irp version="1.0"><!--${big}--><ping id="1"/></irp>`,
      `<irp version="1.0"><${big}/></irp>`,
      `<!DOCTYPE irp [<!ENTITY x "${big}">]><irp version="1.0"/>`,
      `<irp version="1.0">&${big}</irp>`,
    ]) {
      refusedQuickly(utf8(xml));
    }
  });

  it('refuses more than 64 attributes on one element', () => {
    const attrs = Array.from({ length: 65 }, (_, i) => `a${i}="1"`).join(' ');
    refusedQuickly(utf8(irp(`<ping id="1" ${attrs}/>`)));
  });
});

describe('parseXml', () => {
  it('builds the element tree with concatenated, untrimmed text', () => {
    const root = parseXml(utf8('<a x="1"> t <b>u</b><![CDATA[v]]> </a>'), DEFAULT_XML_LIMITS);
    expect(root.name).toBe('a');
    expect(root.attributes.get('x')).toBe('1');
    expect(root.text).toBe(' t v ');
    expect(root.children.map((c) => [c.name, c.text])).toEqual([['b', 'u']]);
  });

  it('normalises attribute white space but keeps character references', () => {
    const root = parseXml(utf8('<a x="1\n2\t3" y="1&#10;2&#9;3&#13;"/>'), DEFAULT_XML_LIMITS);
    expect(root.attributes.get('x')).toBe('1 2 3');
    expect(root.attributes.get('y')).toBe('1\n2\t3\r');
  });

  it('treats __proto__ as an ordinary attribute name', () => {
    const root = parseXml(utf8('<a __proto__="x" constructor="y"/>'), DEFAULT_XML_LIMITS);
    expect(root.attributes.get('__proto__')).toBe('x');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});
