import { createPublicKey, type KeyObject } from 'node:crypto';
import {
  children,
  DerError,
  readBitString,
  readOid,
  readUnsignedIntegerBytes,
  readWhole,
} from '../encoding/der-reader.js';
import {
  algorithmIdentifier,
  bitString,
  NULL,
  oid,
  seq,
  uintFromBytes,
} from '../encoding/der-writer.js';
import { OID } from '../encoding/oids.js';
import { PkiError } from '../pki.error.js';
import {
  describeKey,
  MAX_RSA_BITS,
  MIN_RSA_BITS,
  type EcCurveName,
  type KeyAlgorithmDescription,
} from './key-algorithm.js';

/** A SubjectPublicKeyInfo that passed the key policy, imported. */
export interface ImportedPublicKey {
  readonly publicKey: KeyObject;
  /** Canonical DER re-encoding (named curve, uncompressed point; RSA with NULL parameters). */
  readonly spkiDer: Uint8Array;
  readonly keyAlgorithm: KeyAlgorithmDescription;
}

const CURVE_BY_OID: Record<string, { name: EcCurveName; bytes: number; bits: 256 | 384 | 521 }> = {
  [OID.secp256r1]: { name: 'P-256', bytes: 32, bits: 256 },
  [OID.secp384r1]: { name: 'P-384', bytes: 48, bits: 384 },
  [OID.secp521r1]: { name: 'P-521', bytes: 66, bits: 521 },
};

function bitLength(magnitude: Uint8Array): number {
  const first = magnitude[0] ?? 0;
  return first === 0 ? 0 : (magnitude.length - 1) * 8 + (32 - Math.clz32(first));
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

function importJwk(jwk: Record<string, string>): KeyObject {
  try {
    return createPublicKey({ key: jwk, format: 'jwk' });
  } catch (error) {
    throw new PkiError('syntax', 'public key is not valid (e.g. point not on the curve)', {
      cause: error,
    });
  }
}

function importDer(spki: Uint8Array): KeyObject {
  try {
    return createPublicKey({
      key: Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength),
      format: 'der',
      type: 'spki',
    });
  } catch (error) {
    throw new PkiError('syntax', 'public key is not valid (e.g. point not on the curve)', {
      cause: error,
    });
  }
}

/**
 * Reads a SubjectPublicKeyInfo from untrusted input, applies the key policy of
 * spec §9 on the decoded structure BEFORE any expensive key import (so an
 * oversized RSA key costs nothing), imports the key with node:crypto and
 * returns a canonical re-encoding.
 *
 * Speed (this is on the requestCertificate path): OpenSSL 3's generic DER
 * decoder costs ~95 µs per key, so keys are imported from their components
 * as JWK where that is faster (P-256, RSA, Ed25519: 3–65 µs) and from DER
 * otherwise (P-384/P-521, whose JWK import does an extra full key check).
 * Either way OpenSSL validates the key (EC points must be on the curve).
 *
 * @throws PkiError `policy` (key type, curve or size not allowed), `syntax` (malformed or invalid key)
 */
