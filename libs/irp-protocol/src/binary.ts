import { IrpProtocolError } from './errors/irp-protocol.error.js';
import { ResultCode } from './result-codes.js';

/** XML white space and the other ASCII white space a base64 text may be wrapped with. */
const BASE64_SPACE = /[ \t\r\n\f\v]+/g;
const BASE64_BODY = /^[A-Za-z0-9+/]*$/;

/**
 * Decodes strict RFC 4648 base64 (spec §3): the standard alphabet, white space
 * anywhere ignored, `=` padding required (RFC 4648 §3.2) and only at the end.
 * Returns `undefined` for anything else (base64url, stray characters, missing
 * or extra padding).
 */
export function decodeBase64(text: string): Buffer | undefined {
  const s = text.replace(BASE64_SPACE, '');
  if (s.length % 4 !== 0) return undefined;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  if (!BASE64_BODY.test(s.slice(0, s.length - pad))) return undefined;
  return Buffer.from(s, 'base64');
}

/** Encodes octets as base64 on one line (spec §3: no line breaks required). */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** The PEM blocks (RFC 7468) of a text, with label and base64 body. */
function pemBlocks(text: string): { label: string; body: string }[] {
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  const blocks: { label: string; body: string }[] = [];
  for (let m = re.exec(text); m; m = re.exec(text)) {
    blocks.push({ label: m[1] as string, body: m[2] as string });
  }
  return blocks;
}

/**
 * Splits a PEM bundle into its blocks' full PEM texts (e.g. a chain sent as one
 * text). Text outside the blocks is ignored (RFC 7468 §2).
 */
export function splitPem(text: string): string[] {
  const re = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
  return text.match(re) ?? [];
}

/**
 * Turns a certificate, CSR or CRL field that is either PEM text or bare base64
 * of the DER (spec §3) into DER octets.
 *
 * With PEM the first block whose label is one of `label` is used (RFC 7468;
 * e.g. `'CERTIFICATE'`, or `['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']`).
 *
 * @throws IrpProtocolError 2005 when there is no such block, the base64 is bad or
 *   the result is empty
 */
export function pemOrBase64ToDer(text: string, label: string | readonly string[]): Buffer {
  const labels = typeof label === 'string' ? [label] : label;
  const shown = labels.join(' or ');
  let der: Buffer | undefined;
  if (text.includes('-----BEGIN')) {
    const block = pemBlocks(text).find((b) => labels.includes(b.label));
    if (!block) {
      throw new IrpProtocolError(
        ResultCode.ValueSyntax,
        `Parameter value syntax error: no PEM block labelled ${shown}`,
      );
    }
    der = decodeBase64(block.body);
  } else {
    der = decodeBase64(text);
  }
  if (!der || der.length === 0) {
    throw new IrpProtocolError(
      ResultCode.ValueSyntax,
      `Parameter value syntax error: ${shown} is neither PEM nor base64 DER`,
    );
  }
  return der;
}
