import type { KeyObject } from 'node:crypto';
import { importSpki } from '../keys/spki.js';
import {
  children,
  DerError,
  encoding,
  readBitString,
  readSmallInteger,
  readWhole,
} from '../encoding/der-reader.js';
import { bitString, constructed, seq, uint } from '../encoding/der-writer.js';
import { encodeName, formatName, type NameAttribute } from '../encoding/name.js';
import { derToPem, toDer, type PemOrDer } from '../encoding/pem.js';
import {
  decodeSignatureAlgorithm,
  signingAlgorithmFor,
  signWith,
  spkiDer,
  toPrivateKey,
  verifyWith,
  type KeyAlgorithmDescription,
  type PrivateKeyInput,
  type VerifyAlgorithm,
} from '../keys/key-algorithm.js';
import { PkiError } from '../pki.error.js';

/** A PKCS#10 request whose proof of possession verified and whose key passed the policy. */
export interface ParsedCsr {
  /** The request DER. */
  readonly der: Uint8Array;
  /** The requested subject, RFC 4514 (informational only: the registry never copies it, spec §9). */
  readonly subject: string;
  /** Canonical SubjectPublicKeyInfo DER of the requested key (re-encoded by node:crypto). */
  readonly spkiDer: Uint8Array;
  /** The requested public key. */
  readonly publicKey: KeyObject;
  /** The key, described (spec §9 key policy passed). */
  readonly keyAlgorithm: KeyAlgorithmDescription;
  /** Dotted OID of the algorithm the request was signed with. */
  readonly signatureAlgorithm: string;
}

/**
 * Parses a PKCS#10 certificate request (PEM, base64 or DER), enforces the key
 * policy and verifies its signature (proof of possession). Spec §9.
 *
 * Order of checks, so that expensive work happens only for allowed keys:
 * structure → key type and size (policy) → signature algorithm → signature.
 *
 * @throws PkiError `syntax` (2005): not a PKCS#10 request, unknown signature
 *   algorithm, or the signature does not verify;
 *   `policy` (2306): key other than ECDSA P-256/P-384/P-521, Ed25519 or
 *   RSA ≥ 2048 bits, or a SHA-1/MD5 signature
 */
export function parseCsr(input: PemOrDer): ParsedCsr {
  const der = toDer(input, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);
  let infoDer: Uint8Array;
  let subjectDer: Uint8Array;
  let rawSpki: Uint8Array;
  let sigAlgDer: Uint8Array;
  let signature: Uint8Array;
  try {
    const whole = readWhole(der, 0x30);
    const [infoT, algT, sigT, extra] = children(der, whole);
    if (!infoT || !algT || !sigT || extra || infoT.tag !== 0x30 || algT.tag !== 0x30) {
      throw new DerError('bad CertificationRequest');
    }
    const [versionT, subjectT, spkiT, attrsT, extra2] = children(der, infoT);
    if (!versionT || !subjectT || !spkiT || extra2 || subjectT.tag !== 0x30 || spkiT.tag !== 0x30) {
      throw new DerError('bad CertificationRequestInfo');
    }
    if (attrsT && attrsT.tag !== 0xa0) throw new DerError('bad attributes');
    if (readSmallInteger(der, versionT) !== 0) throw new DerError('unsupported CSR version');
    infoDer = encoding(der, infoT);
    subjectDer = encoding(der, subjectT);
    rawSpki = encoding(der, spkiT);
    sigAlgDer = encoding(der, algT);
    const sig = readBitString(der, sigT);
    if (sig.unusedBits !== 0) throw new DerError('bad signature');
    signature = sig.bytes;
  } catch (error) {
    if (error instanceof DerError) {
      throw new PkiError('syntax', `not a valid PKCS#10 request: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }

  const { publicKey, spkiDer: canonicalSpki, keyAlgorithm } = importSpki(rawSpki); // policy, then import

  let alg: VerifyAlgorithm;
  try {
    alg = decodeSignatureAlgorithm(sigAlgDer);
  } catch (error) {
    throw new PkiError('syntax', 'CSR signature algorithm is not supported', { cause: error });
  }
  if (alg.strength !== 'ok')
    throw new PkiError('policy', 'CSR is signed with a weak hash (SHA-1/MD5)');
  if (!verifyWith(alg, publicKey, infoDer, signature)) {
    throw new PkiError('syntax', 'CSR signature does not verify (no proof of possession)');
  }
  let subject: string;
  try {
    subject = formatName(subjectDer);
  } catch {
    subject = '';
  }
  return {
    der,
    subject,
    spkiDer: canonicalSpki,
    publicKey,
    keyAlgorithm,
    signatureAlgorithm: alg.oid,
  };
}

/** Options of {@link buildCsr}. */
export interface BuildCsrOptions {
  /** The key to request a certificate for (signs the request). */
  readonly privateKey: PrivateKeyInput;
  /** Subject attributes (default empty subject; the registry ignores it anyway). */
  readonly subject?: readonly NameAttribute[];
}

/** A built PKCS#10 request. */
export interface BuiltCsr {
  readonly der: Uint8Array;
  /** `CERTIFICATE REQUEST` PEM with trailing newline. */
  readonly pem: string;
}

/**
 * Builds a PKCS#10 request signed with `privateKey` (for clients, the CLI,
 * tests and the benchmark). The hash follows the key: SHA-256 for P-256 and
 * RSA, SHA-384 for P-384, SHA-512 for P-521; Ed25519 is pure.
 */
export function buildCsr(options: BuildCsrOptions): BuiltCsr {
  const key = toPrivateKey(options.privateKey);
  const alg = signingAlgorithmFor(key);
  const info = seq(uint(0), encodeName(options.subject ?? []), spkiDer(key), constructed(0xa0, []));
  const der = seq(info, alg.algorithmIdentifierDer, bitString(signWith(alg, key, info)));
  return { der, pem: derToPem(der, 'CERTIFICATE REQUEST') };
}
