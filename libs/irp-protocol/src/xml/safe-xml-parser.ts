import { SaxesParser, type SaxesAttributePlain, type XMLDecl } from 'saxes';
import { IrpProtocolError } from '../errors/irp-protocol.error.js';
import { type XmlLimits } from '../limits.js';
import { ResultCode } from '../result-codes.js';
import { type XmlElement } from './xml-element.js';

/** Octets decoded and handed to the parser at a time, so limits bite early. */
const CHUNK_BYTES = 64 * 1024;

/**
 * Attributes per element. Not a limit of spec §3, but without it one element
 * could carry ~10^5 attributes inside a 1 MiB frame; no IRP element has more
 * than a dozen.
 */
export const MAX_ATTRIBUTES_PER_ELEMENT = 64;

/**
 * The saxes 6 fields that accumulate a token (text, CDATA, comment, attribute
 * value, name, entity name, PI target) until it ends. saxes has no public hook
 * for a token in progress, so after each chunk the parser peeks at them to stop
 * a huge token before it is complete. Runtime-checked: if a saxes upgrade
 * renames them the check is skipped, and the per-event checks still hold (the
 * spec test "20 MB text node" catches the loss of early stopping).
 */
const SAXES_ACCUMULATORS = ['text', 'name', 'entity', 'piTarget'] as const;

/** An element of the tree being built; its text grows piece by piece. */
interface MutableElement {
  name: string;
  attributes: Map<string, string>;
  children: MutableElement[];
  text: string;
}

/**
 * An open element. `textBytes` is an upper bound of the UTF-8 size of its text
 * (3 octets per UTF-16 code unit) until that bound would cross the limit; from
 * then on (`exactBytes`) it is the exact size. Either way a text is refused
 * exactly when its UTF-8 size exceeds `maxTextBytes`, and short texts never
 * pay for an exact count.
 */
interface OpenElement {
  element: MutableElement;
  textBytes: number;
  exactBytes: boolean;
}

/**
 * The saxes 6 handler fields that `SaxesParser.on()` sets. saxes does not
 * declare them in its constructor, and `on()` adds them with a keyed store:
 * after a few handlers V8 turns the parser into a dictionary-mode object, and
 * every `this.…` access of saxes' per-character loop becomes a hash lookup
 * (measured: parsing a 1.7 KB response went from ~14 µs to ~90 µs, and the
 * slowdown sticks to saxes' code for every later parser). Declaring the fields
 * up front in the subclass constructor (plain named stores) keeps the object
 * fast; the handlers are still installed with the public `on()`, so if a saxes
 * upgrade renamed these fields only the speed-up would be lost, never a
 * handler. (`IrpSaxesParser` is exported for the test that checks this.)
 */
interface SaxesHandlerFields {
  xmldeclHandler: unknown;
  textHandler: unknown;
  piHandler: unknown;
  doctypeHandler: unknown;
  commentHandler: unknown;
  openTagStartHandler: unknown;
  attributeHandler: unknown;
  openTagHandler: unknown;
  closeTagHandler: unknown;
  cdataHandler: unknown;
  errorHandler: unknown;
  endHandler: unknown;
  readyHandler: unknown;
}

const SAXES_OPTIONS = { defaultXMLVersion: '1.0', forceXMLVersion: true } as const;

export class IrpSaxesParser extends SaxesParser<typeof SAXES_OPTIONS> {
  constructor() {
    super(SAXES_OPTIONS);
    const fields = this as unknown as SaxesHandlerFields;
    fields.xmldeclHandler = undefined;
    fields.textHandler = undefined;
    fields.piHandler = undefined;
    fields.doctypeHandler = undefined;
    fields.commentHandler = undefined;
    fields.openTagStartHandler = undefined;
    fields.attributeHandler = undefined;
    fields.openTagHandler = undefined;
    fields.closeTagHandler = undefined;
    fields.cdataHandler = undefined;
    fields.errorHandler = undefined;
    fields.endHandler = undefined;
    fields.readyHandler = undefined;
  }
}

/**
 * Decoder for documents that fit in one slice: a non-streaming `decode()`
 * starts from a fresh state every time (WHATWG Encoding), so one instance is
 * shared. Larger documents get their own streaming decoder.
 */
const SHARED_DECODER = new TextDecoder('utf-8', { fatal: true });

/** XML declaration encodings accepted (spec §3). */
const UTF8_LABEL = /^utf-8$/i;

