/**
 * Serialisation of {@link XmlNode} trees into XML documents.
 *
 * {@link serializeXml} — the production path — is a direct writer: it walks the
 * tree and concatenates strings. {@link serializeXmlReference} is the original
 * xmlbuilder2 serialiser, kept as the specification the direct writer is proven
 * against: the property test in `xml-writer.spec.ts` asserts that both produce
 * the same octets, or throw the same error, for arbitrary trees. Any tree the
 * direct writer is not sure to handle exactly like xmlbuilder2 (an unusual
 * element or attribute name, a value that is not a string) is handed to the
 * reference serialiser, so the two agree on every input by construction.
 */
import { create } from 'xmlbuilder2';
import { XmlEncodeError } from '../errors/xml-encode.error.js';
import { type XmlNode } from './xml-element.js';

// ---------------------------------------------------------------------------
// Shared: escaping rules and the character check
// ---------------------------------------------------------------------------

/** Anything outside the XML 1.0 `Char` production (incl. lone surrogates). */
const ILLEGAL_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

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

// ---------------------------------------------------------------------------
// Reference serialiser (xmlbuilder2)
// ---------------------------------------------------------------------------

/** The builder type; xmlbuilder2 does not export it from its entry point. */
type XMLBuilder = ReturnType<typeof create>;

/**
 * Pre-escaping for text. xmlbuilder2 4.0.3 escapes `<` and `>` but leaves an `&`
 * alone when it already looks like an entity (`&amp;`, `&foo;`, `&#65;`), and it
 * writes CR as is (a parser turns it into LF). So every `&` is written as
 * `&amp;` here — which xmlbuilder2 then leaves untouched — and CR as `&#13;`
 * (decimal: xmlbuilder2 only recognises decimal references). The round-trip
 * tests pin this behaviour.
 */
function referenceEscapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/\r/g, '&#13;');
}

/**
 * Pre-escaping for attribute values: as text, plus TAB and LF, which attribute
 * value normalisation would turn into spaces. xmlbuilder2 escapes `"`, `<`, `>`.
 */
function referenceEscapeAttribute(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/\r/g, '&#13;')
    .replace(/\n/g, '&#10;')
    .replace(/\t/g, '&#9;');
}

function addNode(parent: XMLBuilder, node: XmlNode, path: string): void {
  const here = `${path}/${node.name}`;
  const attrs: Record<string, string> = {};
  if (node.attrs) {
    for (const [name, value] of Object.entries(node.attrs)) {
      if (value === undefined) continue;
      checkChars(value, `${here}/@${name}`);
      attrs[name] = referenceEscapeAttribute(value);
    }
  }
  const element = parent.ele(node.name, attrs);
  if (node.text !== undefined && node.text.length > 0) {
    checkChars(node.text, here);
    element.txt(referenceEscapeText(node.text));
  }
  for (const child of node.children ?? []) addNode(element, child, here);
}

/**
 * The reference serialiser: builds the document with xmlbuilder2. Slow (over
 * ten times the direct writer); production code calls {@link serializeXml},
 * which is tested to produce the same octets. Kept as the executable
 * specification of the wire format and for the equivalence tests.
 *
 * Escaping is complete: `<`, `&`, `>` (hence `]]>`) in text; `"`, `<`, `&`, `>`,
 * TAB, LF, CR in attribute values; CR in text. Characters XML 1.0 cannot carry
 * are refused with {@link XmlEncodeError} rather than dropped or replaced.
 */
export function serializeXmlReference(root: XmlNode): Buffer {
  const doc = create();
  addNode(doc, root, '');
  return Buffer.from(doc.end({ headless: true, prettyPrint: false }), 'utf8');
}

// ---------------------------------------------------------------------------
// Direct writer
// ---------------------------------------------------------------------------

/**
 * One test decides whether a text value can be written as is: it matches any
 * character that needs escaping (`&`, `<`, `>`, CR) or may be illegal (C0
 * controls, any surrogate code unit — paired ones are checked properly on the
 * slow path — U+FFFE, U+FFFF).
 */
const TEXT_SLOW = /[^\t\n\u0020-\u0025\u0027-\u003B\u003D\u003F-\uD7FF\uE000-\uFFFD]/;
/** As {@link TEXT_SLOW}, plus `"`, TAB and LF for attribute values. */
const ATTR_SLOW = /[^\u0020\u0021\u0023-\u0025\u0027-\u003B\u003D\u003F-\uD7FF\uE000-\uFFFD]/;

