import { PkiError } from '../pki.error.js';

/** PEM labels this library reads and writes (RFC 7468). */
export type PemLabel =
  | 'CERTIFICATE'
  | 'CERTIFICATE REQUEST'
  | 'NEW CERTIFICATE REQUEST'
  | 'X509 CRL'
  | 'PRIVATE KEY'
  | 'ENCRYPTED PRIVATE KEY'
  | 'EC PRIVATE KEY'
  | 'RSA PRIVATE KEY'
  | 'PUBLIC KEY'
  | 'PKCS12';

/**
 * Encodes DER as PEM: 64-character base64 lines and a trailing newline, so that
 * PEM blocks can be concatenated into a chain file directly.
 */
export function derToPem(der: Uint8Array, label: PemLabel): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  let body = '';
  for (let i = 0; i < b64.length; i += 64) body += b64.slice(i, i + 64) + '\n';
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

const B64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** One decoded PEM block. */
export interface PemBlock {
  /** The label between `BEGIN ` and `-----`. */
  readonly label: string;
  /** The decoded DER bytes. */
  readonly der: Uint8Array;
}

function decodeBase64Strict(text: string, what: string): Uint8Array {
  const compact = text.replace(/[\s]+/g, '');
  if (!B64_RE.test(compact) || compact.length % 4 === 1) {
    throw new PkiError('syntax', `${what}: invalid base64`);
  }
  const out = Buffer.from(compact, 'base64');
  if (out.length === 0) throw new PkiError('syntax', `${what}: empty`);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Decodes every PEM block in `text`, in order. Text outside the blocks (e.g.
 * OpenSSL's "Bag Attributes" headers) is ignored; RFC 7468 headers inside a
 * block are not supported (encrypted legacy PEM).
 */
export function decodePemBlocks(text: string): PemBlock[] {
  // A linear scan with indexOf (no backtracking regex): input comes from the network.
  const out: PemBlock[] = [];
  let pos = 0;
  for (;;) {
    const begin = text.indexOf('-----BEGIN ', pos);
    if (begin < 0) break;
    const labelEnd = text.indexOf('-----', begin + 11);
    if (labelEnd < 0) break;
    const label = text.slice(begin + 11, labelEnd);
    if (!/^[A-Z0-9 ]{1,40}$/.test(label)) {
      pos = begin + 11;
      continue;
    }
    const endMarker = `-----END ${label}-----`;
    const end = text.indexOf(endMarker, labelEnd + 5);
    if (end < 0) break;
    const body = text.slice(labelEnd + 5, end);
    if (body.includes(':'))
      throw new PkiError('unsupported', `PEM ${label}: headers not supported`);
    out.push({ label, der: decodeBase64Strict(body, `PEM ${label}`) });
    pos = end + endMarker.length;
  }
  return out;
}

/**
 * Decodes exactly one PEM block whose label is one of `labels`.
 * @throws PkiError `syntax` when there is no such block or more than one
 */
export function pemToDer(text: string, labels: readonly PemLabel[]): Uint8Array {
  const blocks = decodePemBlocks(text).filter((b) =>
    (labels as readonly string[]).includes(b.label),
  );
  if (blocks.length !== 1 || !blocks[0]) {
    throw new PkiError('syntax', `expected exactly one PEM block labelled ${labels.join(' or ')}`);
  }
  return blocks[0].der;
}

/** The input forms accepted wherever a certificate, CSR or CRL is read. */
export type PemOrDer = string | Uint8Array;

/**
 * Normalises input that may be PEM text, bare base64 text (white space ignored,
 * as in IRP elements, spec §3) or DER bytes, to DER bytes.
 */
export function toDer(input: PemOrDer, labels: readonly PemLabel[]): Uint8Array {
  if (typeof input === 'string') {
    if (input.includes('-----BEGIN')) return pemToDer(input, labels);
    return decodeBase64Strict(input, labels[0] ?? 'input');
  }
  // Bytes that start with "-----BEGIN" are PEM text, otherwise DER.
  const prefix = Buffer.from(input.subarray(0, 11)).toString('latin1');
  if (prefix === '-----BEGIN ') return pemToDer(Buffer.from(input).toString('utf8'), labels);
  if (input.length === 0) throw new PkiError('syntax', 'empty input');
  return input;
}
