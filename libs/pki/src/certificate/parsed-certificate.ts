import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import {
  children,
  content,
  DerError,
  encoding,
  readBitString,
  readBoolean,
  readOid,
  readSmallInteger,
  readTime,
  readUnsignedIntegerBytes,
  readWhole,
  type Tlv,
} from '../encoding/der-reader.js';
import { formatSerialHex, sha256Fingerprint, toHex } from '../encoding/hex.js';
import { formatName } from '../encoding/name.js';
import { OID } from '../encoding/oids.js';
import { decodePemBlocks, derToPem, toDer, type PemOrDer } from '../encoding/pem.js';
import {
  decodeSignatureAlgorithm,
  verifyWith,
  type VerifyAlgorithm,
} from '../keys/key-algorithm.js';
import { PkiError } from '../pki.error.js';
import { decodeGeneralName, decodeGeneralNames, type GeneralName } from './general-name.js';

/** One extension as found in a certificate. */
export interface CertificateExtension {
  /** Dotted OID. */
  readonly oid: string;
  readonly critical: boolean;
  /** The extnValue content (DER of the extension's own structure). */
  readonly value: Uint8Array;
}

/** KeyUsage bit names (RFC 5280 §4.2.1.3), in bit order. */
export const KEY_USAGE_NAMES = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
/** One KeyUsage bit name. */
export type KeyUsageName = (typeof KEY_USAGE_NAMES)[number];

/** SubjectAltName values grouped by type. */
export interface SubjectAltNames {
  readonly email: readonly string[];
  readonly uri: readonly string[];
  readonly dns: readonly string[];
  readonly ip: readonly string[];
}

/**
 * A parsed X.509 certificate (read-only). Built by {@link parseCertificate};
 * certificates are built by the issuers, never by mutating this object.
 * Only what the registry needs is decoded; everything keeps its exact DER.
 */
export class ParsedCertificate {
  /** The whole certificate DER. */
  readonly der: Uint8Array;
  /** The TBSCertificate DER (what the signature covers). */
  readonly tbsDer: Uint8Array;
  /** 1 or 3. */
  readonly version: number;
  /** Serial magnitude octets (no sign octet). */
  readonly serialBytes: Uint8Array;
  /** Serial as lower-case hex (32 digits for the domain CA's serials, spec §9). */
  readonly serialHex: string;
  /** DER of the issuer Name (compare names by these bytes). */
  readonly issuerDer: Uint8Array;
  /** DER of the subject Name. */
  readonly subjectDer: Uint8Array;
  /** RFC 4514 issuer string, for display. */
  readonly issuer: string;
  /** RFC 4514 subject string, for display. */
  readonly subject: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** SubjectPublicKeyInfo DER. */
  readonly spkiDer: Uint8Array;
  /** The subjectPublicKey BIT STRING octets (hashed for key identifiers and OCSP CertIDs). */
  readonly publicKeyBits: Uint8Array;
  /** DER of the outer signatureAlgorithm. */
  readonly signatureAlgorithmDer: Uint8Array;
  /** The signature octets. */
  readonly signature: Uint8Array;
  readonly extensions: readonly CertificateExtension[];
  /** SHA-256 of the DER, 64 lower-case hex digits (spec §9). */
  readonly sha256: string;

  private cachedKey: KeyObject | undefined;

