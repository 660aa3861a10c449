/**
 * The envelope `<irp version="1.0">` with exactly one child (spec §4), and the
 * public entry points of the codec. Encoders return the document's UTF-8 octets
 * without framing (see `encodeFrame`).
 */
import { PROTOCOL_VERSION } from '../constants.js';
import { IrpProtocolError } from '../errors/irp-protocol.error.js';
import { XmlEncodeError } from '../errors/xml-encode.error.js';
import { DEFAULT_CLIENT_XML_LIMITS, type XmlLimits } from '../limits.js';
import { type IrpCommand, isCommandName } from '../messages/commands.js';
import { type Greeting } from '../messages/greeting.js';
import { type IrpNotify } from '../messages/notify.js';
import { type IrpResponse } from '../messages/responses.js';
import { type IrpResult } from '../messages/result.js';
import { type ServerMessage } from '../messages/server-message.js';
import { isResultCode, ResultCode } from '../result-codes.js';
import { parseXml } from '../xml/safe-xml-parser.js';
import { el, trimXmlSpace, type XmlElement, type XmlNode } from '../xml/xml-element.js';
import { serializeXml } from '../xml/xml-writer.js';
import { commandCodec } from './command.codec.js';
import {
  type DecodeContext,
  fail,
  optionalIntAttr,
  optionalText,
  requiredAttr,
  requiredChild,
  textOf,
  toInteger,
} from './decode-helpers.js';
import { optInt } from './encode-helpers.js';
import { decodeGreeting, encodeGreetingElement } from './greeting.codec.js';
import { decodeNotifyElement, encodeNotifyElement } from './notify.codec.js';
import { responseDataCodec } from './response.codec.js';

/** A client transaction id: 1–64 of `[A-Za-z0-9._:-]` (spec §4). */
export const COMMAND_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

/** True when `id` is a valid client transaction id (spec §4). */
export function isValidCommandId(id: string): boolean {
  return COMMAND_ID_PATTERN.test(id);
}

/** Longest element name echoed in an error (names are attacker-chosen and may be 256 KiB). */
export const MAX_ECHOED_NAME_LENGTH = 64;

/** An element name as it may appear in an error message or an error's `cmd`. */
function shortName(name: string): string {
  return name.length > MAX_ECHOED_NAME_LENGTH ? `${name.slice(0, MAX_ECHOED_NAME_LENGTH)}…` : name;
}

const UNIDENTIFIED: DecodeContext = Object.freeze({ id: '', cmd: '' });

/**
 * Checks the envelope (spec §4) and returns its one child. Refusals here are
 * "before a command was identified": `id=""`, `cmd=""`.
 */
function openEnvelope(xml: Uint8Array, limits: XmlLimits): XmlElement {
  // spec §3: malformed XML, forbidden constructs, limits → 2001.
  const root = parseXml(xml, limits);
  // spec §4: a root other than <irp>, a missing version, zero or >1 children → 2001.
  if (root.name !== 'irp') {
    fail(
      UNIDENTIFIED,
      ResultCode.SyntaxError,
      `Command syntax error: root element <${shortName(root.name)}> is not <irp>`,
    );
  }
  const version = root.attributes.get('version');
  if (version === undefined) {
    fail(UNIDENTIFIED, ResultCode.SyntaxError, 'Command syntax error: <irp> has no version');
  }
  if (root.children.length !== 1) {
    fail(
      UNIDENTIFIED,
      ResultCode.SyntaxError,
      `Command syntax error: <irp> must have exactly one child element, found ${root.children.length}`,
    );
  }
  // spec §4: another version → 2100; spec §4 lists "unsupported version" among
  // the refusals before a command is identified, so id="" and cmd="".
  if (trimXmlSpace(version) !== PROTOCOL_VERSION) {
    fail(
      UNIDENTIFIED,
      ResultCode.UnimplementedVersion,
      `Unimplemented protocol version ${JSON.stringify(version)}; this server speaks ${PROTOCOL_VERSION}`,
    );
  }
  return root.children[0] as XmlElement;
}

/**
 * Decodes a command document received by a server (spec §3, §4).
 *
 * @param xml the body of one frame
 * @param limits the server's XML limits (spec §3)
 * @throws IrpProtocolError — and nothing else — with `id`/`cmd` filled as far as
 *   the command was identified:
 *   - 2001 `id=""` `cmd=""`: bad XML/UTF-8, DOCTYPE, PI, foreign entity, limits,
 *     root not `<irp>`, no `version`, not exactly one child;
 *   - 2100 `id=""` `cmd=""`: version other than 1.0;
 *   - 2000: unknown command element; `id` echoed when valid, `cmd` = the element
 *     name, cut to 64 characters + `…` (rendered as `cmd=""` on the wire by
 *     {@link errorResponse});
 *   - 2003 `id=""`: known command without a valid `id`;
 *   - 2003/2004/2005/2001 with id and cmd: parameter errors of that command.
 */
