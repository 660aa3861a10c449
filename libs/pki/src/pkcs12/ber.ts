import * as asn1js from 'asn1js';
import { PkiError } from '../pki.error.js';

/**
 * Thin accessors over asn1js for reading BER (PKCS#12 files may use indefinite
 * lengths and constructed strings). Every failure is a `PkiError('syntax')`.
 */
export type Ber = asn1js.AsnType;

function fail(what: string): never {
  throw new PkiError('syntax', what);
}

/** Parses exactly one BER element spanning all of `bytes`. */
export function parseBer(bytes: Uint8Array, what: string): Ber {
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let asn: ReturnType<typeof asn1js.fromBER>;
  try {
    asn = asn1js.fromBER(view);
  } catch {
    fail(`${what}: not BER`);
  }
  if (asn.offset === -1 || asn.result.error)
    fail(`${what}: not BER (${asn.result.error || 'decode error'})`);
  if (asn.offset !== view.byteLength) fail(`${what}: trailing bytes`);
  return asn.result;
}

/** True for a universal-class element with tag number `n`. */
export function isUniversal(b: Ber | undefined, n: number): boolean {
  return !!b && b.idBlock.tagClass === 1 && b.idBlock.tagNumber === n;
}

/** True for a context-class element `[n]`. */
export function isContext(b: Ber | undefined, n: number): boolean {
  return !!b && b.idBlock.tagClass === 3 && b.idBlock.tagNumber === n;
}

/** Children of a constructed element (SEQUENCE, SET, explicit tag). */
export function kids(b: Ber | undefined, what: string): Ber[] {
  if (!b || !b.idBlock.isConstructed) fail(`${what}: expected a constructed element`);
  const value = (b.valueBlock as unknown as { value?: Ber[] }).value;
  if (!Array.isArray(value)) fail(`${what}: expected a constructed element`);
  // Indefinite-length encodings end with an end-of-content marker element.
  return value.filter((c) => !(c.idBlock.tagClass === 1 && c.idBlock.tagNumber === 0));
}

/** Children of a SEQUENCE. */
export function seqKids(b: Ber | undefined, what: string): Ber[] {
  if (!isUniversal(b, 16)) fail(`${what}: expected SEQUENCE`);
  return kids(b, what);
}

/** Dotted OID of an OBJECT IDENTIFIER element. */
export function oidOf(b: Ber | undefined, what: string): string {
  if (!(b instanceof asn1js.ObjectIdentifier)) fail(`${what}: expected OBJECT IDENTIFIER`);
  return b.valueBlock.toString();
}

/** Value of a small INTEGER. */
export function intOf(b: Ber | undefined, what: string): number {
  if (!(b instanceof asn1js.Integer)) fail(`${what}: expected INTEGER`);
  const v = b.valueBlock.valueDec;
  if (!Number.isSafeInteger(v)) fail(`${what}: INTEGER out of range`);
  return v;
}

/**
 * Octets of a string element: primitive content, or the concatenated segments
 * of a constructed (BER) string. Works for OCTET STRING and implicitly tagged ones.
 */
export function octetsOf(b: Ber | undefined, what: string, depth = 0): Buffer {
  if (!b || depth > 8) fail(`${what}: expected an OCTET STRING`);
  if (!b.idBlock.isConstructed) {
    const view = (b.valueBlock as unknown as { valueHexView?: Uint8Array }).valueHexView;
    if (!(view instanceof Uint8Array)) fail(`${what}: expected an OCTET STRING`);
    return Buffer.from(view);
  }
  return Buffer.concat(kids(b, what).map((k) => octetsOf(k, what, depth + 1)));
}

/** The single element inside an explicit tag `[n]`. */
export function explicitInner(b: Ber | undefined, n: number, what: string): Ber {
  if (!isContext(b, n)) fail(`${what}: expected [${n}]`);
  const [inner, extra] = kids(b, what);
  if (!inner || extra) fail(`${what}: expected exactly one element in [${n}]`);
  return inner;
}
