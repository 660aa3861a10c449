import { create } from 'xmlbuilder2';
import { XmlEncodeError } from '../errors/xml-encode.error.js';
import { type XmlNode } from './xml-element.js';

/** The builder type; xmlbuilder2 does not export it from its entry point. */
type XMLBuilder = ReturnType<typeof create>;

/** Anything outside the XML 1.0 `Char` production (incl. lone surrogates). */
const ILLEGAL_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/**
 * Pre-escaping for text. xmlbuilder2 4.0.3 escapes `<` and `>` but leaves an `&`
 * alone when it already looks like an entity (`&amp;`, `&foo;`, `&#65;`), and it
 * writes CR as is (a parser turns it into LF). So every `&` is written as
 * `&amp;` here — which xmlbuilder2 then leaves untouched — and CR as `&#13;`
 * (decimal: xmlbuilder2 only recognises decimal references). The round-trip
 * tests pin this behaviour.
 */
function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/\r/g, '&#13;');
}

/**
 * Pre-escaping for attribute values: as text, plus TAB and LF, which attribute
 * value normalisation would turn into spaces. xmlbuilder2 escapes `"`, `<`, `>`.
 */
function escapeAttribute(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/\r/g, '&#13;')
    .replace(/\n/g, '&#10;')
    .replace(/\t/g, '&#9;');
}

function checkChars(value: string, path: string): void {
  const m = ILLEGAL_XML_CHAR.exec(value);
  if (m) {
    const cp = m[0].codePointAt(0) ?? 0;
    throw new XmlEncodeError(
      path,
      `character U+${cp.toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML 1.0`,
    );
  }
}

function addNode(parent: XMLBuilder, node: XmlNode, path: string): void {
  const here = `${path}/${node.name}`;
  const attrs: Record<string, string> = {};
  if (node.attrs) {
    for (const [name, value] of Object.entries(node.attrs)) {
      if (value === undefined) continue;
      checkChars(value, `${here}/@${name}`);
      attrs[name] = escapeAttribute(value);
    }
  }
  const element = parent.ele(node.name, attrs);
  if (node.text !== undefined && node.text.length > 0) {
    checkChars(node.text, here);
    element.txt(escapeText(node.text));
  }
  for (const child of node.children ?? []) addNode(element, child, here);
}

/**
 * Serialises a tree of {@link XmlNode}s with xmlbuilder2 into the UTF-8 octets of
 * a document without XML declaration (spec §3 allows either).
 *
 * Escaping is complete: `<`, `&`, `>` (hence `]]>`) in text; `"`, `<`, `&`, `>`,
 * TAB, LF, CR in attribute values; CR in text. Characters XML 1.0 cannot carry
 * are refused with {@link XmlEncodeError} rather than dropped or replaced.
 */
export function serializeXml(root: XmlNode): Buffer {
  const doc = create();
  addNode(doc, root, '');
  return Buffer.from(doc.end({ headless: true, prettyPrint: false }), 'utf8');
}
