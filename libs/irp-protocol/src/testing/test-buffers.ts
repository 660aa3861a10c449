/**
 * Byte fixtures built independently of the encoders under test (like
 * pg-protocol's testing/test-buffers.ts): hand-written XML and a hand-written
 * big-endian length header.
 */
import { parseXml } from '../xml/safe-xml-parser.js';
import { type XmlElement } from '../xml/xml-element.js';

/** UTF-8 octets of a string. */
export function utf8(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

/** `<irp version="…">inner</irp>` as a string. */
export function irp(inner: string, version = '1.0'): string {
  return `<irp version="${version}">${inner}</irp>`;
}

/** `<irp version="1.0">inner</irp>` as UTF-8 octets. */
export function irpBytes(inner: string, version = '1.0'): Buffer {
  return utf8(irp(inner, version));
}

/** A frame: 4-octet big-endian length written by hand, then the octets. */
export function frame(body: string | Uint8Array): Buffer {
  const b = typeof body === 'string' ? utf8(body) : Buffer.from(body);
  const n = b.length;
  const header = Buffer.from([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
  return Buffer.concat([header, b]);
}

/** Just a 4-octet header announcing `length`. */
export function header(length: number): Buffer {
  return Buffer.from([
    Math.floor(length / 2 ** 24) & 0xff,
    (length >>> 16) & 0xff,
    (length >>> 8) & 0xff,
    length & 0xff,
  ]);
}

/** A canonical, order-insensitive view of an element for comparisons. */
export interface Canonical {
  name: string;
  attributes: Record<string, string>;
  text: string;
  children: Canonical[];
}

function canonicalOf(e: XmlElement): Canonical {
  const attributes: Record<string, string> = {};
  for (const k of [...e.attributes.keys()].sort()) attributes[k] = e.attributes.get(k) as string;
  // White space between child elements is formatting, not content.
  const text = e.children.length > 0 && e.text.trim() === '' ? '' : e.text;
  return { name: e.name, attributes, text, children: e.children.map(canonicalOf) };
}

/**
 * Parses a document into a canonical form (attributes sorted, formatting white
 * space between elements dropped), so a hand-written expectation can be
 * compared with encoder output regardless of attribute order and indentation.
 */
export function canonical(xml: string | Uint8Array): Canonical {
  const bytes = typeof xml === 'string' ? utf8(xml) : xml;
  return canonicalOf(
    parseXml(bytes, { maxDepth: 64, maxElements: 1_000_000, maxTextBytes: 64 * 1024 * 1024 }),
  );
}

/** Strips indentation from a hand-written multi-line expectation. */
export function compact(xml: string): string {
  return xml.replace(/>\s+</g, '><').trim();
}