  /** @internal use {@link parseCertificate} */
  constructor(der: Uint8Array) {
    this.der = der;
    const cert = readWhole(der, 0x30);
    const [tbsT, sigAlgT, sigT, extra] = children(der, cert);
    if (!tbsT || !sigAlgT || !sigT || extra || tbsT.tag !== 0x30 || sigAlgT.tag !== 0x30) {
      throw new DerError('bad Certificate');
    }
    this.tbsDer = encoding(der, tbsT);
    this.signatureAlgorithmDer = encoding(der, sigAlgT);
    const sig = readBitString(der, sigT);
    if (sig.unusedBits !== 0) throw new DerError('bad signature BIT STRING');
    this.signature = sig.bytes;

    const parts = children(der, tbsT);
    let i = 0;
    let version = 1;
    if (parts[0]?.tag === 0xa0) {
      const [v] = children(der, parts[0]);
      if (!v) throw new DerError('bad version');
      version = readSmallInteger(der, v) + 1;
      if (version !== 2 && version !== 3) throw new DerError('unsupported certificate version');
      i = 1;
    }
    this.version = version;
    const serialT = parts[i++];
    const innerSigT = parts[i++];
    const issuerT = parts[i++];
    const validityT = parts[i++];
    const subjectT = parts[i++];
    const spkiT = parts[i++];
    if (!serialT || !innerSigT || !issuerT || !validityT || !subjectT || !spkiT) {
      throw new DerError('bad TBSCertificate');
    }
    if (Buffer.compare(encoding(der, innerSigT), this.signatureAlgorithmDer) !== 0) {
      throw new DerError('TBSCertificate signature algorithm differs from the outer one');
    }
    this.serialBytes = readSerial(der, serialT);
    this.serialHex = formatSerialHex(this.serialBytes);
    if (issuerT.tag !== 0x30 || subjectT.tag !== 0x30 || spkiT.tag !== 0x30) {
      throw new DerError('bad TBSCertificate');
    }
    this.issuerDer = encoding(der, issuerT);
    this.subjectDer = encoding(der, subjectT);
    this.issuer = formatName(this.issuerDer);
    this.subject = formatName(this.subjectDer);
    const [nbT, naT] = children(der, validityT);
    if (!nbT || !naT) throw new DerError('bad Validity');
    this.notBefore = readTime(der, nbT);
    this.notAfter = readTime(der, naT);
    this.spkiDer = encoding(der, spkiT);
    const [, bitsT] = children(der, spkiT);
    if (!bitsT) throw new DerError('bad SubjectPublicKeyInfo');
    this.publicKeyBits = readBitString(der, bitsT).bytes;

    const extensions: CertificateExtension[] = [];
    for (const rest of parts.slice(i)) {
      if (rest.tag === 0xa3) {
        if (version !== 3) throw new DerError('extensions in a non-v3 certificate');
        const [extsT] = children(der, rest);
        if (!extsT || extsT.tag !== 0x30) throw new DerError('bad Extensions');
        for (const extT of children(der, extsT)) extensions.push(readExtension(der, extT));
      } else if (rest.tag !== 0x81 && rest.tag !== 0x82) {
        throw new DerError('unexpected element in TBSCertificate');
      }
    }
    const seen = new Set<string>();
    for (const e of extensions) {
      if (seen.has(e.oid)) throw new DerError(`duplicate extension ${e.oid}`);
      seen.add(e.oid);
    }
    this.extensions = extensions;
    this.sha256 = sha256Fingerprint(der);
  }

  /** The subject public key as a node:crypto KeyObject (parsed on first use). */
  get publicKey(): KeyObject {
    if (!this.cachedKey) {
      try {
        this.cachedKey = createPublicKey({
          key: Buffer.from(this.spkiDer),
          format: 'der',
          type: 'spki',
        });
      } catch (error) {
        throw new PkiError('syntax', 'certificate public key cannot be read', { cause: error });
      }
    }
    return this.cachedKey;
  }

  /** The extension with `oid`, if present. */
  extension(oid: string): CertificateExtension | undefined {
    return this.extensions.find((e) => e.oid === oid);
  }

  /** BasicConstraints, or undefined when absent (= not a CA). */
  get basicConstraints(): { readonly ca: boolean; readonly pathLength?: number } | undefined {
    const e = this.extension(OID.basicConstraints);
    if (!e) return undefined;
    return withDer(() => {
      const v = e.value;
      const whole = readWhole(v, 0x30);
      let ca = false;
      let pathLength: number | undefined;
      for (const t of children(v, whole)) {
        if (t.tag === 0x01) ca = readBoolean(v, t);
        else if (t.tag === 0x02) pathLength = readSmallInteger(v, t);
      }
      return pathLength === undefined ? { ca } : { ca, pathLength };
    });
  }