function syntaxError(message: string, cause?: unknown): IrpProtocolError {
  return new IrpProtocolError(
    ResultCode.SyntaxError,
    `Command syntax error: ${message}`,
    cause === undefined ? {} : { cause },
  );
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/**
 * Parses one untrusted XML document (spec §3) with saxes, enforcing the limits
 * while streaming.
 *
 * Refused with 2001 (`id=""`, `cmd=""`):
 * - invalid UTF-8 (fatal decoder, checked chunk by chunk before the parser sees it);
 * - not well-formed XML 1.0 (saxes), including any entity reference other than
 *   the five predefined ones and numeric character references — nothing is ever
 *   expanded and nothing is fetched;
 * - a DOCTYPE (and so any entity declaration), any processing instruction (the
 *   XML declaration is not one), an XML declaration other than version 1.0 with
 *   encoding UTF-8;
 * - depth above `maxDepth` (root = 1), more than `maxElements` elements (root
 *   counts), an attribute value or the character data of one element above
 *   `maxTextBytes` UTF-8 octets, a comment or name longer than that, more than
 *   {@link MAX_ATTRIBUTES_PER_ELEMENT} attributes on one element.
 *
 * The parser aborts as soon as a limit is crossed: input is fed in 64 KiB
 * slices and the token in progress is measured after each slice.
 *
 * @throws IrpProtocolError (2001) and nothing else
 */
export function parseXml(input: Uint8Array, limits: XmlLimits): XmlElement {
  const { maxDepth, maxElements, maxTextBytes } = limits;
  const parser = new IrpSaxesParser();
  const stack: OpenElement[] = [];
  let root: MutableElement | undefined;
  let elementCount = 0;

  parser.on('xmldecl', (decl: XMLDecl) => {
    // spec §3: XML 1.0, UTF-8.
    if (decl.version !== undefined && decl.version !== '1.0') {
      throw syntaxError(`XML version ${decl.version} is not supported`);
    }
    if (decl.encoding !== undefined && !UTF8_LABEL.test(decl.encoding)) {
      throw syntaxError(`encoding ${decl.encoding} is not supported; documents are UTF-8`);
    }
  });
  parser.on('doctype', () => {
    // spec §3: no DOCTYPE, hence no entity declaration; never expanded.
    throw syntaxError('DOCTYPE is not allowed');
  });
  parser.on('processinginstruction', (pi) => {
    // spec §3: no processing instruction other than the XML declaration.
    throw syntaxError(`processing instruction <?${pi.target}?> is not allowed`);
  });
  parser.on('opentagstart', (tag) => {
    const depth = stack.length;
    if (depth >= maxDepth) {
      throw syntaxError(`element depth exceeds maxDepth ${maxDepth}`);
    }
    elementCount += 1;
    if (elementCount > maxElements) {
      throw syntaxError(`element count exceeds maxElements ${maxElements}`);
    }
    const element: MutableElement = {
      name: tag.name,
      attributes: new Map(),
      children: [],
      text: '',
    };
    if (depth > 0) (stack[depth - 1] as OpenElement).element.children.push(element);
    else root = element;
    stack.push({ element, textBytes: 0, exactBytes: false });
  });
  parser.on('attribute', (attr: SaxesAttributePlain) => {
    const current = stack[stack.length - 1];
    if (!current) return;
    const attributes = current.element.attributes;
    if (attributes.size >= MAX_ATTRIBUTES_PER_ELEMENT) {
      throw syntaxError(
        `more than ${MAX_ATTRIBUTES_PER_ELEMENT} attributes on <${current.element.name}>`,
      );
    }
    const value = attr.value;
    // At most 3 UTF-8 octets per UTF-16 code unit: short values need no count.
    if (value.length * 3 > maxTextBytes && utf8Length(value) > maxTextBytes) {
      throw syntaxError(`attribute value exceeds maxTextBytes ${maxTextBytes}`);
    }
    attributes.set(attr.name, value);
  });
  const onText = (text: string): void => {
    const current = stack[stack.length - 1];
    if (!current) return; // white space around the root; saxes refuses anything else
    const element = current.element;
    if (!current.exactBytes) {
      const bound = current.textBytes + text.length * 3;
      if (bound <= maxTextBytes) {
        current.textBytes = bound;
        element.text += text;
        return;
      }
      // The bound crosses the limit: count the text so far exactly, once.
      current.textBytes = utf8Length(element.text);
      current.exactBytes = true;
    }
    current.textBytes += utf8Length(text);
    if (current.textBytes > maxTextBytes) {
      throw syntaxError(`text exceeds maxTextBytes ${maxTextBytes}`);
    }
    element.text += text;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', () => {
    stack.pop();
  });

  const internals = parser as unknown as Record<string, unknown>;
  const checkTokenInProgress = (): void => {
    for (const key of SAXES_ACCUMULATORS) {
      const pending = internals[key];
      // UTF-16 length ≤ UTF-8 length, so this never refuses a token within the limit.
      if (typeof pending === 'string' && pending.length > maxTextBytes) {
        throw syntaxError(`token exceeds maxTextBytes ${maxTextBytes}`);
      }
    }
  };

  try {
    if (input.length <= CHUNK_BYTES) {
      // One slice: decoded in one call (throws on any invalid or truncated sequence).
      let text: string;
      try {
        text = SHARED_DECODER.decode(input);
      } catch (e) {
        throw syntaxError('invalid UTF-8', e);
      }
      if (text.length > 0) parser.write(text);
      checkTokenInProgress();
    } else {
      const decoder = new TextDecoder('utf-8', { fatal: true });
      for (let offset = 0; offset < input.length; offset += CHUNK_BYTES) {
        const slice = input.subarray(offset, Math.min(offset + CHUNK_BYTES, input.length));
        let text: string;
        try {
          text = decoder.decode(slice, { stream: true });
        } catch (e) {
          throw syntaxError('invalid UTF-8', e);
        }
        if (text.length > 0) parser.write(text);
        checkTokenInProgress();
      }
      let rest: string;
      try {
        rest = decoder.decode(); // throws on a truncated sequence at the end
      } catch (e) {
        throw syntaxError('invalid UTF-8', e);
      }
      if (rest.length > 0) parser.write(rest);
    }
    parser.close();
  } catch (e) {
    if (e instanceof IrpProtocolError) throw e;
    throw syntaxError(e instanceof Error ? e.message : String(e), e);
  }
  if (!root) throw syntaxError('no root element');
  return root;
}
