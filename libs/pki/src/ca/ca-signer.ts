import { createPublicKey, type KeyObject } from 'node:crypto';
import { parseCertificate, type ParsedCertificate } from '../certificate/parsed-certificate.js';
import { keyIdentifier } from '../certificate/extensions.js';
import type { PemOrDer } from '../encoding/pem.js';
import {
  describeKey,
  signingAlgorithmFor,
  signWith,
  spkiDer,
  toPrivateKey,
  type KeyAlgorithmDescription,
  type PrivateKeyInput,
  type SigningAlgorithm,
} from '../keys/key-algorithm.js';
import { PkiError } from '../pki.error.js';

/** Inputs of {@link CaSigner.create}. */
export interface CaSignerOptions {
  /** The CA certificate (PEM, base64 or DER). */
  readonly certificate: PemOrDer;
  /** Its private key: KeyObject, PKCS#8 DER (e.g. from {@link decryptPrivateKey}) or PEM. */
  readonly privateKey: PrivateKeyInput;
  /** Passphrase when `privateKey` is encrypted PEM. */
  readonly passphrase?: string;
}

/**
 * A CA certificate together with its private key, checked to belong together,
 * ready to sign certificates, CRLs and OCSP responses. Holds the key as a
 * node:crypto KeyObject (never exported by this class) and caches what every
 * signature needs. Create one per CA and reuse it.
 */
export class CaSigner {
  /** The CA certificate. */
  readonly certificate: ParsedCertificate;
  /** The signing key (kept as a KeyObject; do not log). */
  readonly privateKey: KeyObject;
  /** How this key signs (AlgorithmIdentifier + hash). */
  readonly algorithm: SigningAlgorithm;
  /** The CA key's algorithm. */
  readonly keyAlgorithm: KeyAlgorithmDescription;
  /** Key identifier written as AKI into what this CA signs: the CA's SKI, or SHA-1 of its key when it has none. */
  readonly keyIdentifier: Uint8Array;

  private constructor(certificate: ParsedCertificate, privateKey: KeyObject) {
    this.certificate = certificate;
    this.privateKey = privateKey;
    this.keyAlgorithm = describeKey(privateKey);
    this.algorithm = signingAlgorithmFor(privateKey);
    this.keyIdentifier = certificate.subjectKeyIdentifier ?? keyIdentifier(certificate.spkiDer);
  }

  /**
   * Loads a CA.
   * @throws PkiError `syntax` (unreadable input), `chain` (certificate is not a CA
   *   allowed to sign certificates), `mismatch` (key does not belong to the
   *   certificate), `policy` (key algorithm not allowed)
   */
  static create(options: CaSignerOptions): CaSigner {
    const certificate = parseCertificate(options.certificate);
    const privateKey = toPrivateKey(options.privateKey, options.passphrase);
    assertCaCertificate(certificate);
    assertKeyMatches(certificate, privateKey);
    return new CaSigner(certificate, privateKey);
  }

  /** Signs `data` (a TBS structure) with the CA key. */
  sign(data: Uint8Array): Buffer {
    return signWith(this.algorithm, this.privateKey, data);
  }
}

/**
 * Checks that a certificate may act as a CA: v3, BasicConstraints cA=TRUE, and
 * KeyUsage (when present) with keyCertSign.
 * @throws PkiError `chain`
 */
export function assertCaCertificate(certificate: ParsedCertificate): void {
  if (certificate.version !== 3 || !certificate.isCa) {
    throw new PkiError(
      'chain',
      'certificate is not a CA certificate (basicConstraints cA is not TRUE)',
    );
  }
  const ku = certificate.keyUsage;
  if (ku && !ku.includes('keyCertSign')) {
    throw new PkiError('chain', 'CA certificate lacks keyUsage keyCertSign');
  }
}

/**
 * Checks that a private key is the key of a certificate (same SubjectPublicKeyInfo).
 * @throws PkiError `mismatch`
 */
export function assertKeyMatches(certificate: ParsedCertificate, privateKey: KeyObject): void {
  const fromKey = spkiDer(createPublicKey(privateKey));
  const fromCert = spkiDer(certificate.publicKey);
  if (Buffer.compare(fromKey, fromCert) !== 0) {
    throw new PkiError('mismatch', 'private key does not match the certificate');
  }
}
