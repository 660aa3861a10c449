/**
 * A parsed XML element: the small tree the safe parser builds while streaming
 * (bounded by {@link XmlLimits}). Comments are dropped; text and CDATA directly
 * inside an element are concatenated into `text`, untrimmed.
 */
export interface XmlElement {
  /** Element name as written (no namespace processing, spec §3). */
  readonly name: string;
  /** Attribute values by name, after XML attribute-value normalisation. */
  readonly attributes: ReadonlyMap<string, string>;
  /** Child elements in document order. */
  readonly children: readonly XmlElement[];
  /** Character data directly inside this element, untrimmed. */
  readonly text: string;
}

/** A node to serialise: see `serializeXml()`. */
export interface XmlNode {
  /** Element name. */
  readonly name: string;
  /** Attributes; `undefined` values are left out. Written in insertion order. */
  readonly attrs?: Readonly<Record<string, string | undefined>>;
  /** Character data, written before the children. */
  readonly text?: string;
  /** Child elements. */
  readonly children?: readonly XmlNode[];
}

/** XML white space (spec §3 trimming): space, tab, CR, LF — nothing else. */
function isXmlSpaceCode(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

/** Trims leading and trailing XML white space (not Unicode white space), spec §3. */
export function trimXmlSpace(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isXmlSpaceCode(s.charCodeAt(start))) start++;
  while (end > start && isXmlSpaceCode(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** True when `s` is empty or only XML white space. */
export function isXmlSpace(s: string): boolean {
  return trimXmlSpace(s).length === 0;
}

/**
 * Builds an {@link XmlNode}. Content items that are `undefined`, `null` or
 * `false` are skipped, so optional parts can be written inline; a string item
 * becomes the element's text.
 */
export function el(
  name: string,
  attrs?: Readonly<Record<string, string | number | boolean | undefined>>,
  ...content: readonly (XmlNode | string | undefined | null | false)[]
): XmlNode {
  // Built property by property in the order name, attrs, text, children (the
  // order the spread-based original produced), without intermediate arrays.
  const node: {
    name: string;
    attrs?: Record<string, string | undefined>;
    text?: string;
    children?: XmlNode[];
  } = { name };
  if (attrs) {
    const stringAttrs: Record<string, string | undefined> = {};
    // Own enumerable keys in property order, as Object.entries.
    for (const k in attrs) {
      if (!Object.prototype.hasOwnProperty.call(attrs, k)) continue;
      const v = attrs[k];
      stringAttrs[k] = v === undefined ? undefined : typeof v === 'string' ? v : String(v);
    }
    node.attrs = stringAttrs;
  }
  let text: string | undefined;
  let children: XmlNode[] | undefined;
  for (let i = 0; i < content.length; i++) {
    const item = content[i];
    if (item === undefined || item === null || item === false) continue;
    if (typeof item === 'string') text = (text ?? '') + item;
    else (children ??= []).push(item);
  }
  if (text !== undefined) node.text = text;
  if (children !== undefined) node.children = children;
  return node;
}
