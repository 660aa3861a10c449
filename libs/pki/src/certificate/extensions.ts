import { createHash } from 'node:crypto';
import { children, readBitString, readWhole } from '../encoding/der-reader.js';
import {
  bool,
  explicit,
  implicitConstructed,
  implicitPrimitive,
  namedBits,
  octetString,
  oid,
  seq,
  uint,
} from '../encoding/der-writer.js';
import { OID } from '../encoding/oids.js';
import { KEY_USAGE_NAMES, type KeyUsageName } from './parsed-certificate.js';
import { encodeGeneralName, generalNames, type GeneralName } from './general-name.js';

/** Extension ::= SEQUENCE { extnID, critical DEFAULT FALSE, extnValue OCTET STRING } */
export function extension(oidText: string, critical: boolean, value: Uint8Array): Buffer {
  return critical
    ? seq(oid(oidText), bool(true), octetString(value))
    : seq(oid(oidText), octetString(value));
}

/** BasicConstraints, always critical (RFC 5280 §4.2.1.9 requires it for CAs; harmless for end entities). */
export function basicConstraintsExtension(ca: boolean, pathLength?: number): Buffer {
  const inner = ca
    ? pathLength === undefined
      ? seq(bool(true))
      : seq(bool(true), uint(pathLength))
    : seq();
  return extension(OID.basicConstraints, true, inner);
}

/** KeyUsage, critical. */
export function keyUsageExtension(usages: readonly KeyUsageName[]): Buffer {
  return extension(OID.keyUsage, true, namedBits(usages.map((u) => KEY_USAGE_NAMES.indexOf(u))));
}

/** ExtendedKeyUsage (non-critical, so relying parties that do not know a purpose are not broken). */
export function extKeyUsageExtension(purposeOids: readonly string[]): Buffer {
  return extension(OID.extKeyUsage, false, seq(...purposeOids.map((p) => oid(p))));
}

/** SubjectKeyIdentifier. */
export function subjectKeyIdentifierExtension(keyId: Uint8Array): Buffer {
  return extension(OID.subjectKeyIdentifier, false, octetString(keyId));
}

/** AuthorityKeyIdentifier with keyIdentifier only (RFC 5280 §4.2.1.1). */
export function authorityKeyIdentifierExtension(keyId: Uint8Array): Buffer {
  return extension(OID.authorityKeyIdentifier, false, seq(implicitPrimitive(0, keyId)));
}

/**
 * SubjectAltName. Critical only when the subject is empty (RFC 5280 §4.2.1.6);
 * the registry always writes a CN, so it is non-critical.
 */
export function subjectAltNameExtension(names: readonly GeneralName[], critical = false): Buffer {
  return extension(OID.subjectAltName, critical, generalNames(names.map(encodeGeneralName)));
}

/** CRLDistributionPoints with one DistributionPoint per URL, each a fullName URI. */
export function crlDistributionPointsExtension(urls: readonly string[]): Buffer {
  const points = urls.map((url) =>
    seq(explicit(0, implicitConstructed(0, encodeGeneralName({ type: 'uri', value: url })))),
  );
  return extension(OID.crlDistributionPoints, false, seq(...points));
}

/** AuthorityInfoAccess with OCSP and caIssuers URLs. */
export function authorityInfoAccessExtension(
  ocspUrls: readonly string[],
  caIssuersUrls: readonly string[],
): Buffer {
  const ads = [
    ...ocspUrls.map((u) => seq(oid(OID.ocsp), encodeGeneralName({ type: 'uri', value: u }))),
    ...caIssuersUrls.map((u) =>
      seq(oid(OID.caIssuers), encodeGeneralName({ type: 'uri', value: u })),
    ),
  ];
  return extension(OID.authorityInfoAccess, false, seq(...ads));
}

/** The subjectPublicKey BIT STRING octets of a SubjectPublicKeyInfo DER. */
export function publicKeyBitsOf(spki: Uint8Array): Uint8Array {
  const [, bits] = children(spki, readWhole(spki, 0x30));
  if (!bits) throw new RangeError('bad SubjectPublicKeyInfo');
  return readBitString(spki, bits).bytes;
}

/** Key identifier: SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2, method 1). */
export function keyIdentifier(spki: Uint8Array): Buffer {
  return createHash('sha1').update(publicKeyBitsOf(spki)).digest();
}
