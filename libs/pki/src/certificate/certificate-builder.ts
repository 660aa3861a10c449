import { randomBytes } from 'node:crypto';
import { bitString, explicit, seq, uintFromBytes, x509Time } from '../encoding/der-writer.js';
import { type SigningAlgorithm, signWith } from '../keys/key-algorithm.js';
import type { KeyObject } from 'node:crypto';

/**
 * Serial numbers (spec §9): 16 octets from the CSPRNG with the first octet
 * forced into 0x01–0x7f, so the DER INTEGER is exactly 16 content octets,
 * positive, and the hex form is exactly 32 digits. That leaves 126 bits of
 * entropy, above the 64 bits of CA/B BR §7.1.
 */
export function randomSerial(): Buffer {
  const s = randomBytes(16);
  s[0] = (s[0] ?? 0) & 0x7f || 0x01;
  return s;
}

/** Inputs of {@link buildCertificateDer}; every Name and SPKI already DER-encoded. */
export interface CertificateTemplate {
  /** Serial magnitude octets (see {@link randomSerial}). */
  readonly serial: Uint8Array;
  readonly issuerNameDer: Uint8Array;
  readonly subjectNameDer: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly spkiDer: Uint8Array;
  /** Encoded Extension elements, in the order to write. */
  readonly extensions: readonly Uint8Array[];
}

/** Assembles Certificate ::= SEQUENCE { tbs, signatureAlgorithm, signatureValue } around a signed TBS. */
export function assembleCertificate(
  tbs: Uint8Array,
  alg: SigningAlgorithm,
  signature: Uint8Array,
): Buffer {
  return seq(tbs, alg.algorithmIdentifierDer, bitString(signature));
}

const V3 = explicit(0, Buffer.from([0x02, 0x01, 0x02]));

/**
 * Builds and signs a v3 certificate. The general (not precomputed) path, used
 * for CA certificates; the hot issuance path is in `CertificateIssuer`.
 */
export function buildCertificateDer(
  template: CertificateTemplate,
  alg: SigningAlgorithm,
  key: KeyObject,
): Buffer {
  const tbs = seq(
    V3,
    uintFromBytes(template.serial),
    alg.algorithmIdentifierDer,
    template.issuerNameDer,
    seq(x509Time(template.notBefore), x509Time(template.notAfter)),
    template.subjectNameDer,
    template.spkiDer,
    explicit(3, seq(...template.extensions)),
  );
  return assembleCertificate(tbs, alg, signWith(alg, key, tbs));
}