const TEXT_ESCAPE = /[&<>\r]/g;
const ATTR_ESCAPE = /[&<>"\r\n\t]/g;

/** What xmlbuilder2 plus the reference pre-escaping write for each character. */
const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  '\r': '&#13;',
  '\n': '&#10;',
  '\t': '&#9;',
};

const escapeChar = (c: string): string => ESCAPES[c] ?? c;

/**
 * Names the direct writer writes itself: plain XML names without `:` (no
 * namespace handling), `@` (xmlbuilder2's `name@namespace` syntax) or anything
 * xmlbuilder2 might parse as a document (`<`, `{`, `[`, `---`). `xmlns` and the
 * names of `Object.prototype` members (`__proto__`, `hasOwnProperty`, …) are
 * excluded too: the reference path treats them specially (namespace
 * declarations; a plain-object record of attributes). Every IRP name is simple.
 */
const SIMPLE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const simpleNames = new Set<string>();
const MAX_CACHED_NAMES = 1024;

function isSimpleName(name: string): boolean {
  if (simpleNames.has(name)) return true;
  if (typeof name !== 'string' || !SIMPLE_NAME.test(name)) return false;
  if (name === 'xmlns' || name in Object.prototype) return false;
  if (simpleNames.size < MAX_CACHED_NAMES) simpleNames.add(name);
  return true;
}

/** Thrown inside the direct writer when the tree must go to the reference serialiser. */
class UseReference extends Error {}
const USE_REFERENCE = new UseReference();

/** Builds the error path `/a/b/c` from the names of the open elements. */
function pathOf(stack: readonly string[]): string {
  return `/${stack.join('/')}`;
}

function writeNode(node: XmlNode, stack: string[]): string {
  const name = node.name;
  if (!isSimpleName(name)) throw USE_REFERENCE;
  stack.push(name);
  let out = `<${name}`;
  const attrs = node.attrs;
  if (attrs !== undefined) {
    for (const attr in attrs) {
      if (!Object.prototype.hasOwnProperty.call(attrs, attr)) continue;
      const value = attrs[attr];
      if (value === undefined) continue;
      if (typeof value !== 'string' || !isSimpleName(attr)) throw USE_REFERENCE;
      if (ATTR_SLOW.test(value)) {
        checkChars(value, `${pathOf(stack)}/@${attr}`);
        out += ` ${attr}="${value.replace(ATTR_ESCAPE, escapeChar)}"`;
      } else {
        out += ` ${attr}="${value}"`;
      }
    }
  }
  const text = node.text;
  const children = node.children;
  let content = '';
  if (text !== undefined) {
    if (typeof text !== 'string') throw USE_REFERENCE;
    if (text.length > 0) {
      if (TEXT_SLOW.test(text)) {
        checkChars(text, pathOf(stack));
        content = text.replace(TEXT_ESCAPE, escapeChar);
      } else {
        content = text;
      }
    }
  }
  if (children !== undefined) {
    if (!Array.isArray(children)) throw USE_REFERENCE;
    for (let i = 0; i < children.length; i++) {
      const child: unknown = children[i];
      if (typeof child !== 'object' || child === null) throw USE_REFERENCE;
      content += writeNode(child as XmlNode, stack);
    }
  }
  stack.pop();
  // xmlbuilder2 writes an element without child nodes as `<a/>` (no space).
  return content.length === 0 ? `${out}/>` : `${out}>${content}</${name}>`;
}

/**
 * Serialises a tree of {@link XmlNode}s into the UTF-8 octets of a document
 * without XML declaration (spec §3 allows either). Writes exactly what
 * {@link serializeXmlReference} writes, without building a DOM.
 *
 * Escaping is complete: `<`, `&`, `>` (hence `]]>`) in text; `"`, `<`, `&`, `>`,
 * TAB, LF, CR in attribute values; CR in text. Characters XML 1.0 cannot carry
 * are refused with {@link XmlEncodeError} (message and path as the reference)
 * rather than dropped or replaced. Attributes are written in property order;
 * `undefined` attributes and empty text are left out.
 */
export function serializeXml(root: XmlNode): Buffer {
  let xml: string;
  try {
    xml = writeNode(root, []);
  } catch (error) {
    if (error === USE_REFERENCE) return serializeXmlReference(root);
    throw error;
  }
  return Buffer.from(xml, 'utf8');
}