export function importSpki(spki: Uint8Array): ImportedPublicKey {
  let algOid: string;
  let params: Uint8Array | undefined;
  let paramsTag: number | undefined;
  let bits: Uint8Array;
  try {
    const whole = readWhole(spki, 0x30);
    const [algT, bitsT, extra] = children(spki, whole);
    if (!algT || !bitsT || extra || algT.tag !== 0x30)
      throw new DerError('bad SubjectPublicKeyInfo');
    const [oidT, paramsT, extra2] = children(spki, algT);
    if (!oidT || extra2) throw new DerError('bad AlgorithmIdentifier');
    algOid = readOid(spki, oidT);
    if (paramsT) {
      paramsTag = paramsT.tag;
      params = spki.subarray(paramsT.start, paramsT.end);
    }
    const bs = readBitString(spki, bitsT);
    if (bs.unusedBits !== 0) throw new DerError('bad subjectPublicKey');
    bits = bs.bytes;
  } catch (error) {
    if (error instanceof DerError)
      throw new PkiError('syntax', `bad SubjectPublicKeyInfo: ${error.message}`, { cause: error });
    throw error;
  }

  switch (algOid) {
    case OID.ecPublicKey: {
      if (paramsTag !== 0x06 || !params)
        throw new PkiError('policy', 'EC keys must use a named curve');
      const curveOid = readOid(params, readWhole(params, 0x06));
      const curve = CURVE_BY_OID[curveOid];
      if (!curve) throw new PkiError('policy', `EC curve ${curveOid} is not allowed`);
      const canonicalFor = (point: Uint8Array): Buffer =>
        seq(seq(oid(OID.ecPublicKey), oid(curveOid)), bitString(point));
      const keyAlgorithm: KeyAlgorithmDescription = {
        type: 'ec',
        curve: curve.name,
        bits: curve.bits,
        label: `ECDSA ${curve.name}`,
      };
      if (bits[0] === 0x04 && bits.length === 1 + 2 * curve.bytes) {
        const canonical = canonicalFor(bits);
        const publicKey =
          curve.name === 'P-256'
            ? importJwk({
                kty: 'EC',
                crv: curve.name,
                x: b64url(bits.subarray(1, 1 + curve.bytes)),
                y: b64url(bits.subarray(1 + curve.bytes)),
              })
            : importDer(canonical);
        return { publicKey, spkiDer: canonical, keyAlgorithm };
      }
      // Compressed or hybrid point: let OpenSSL decode it, write it uncompressed.
      const publicKey = importDer(spki);
      const jwk = publicKey.export({ format: 'jwk' });
      const point = Buffer.concat([
        Buffer.from([4]),
        Buffer.from(jwk.x ?? '', 'base64url'),
        Buffer.from(jwk.y ?? '', 'base64url'),
      ]);
      return { publicKey, spkiDer: canonicalFor(point), keyAlgorithm };
    }
    case OID.rsaEncryption: {
      if (params && paramsTag !== 0x05)
        throw new PkiError('syntax', 'rsaEncryption parameters must be NULL');
      let n: Uint8Array;
      let e: Uint8Array;
      try {
        const rsa = readWhole(bits, 0x30);
        const [nT, eT, extra] = children(bits, rsa);
        if (!nT || !eT || extra) throw new DerError('bad RSAPublicKey');
        n = readUnsignedIntegerBytes(bits, nT);
        e = readUnsignedIntegerBytes(bits, eT);
      } catch (error) {
        if (error instanceof DerError)
          throw new PkiError('syntax', `bad RSAPublicKey: ${error.message}`, { cause: error });
        throw error;
      }
      const nBits = bitLength(n);
      if (nBits < MIN_RSA_BITS)
        throw new PkiError('policy', `RSA-${nBits} is below ${MIN_RSA_BITS} bits`);
      if (nBits > MAX_RSA_BITS)
        throw new PkiError('policy', `RSA-${nBits} is above ${MAX_RSA_BITS} bits`);
      const eLast = e[e.length - 1] ?? 0;
      if (e.length > 8 || (eLast & 1) === 0 || (e.length === 1 && eLast < 3)) {
        throw new PkiError('policy', 'RSA public exponent is not allowed');
      }
      const publicKey = importJwk({ kty: 'RSA', n: b64url(n), e: b64url(e) });
      const canonical = seq(
        algorithmIdentifier(OID.rsaEncryption, NULL),
        bitString(seq(uintFromBytes(n), uintFromBytes(e))),
      );
      return { publicKey, spkiDer: canonical, keyAlgorithm: describeKey(publicKey) };
    }
    case OID.ed25519: {
      if (params) throw new PkiError('syntax', 'Ed25519 keys have no parameters');
      if (bits.length !== 32) throw new PkiError('syntax', 'Ed25519 key must be 32 octets');
      const publicKey = importJwk({ kty: 'OKP', crv: 'Ed25519', x: b64url(bits) });
      return {
        publicKey,
        spkiDer: seq(algorithmIdentifier(OID.ed25519), bitString(bits)),
        keyAlgorithm: { type: 'ed25519', bits: 256, label: 'Ed25519' },
      };
    }
    default:
      throw new PkiError('policy', `key algorithm ${algOid} is not allowed`);
  }
}