export function decodeCommand(xml: Uint8Array, limits: XmlLimits): IrpCommand {
  const child = openEnvelope(xml, limits);
  const rawId = child.attributes.get('id');
  const id = rawId !== undefined && isValidCommandId(rawId) ? rawId : '';
  // spec §3: unknown commands → 2000 in every session state.
  if (!isCommandName(child.name)) {
    const name = shortName(child.name);
    throw new IrpProtocolError(ResultCode.UnknownCommand, `Unknown command <${name}>`, {
      id,
      cmd: name,
    });
  }
  // spec §4: a request without a valid id → 2003 with id="".
  if (id === '') {
    throw new IrpProtocolError(
      ResultCode.MissingParameter,
      rawId === undefined
        ? 'Required parameter missing: id'
        : 'Required parameter missing: id must be 1-64 of [A-Za-z0-9._:-]',
      { id: '', cmd: child.name },
    );
  }
  return commandCodec(child.name).decode(child, { id, cmd: child.name });
}

/**
 * Encodes a command document (client side).
 *
 * @throws XmlEncodeError for an invalid id or a value XML cannot carry
 */
export function encodeCommand(command: IrpCommand): Buffer {
  if (!isValidCommandId(command.id)) {
    throw new XmlEncodeError(`${command.cmd}/@id`, 'id must be 1-64 of [A-Za-z0-9._:-]');
  }
  return document(commandCodec(command.cmd).encode(command));
}

function document(child: XmlNode): Buffer {
  return serializeXml(el('irp', { version: PROTOCOL_VERSION }, child));
}

function encodeResult(r: IrpResult): XmlNode {
  return el(
    'result',
    { code: String(r.code), retryAfter: optInt(r.retryAfter, 'result/@retryAfter') },
    r.message,
    r.reason !== undefined ? el('reason', undefined, r.reason) : undefined,
  );
}

function decodeResult(response: XmlElement, ctx: DecodeContext): IrpResult {
  const result = requiredChild(response, 'result', ctx);
  const code = toInteger(requiredAttr(result, 'code', ctx), 'code attribute of <result>', ctx);
  if (!isResultCode(code)) {
    fail(ctx, ResultCode.ValueRange, `Parameter value range error: unknown result code ${code}`);
  }
  const decoded: IrpResult = { code, message: textOf(result) };
  const retryAfter = optionalIntAttr(result, 'retryAfter', ctx);
  if (retryAfter !== undefined) decoded.retryAfter = retryAfter;
  const reason = optionalText(result, 'reason', ctx);
  if (reason !== undefined) decoded.reason = reason;
  return decoded;
}

/**
 * Encodes a response document (server side, spec §4): `<response id cmd txn>`,
 * one `<result>`, then the data elements of the command.
 */
export function encodeResponse(r: IrpResponse): Buffer {
  const data = r.cmd === '' ? [] : responseDataCodec(r.cmd).encode(r.data);
  return document(
    el('response', { id: r.id, cmd: r.cmd, txn: r.txn }, encodeResult(r.result), ...data),
  );
}

/** Encodes the greeting document (spec §6.6). */
export function encodeGreeting(g: Greeting): Buffer {
  return document(encodeGreetingElement(g));
}

/** Encodes a notify document (spec §11). */
export function encodeNotify(n: IrpNotify): Buffer {
  return document(encodeNotifyElement(n));
}

function decodeResponseElement(r: XmlElement): IrpResponse {
  const id = r.attributes.get('id') ?? '';
  const cmd = trimXmlSpace(r.attributes.get('cmd') ?? '');
  const ctx: DecodeContext = { id, cmd };
  if (cmd !== '' && !isCommandName(cmd)) {
    fail(
      { id, cmd: shortName(cmd) },
      ResultCode.UnknownCommand,
      `Unknown command in response: ${shortName(cmd)}`,
    );
  }
  const txn =
    r.attributes.get('txn') ??
    fail(ctx, ResultCode.MissingParameter, 'Required parameter missing: txn');
  const result = decodeResult(r, ctx);
  if (cmd === '') return { id, cmd, txn, result, data: {} };
  return { id, cmd, txn, result, data: responseDataCodec(cmd).decode(r, ctx) } as IrpResponse;
}

/**
 * Decodes a document received by a client: greeting, response or notify
 * (spec §4). The same parser and limits as on the server (defaults wider, see
 * {@link DEFAULT_CLIENT_XML_LIMITS}).
 *
 * @throws IrpProtocolError; for a response, `id`/`cmd` are those of the response
 *   when they could be read, so a client can fail the matching request
 */
export function decodeServerMessage(
  xml: Uint8Array,
  limits: XmlLimits = DEFAULT_CLIENT_XML_LIMITS,
): ServerMessage {
  const child = openEnvelope(xml, limits);
  switch (child.name) {
    case 'greeting':
      return { kind: 'greeting', greeting: decodeGreeting(child, UNIDENTIFIED) };
    case 'response':
      return { kind: 'response', response: decodeResponseElement(child) };
    case 'notify':
      return { kind: 'notify', notify: decodeNotifyElement(child, UNIDENTIFIED) };
    default:
      return fail(
        UNIDENTIFIED,
        ResultCode.SyntaxError,
        `Command syntax error: unexpected <${shortName(child.name)}> from server`,
      );
  }
}

/**
 * The response a server sends for a refused command (spec §4): the error's
 * result, no data, its `id`, and its `cmd` when that names an IRP command —
 * otherwise `cmd=""` (refused before identification, or an unknown command:
 * the response's `cmd` only ever names a real command; the client matches by id).
 */
export function errorResponse(error: IrpProtocolError, txn: string): IrpResponse {
  const cmd = isCommandName(error.cmd) ? error.cmd : '';
  return { id: error.id, cmd, txn, result: error.toResult(), data: {} } as IrpResponse;
}
