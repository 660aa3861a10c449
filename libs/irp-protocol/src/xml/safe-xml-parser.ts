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

interface Building {
  name: string;
  attributes: Map<string, string>;
  children: Building[];
  textParts: string[];
  textBytes: number;
}

interface FrozenElement extends XmlElement {
  readonly children: FrozenElement[];
}

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
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const parser = new SaxesParser({ defaultXMLVersion: '1.0', forceXMLVersion: true });
  const stack: Building[] = [];
  let root: Building | undefined;
  let elementCount = 0;

  parser.on('xmldecl', (decl: XMLDecl) => {
    // spec §3: XML 1.0, UTF-8.
    if (decl.version !== undefined && decl.version !== '1.0') {
      throw syntaxError(`XML version ${decl.version} is not supported`);
    }
    if (decl.encoding !== undefined && !/^utf-8$/i.test(decl.encoding)) {
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
    const depth = stack.length + 1;
    if (depth > limits.maxDepth) {
      throw syntaxError(`element depth exceeds maxDepth ${limits.maxDepth}`);
    }
    elementCount += 1;
    if (elementCount > limits.maxElements) {
      throw syntaxError(`element count exceeds maxElements ${limits.maxElements}`);
    }
    const building: Building = {
      name: tag.name,
      attributes: new Map(),
      children: [],
      textParts: [],
      textBytes: 0,
    };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(building);
    else root = building;
    stack.push(building);
  });
  parser.on('attribute', (attr: SaxesAttributePlain) => {
    const current = stack[stack.length - 1];
    if (!current) return;
    if (current.attributes.size >= MAX_ATTRIBUTES_PER_ELEMENT) {
      throw syntaxError(`more than ${MAX_ATTRIBUTES_PER_ELEMENT} attributes on <${current.name}>`);
    }
    if (utf8Length(attr.value) > limits.maxTextBytes) {
      throw syntaxError(`attribute value exceeds maxTextBytes ${limits.maxTextBytes}`);
    }
    current.attributes.set(attr.name, attr.value);
  });
  const onText = (text: string): void => {
    const current = stack[stack.length - 1];
    if (!current) return; // white space around the root; saxes refuses anything else
    current.textBytes += utf8Length(text);
    if (current.textBytes > limits.maxTextBytes) {
      throw syntaxError(`text exceeds maxTextBytes ${limits.maxTextBytes}`);
    }
    current.textParts.push(text);
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
      if (typeof pending === 'string' && pending.length > limits.maxTextBytes) {
        throw syntaxError(`token exceeds maxTextBytes ${limits.maxTextBytes}`);
      }
    }
  };

  try {
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
    parser.close();
  } catch (e) {
    if (e instanceof IrpProtocolError) throw e;
    throw syntaxError(e instanceof Error ? e.message : String(e), e);
  }
  if (!root) throw syntaxError('no root element');
  return freeze(root);
}

function freeze(b: Building): FrozenElement {
  return {
    name: b.name,
    attributes: b.attributes,
    children: b.children.map(freeze),
    text: b.textParts.length === 1 ? (b.textParts[0] as string) : b.textParts.join(''),
  };
}