  /** True when BasicConstraints says cA=TRUE. */
  get isCa(): boolean {
    return this.basicConstraints?.ca === true;
  }

  /** KeyUsage bit names, or undefined when the extension is absent (= any usage). */
  get keyUsage(): readonly KeyUsageName[] | undefined {
    const e = this.extension(OID.keyUsage);
    if (!e) return undefined;
    return withDer(() => {
      const { bytes } = readBitString(e.value, readWhole(e.value, 0x03));
      return KEY_USAGE_NAMES.filter(
        (_, bit) => ((bytes[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0,
      );
    });
  }

  /** ExtendedKeyUsage purpose OIDs, or undefined when absent (= any purpose). */
  get extendedKeyUsage(): readonly string[] | undefined {
    const e = this.extension(OID.extKeyUsage);
    if (!e) return undefined;
    return withDer(() =>
      children(e.value, readWhole(e.value, 0x30)).map((t) => readOid(e.value, t)),
    );
  }

  /** Every SubjectAltName entry, in order (other name types are skipped). */
  get subjectAltNameEntries(): readonly GeneralName[] {
    const e = this.extension(OID.subjectAltName);
    if (!e) return [];
    return withDer(() => decodeGeneralNames(e.value, readWhole(e.value, 0x30)));
  }

  /** SubjectAltName values grouped by type. */
  get subjectAltNames(): SubjectAltNames {
    const entries = this.subjectAltNameEntries;
    const pick = (type: GeneralName['type']): string[] =>
      entries.filter((g) => g.type === type).map((g) => g.value);
    return { email: pick('email'), uri: pick('uri'), dns: pick('dns'), ip: pick('ip') };
  }

  /** SubjectKeyIdentifier octets, if present. */
  get subjectKeyIdentifier(): Uint8Array | undefined {
    const e = this.extension(OID.subjectKeyIdentifier);
    if (!e) return undefined;
    return withDer(() => {
      const t = readWhole(e.value, 0x04);
      return content(e.value, t);
    });
  }

  /** AuthorityKeyIdentifier keyIdentifier octets, if present. */
  get authorityKeyIdentifier(): Uint8Array | undefined {
    const e = this.extension(OID.authorityKeyIdentifier);
    if (!e) return undefined;
    return withDer(() => {
      const kid = children(e.value, readWhole(e.value, 0x30)).find((t) => t.tag === 0x80);
      return kid ? content(e.value, kid) : undefined;
    });
  }

  /** URIs of the CRL distribution points (fullName URIs only). */
  get crlDistributionPointUrls(): readonly string[] {
    const e = this.extension(OID.crlDistributionPoints);
    if (!e) return [];
    return withDer(() => {
      const v = e.value;
      const out: string[] = [];
      for (const dp of children(v, readWhole(v, 0x30))) {
        const dpName = children(v, dp).find((t) => t.tag === 0xa0);
        const fullName = dpName ? children(v, dpName).find((t) => t.tag === 0xa0) : undefined;
        if (fullName) {
          for (const g of decodeGeneralNames(v, fullName)) if (g.type === 'uri') out.push(g.value);
        }
      }
      return out;
    });
  }

  /** AuthorityInfoAccess URIs by method. */
  get authorityInfoAccess(): {
    readonly ocsp: readonly string[];
    readonly caIssuers: readonly string[];
  } {
    const e = this.extension(OID.authorityInfoAccess);
    if (!e) return { ocsp: [], caIssuers: [] };
    return withDer(() => {
      const v = e.value;
      const ocsp: string[] = [];
      const caIssuers: string[] = [];
      for (const ad of children(v, readWhole(v, 0x30))) {
        const [methodT, locT] = children(v, ad);
        if (!methodT || !locT) throw new DerError('bad AccessDescription');
        const method = readOid(v, methodT);
        const loc = decodeGeneralName(v, locT);
        if (loc?.type === 'uri') {
          if (method === OID.ocsp) ocsp.push(loc.value);
          else if (method === OID.caIssuers) caIssuers.push(loc.value);
        }
      }
      return { ocsp, caIssuers };
    });
  }

  /** True when subject and issuer names are byte-identical. */
  get isSelfIssued(): boolean {
    return Buffer.compare(this.subjectDer, this.issuerDer) === 0;
  }

  /** The decoded signature algorithm. @throws PkiError `unsupported` */
  get signatureAlgorithm(): VerifyAlgorithm {
    return withDer(() => decodeSignatureAlgorithm(this.signatureAlgorithmDer));
  }

  /** True when `at` lies within [notBefore, notAfter] (inclusive, RFC 5280 §4.1.2.5). */
  isValidAt(at: Date): boolean {
    const t = at.getTime();
    return t >= this.notBefore.getTime() && t <= this.notAfter.getTime();
  }

  /**
   * Verifies this certificate's signature with the issuer's public key. Weak
   * (SHA-1/MD5) and unsupported algorithms verify as false.
   */
  verifySignature(issuerPublicKey: KeyObject): boolean {
    let alg: VerifyAlgorithm;
    try {
      alg = this.signatureAlgorithm;
    } catch {
      return false;
    }
    if (alg.strength !== 'ok') return false;
    return verifyWith(alg, issuerPublicKey, this.tbsDer, this.signature);
  }

  /** True when `issuer` issued this certificate: names match and the signature verifies. */
  isIssuedBy(issuer: ParsedCertificate): boolean {
    return (
      Buffer.compare(this.issuerDer, issuer.subjectDer) === 0 &&
      this.verifySignature(issuer.publicKey)
    );
  }

  /** PEM (`CERTIFICATE`, trailing newline). */
  toPem(): string {
    return derToPem(this.der, 'CERTIFICATE');
  }

  /** SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2 method 1), lower-case hex. */
  get keyIdHex(): string {
    return toHex(createHash('sha1').update(this.publicKeyBits).digest());
  }
}

function readSerial(der: Uint8Array, t: Tlv): Uint8Array {
  if (t.tag !== 0x02) throw new DerError('expected serial INTEGER');
  const c = content(der, t);
  // Some CAs wrote negative or non-minimal serials; RFC 5280 says be tolerant when reading.
  if (c.length === 0 || c.length > 64) throw new DerError('bad serial number');
  try {
    return readUnsignedIntegerBytes(der, t);
  } catch {
    return c;
  }
}

function readExtension(der: Uint8Array, t: Tlv): CertificateExtension {
  const parts = children(der, t);
  const [oidT, second, third] = parts;
  if (!oidT || !second) throw new DerError('bad Extension');
  let critical = false;
  let valueT = second;
  if (second.tag === 0x01) {
    critical = readBoolean(der, second);
    if (!third) throw new DerError('bad Extension');
    valueT = third;
  }
  if (valueT.tag !== 0x04) throw new DerError('bad Extension value');
  return { oid: readOid(der, oidT), critical, value: content(der, valueT) };
}

function withDer<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof DerError)
      throw new PkiError('syntax', `malformed extension: ${error.message}`, { cause: error });
    throw error;
  }
}

/**
 * Parses a certificate from PEM text, base64 text or DER bytes.
 * @throws PkiError `syntax` when it is not a well-formed X.509 certificate
 */
export function parseCertificate(input: PemOrDer): ParsedCertificate {
  const der = toDer(input, ['CERTIFICATE']);
  try {
    return new ParsedCertificate(der);
  } catch (error) {
    if (error instanceof DerError) {
      throw new PkiError('syntax', `not a valid X.509 certificate: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * Parses several certificates: a PEM bundle, or an array of PEM/DER inputs.
 * @throws PkiError `syntax`
 */
export function parseCertificates(input: string | readonly PemOrDer[]): ParsedCertificate[] {
  if (typeof input === 'string') {
    return decodePemBlocks(input)
      .filter((b) => b.label === 'CERTIFICATE')
      .map((b) => parseCertificate(b.der));
  }
  return input.map((c) => parseCertificate(c));
}
