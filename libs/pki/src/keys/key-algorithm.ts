import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair as generateKeyPairCb,
  KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
  constants,
} from 'node:crypto';
import { promisify } from 'node:util';
import {
  children,
  DerError,
  readOid,
  readSmallInteger,
  readWhole,
  type Tlv,
} from '../encoding/der-reader.js';
import { algorithmIdentifier, NULL } from '../encoding/der-writer.js';
import { OID } from '../encoding/oids.js';
import { PkiError } from '../pki.error.js';

const generateKeyPairAsync = promisify(generateKeyPairCb);

/** Key algorithms this library generates (CA keys, server TLS keys, `keygen`, spec §9). */
export type KeyAlgorithmName =
  'P-256' | 'P-384' | 'P-521' | 'Ed25519' | 'RSA-2048' | 'RSA-3072' | 'RSA-4096';

/** Every {@link KeyAlgorithmName}. */
export const KEY_ALGORITHM_NAMES: readonly KeyAlgorithmName[] = [
  'P-256',
  'P-384',
  'P-521',
  'Ed25519',
  'RSA-2048',
  'RSA-3072',
  'RSA-4096',
];

/** NIST curve names as written in IRP and JOSE. */
export type EcCurveName = 'P-256' | 'P-384' | 'P-521';

/** A public key that passed the key policy of spec §9, described. */
export type KeyAlgorithmDescription =
  | {
      readonly type: 'ec';
      readonly curve: EcCurveName;
      readonly bits: 256 | 384 | 521;
      readonly label: string;
    }
  | { readonly type: 'rsa'; readonly bits: number; readonly label: string }
  | { readonly type: 'ed25519'; readonly bits: 256; readonly label: 'Ed25519' };

/** Smallest RSA modulus accepted (spec §9). */
export const MIN_RSA_BITS = 2048;
/** Largest RSA modulus accepted (bounds verification cost; RFC 8603 style ceiling). */
export const MAX_RSA_BITS = 8192;

const CURVES: Record<string, EcCurveName> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};

/** A generated key pair, both as KeyObjects and as DER for storage. */
export interface GeneratedKeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** PKCS#8 PrivateKeyInfo DER (encrypt it with {@link encryptPrivateKey} before storing). */
  readonly privateKeyPkcs8Der: Uint8Array;
  /** SubjectPublicKeyInfo DER. */
  readonly publicKeySpkiDer: Uint8Array;
}

/**
 * Generates a key pair with node:crypto (asynchronously: RSA-4096 takes seconds).
 */
export async function generateKeyPair(algorithm: KeyAlgorithmName): Promise<GeneratedKeyPair> {
  let pair: { privateKey: KeyObject; publicKey: KeyObject };
  switch (algorithm) {
    case 'P-256':
    case 'P-384':
    case 'P-521':
      pair = await generateKeyPairAsync('ec', { namedCurve: algorithm });
      break;
    case 'Ed25519':
      pair = await generateKeyPairAsync('ed25519');
      break;
    case 'RSA-2048':
    case 'RSA-3072':
    case 'RSA-4096':
      pair = await generateKeyPairAsync('rsa', {
        modulusLength: Number(algorithm.slice(4)),
        publicExponent: 0x10001,
      });
      break;
    default:
      throw new PkiError('argument', `unknown key algorithm ${String(algorithm)}`);
  }
  return {
    ...pair,
    privateKeyPkcs8Der: pair.privateKey.export({ type: 'pkcs8', format: 'der' }),
    publicKeySpkiDer: pair.publicKey.export({ type: 'spki', format: 'der' }),
  };
}

/** Private key input: a KeyObject, PKCS#8 DER, or PEM text (PKCS#8, SEC1 or PKCS#1; encrypted with `passphrase`). */
export type PrivateKeyInput = KeyObject | Uint8Array | string;

/**
 * Normalises a private key input to a KeyObject.
 * @throws PkiError `syntax` when it is not a private key; `decrypt` on a wrong passphrase
 */
export function toPrivateKey(input: PrivateKeyInput, passphrase?: string): KeyObject {
  if (input instanceof KeyObject) {
    if (input.type !== 'private') throw new PkiError('argument', 'expected a private key');
    return input;
  }
  try {
    if (typeof input === 'string') {
      return createPrivateKey(passphrase === undefined ? input : { key: input, passphrase });
    }
    return createPrivateKey({ key: Buffer.from(input), format: 'der', type: 'pkcs8' });
  } catch (error) {
    const msg = error instanceof Error ? error.message : '';
    if (passphrase !== undefined && /decrypt|bad|passphrase/i.test(msg)) {
      throw new PkiError('decrypt', 'private key could not be decrypted', { cause: error });
    }
    throw new PkiError('syntax', 'not a readable private key', { cause: error });
  }
}

/**
 * Public key input: a KeyObject (private keys are reduced to their public part)
 * or SubjectPublicKeyInfo DER.
 */
export type PublicKeyInput = KeyObject | Uint8Array;

/** Normalises a public key input to a public KeyObject. @throws PkiError `syntax` */
export function toPublicKey(input: PublicKeyInput): KeyObject {
  if (input instanceof KeyObject) return input.type === 'public' ? input : createPublicKey(input);
  try {
    return createPublicKey({ key: Buffer.from(input), format: 'der', type: 'spki' });
  } catch (error) {
    throw new PkiError('syntax', 'not a readable SubjectPublicKeyInfo', { cause: error });
  }
}

/** Canonical SubjectPublicKeyInfo DER of a key (EC keys with named curves, uncompressed points). */
export function spkiDer(key: KeyObject): Buffer {
  const pub = key.type === 'public' ? key : createPublicKey(key);
  return pub.export({ type: 'spki', format: 'der' });
}

/**
 * Describes a key and enforces the key policy of spec §9: ECDSA P-256/P-384/P-521,
 * Ed25519, or RSA (rsaEncryption, odd public exponent ≥ 3) with 2048–8192 bits.
 * RSA-PSS-only keys (id-RSASSA-PSS SPKI) are refused: they cannot do TLS 1.2
 * client authentication with every stack.
 * @throws PkiError `policy` for anything else
 */
export function describeKey(key: KeyObject): KeyAlgorithmDescription {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  switch (type) {
    case 'ec': {
      const curve = CURVES[details.namedCurve ?? ''];
      if (!curve) {
        throw new PkiError(
          'policy',
          `EC curve ${details.namedCurve ?? '(explicit)'} is not allowed`,
        );
      }
      const bits = curve === 'P-256' ? 256 : curve === 'P-384' ? 384 : 521;
      return { type: 'ec', curve, bits, label: `ECDSA ${curve}` };
    }
    case 'ed25519':
      return { type: 'ed25519', bits: 256, label: 'Ed25519' };
    case 'rsa': {
      const bits = details.modulusLength ?? 0;
      const e = details.publicExponent ?? 0n;
      if (bits < MIN_RSA_BITS)
        throw new PkiError('policy', `RSA-${bits} is below ${MIN_RSA_BITS} bits`);
      if (bits > MAX_RSA_BITS)
        throw new PkiError('policy', `RSA-${bits} is above ${MAX_RSA_BITS} bits`);
      if (e < 3n || e % 2n === 0n)
        throw new PkiError('policy', 'RSA public exponent is not allowed');
      return { type: 'rsa', bits, label: `RSA-${bits}` };
    }
    case 'rsa-pss':
    case 'dsa':
    case 'ed448':
    case 'x25519':
    case 'x448':
    case undefined:
      throw new PkiError('policy', `key type ${type ?? 'unknown'} is not allowed`);
  }
}

/** Hash names as accepted by node:crypto. */
export type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512';

/** How a CA key signs: the AlgorithmIdentifier to write and how to call node:crypto `sign()`. */
export interface SigningAlgorithm {
  /** Encoded AlgorithmIdentifier (for `signature` in TBSCertificate/TBSCertList and outer `signatureAlgorithm`). */
  readonly algorithmIdentifierDer: Buffer;
  /** Dotted OID of the signature algorithm. */
  readonly oid: string;
  /** Hash for node:crypto `sign()`, `null` for Ed25519. */
  readonly hash: HashName | null;
}

const SIGNING: Record<string, SigningAlgorithm> = {};
function signing(oidText: string, hash: HashName | null, params?: Buffer): SigningAlgorithm {
  const cached = SIGNING[oidText];
  if (cached) return cached;
  const alg = { algorithmIdentifierDer: algorithmIdentifier(oidText, params), oid: oidText, hash };
  SIGNING[oidText] = alg;
  return alg;
}

/**
 * The signature algorithm a CA key uses: ECDSA with the hash matching the
 * curve size (SHA-256/384/512, RFC 5758), Ed25519 (RFC 8410), or
 * sha256WithRSAEncryption for RSA keys of any size.
 */
export function signingAlgorithmFor(key: KeyObject): SigningAlgorithm {
  const d = describeKey(key);
  switch (d.type) {
    case 'ec':
      return d.curve === 'P-256'
        ? signing(OID.ecdsaWithSha256, 'sha256')
        : d.curve === 'P-384'
          ? signing(OID.ecdsaWithSha384, 'sha384')
          : signing(OID.ecdsaWithSha512, 'sha512');
    case 'ed25519':
      return signing(OID.ed25519, null);
    case 'rsa':
      return signing(OID.sha256WithRsa, 'sha256', NULL);
  }
}

/** Signs `data` with a private key per {@link SigningAlgorithm} (ECDSA signatures DER-encoded). */
export function signWith(alg: SigningAlgorithm, key: KeyObject, data: Uint8Array): Buffer {
  // ECDSA output is DER by default; passing the KeyObject itself avoids option parsing per call.
  return nodeSign(alg.hash, data, key);
}

/** Strength class of a signature algorithm found in input. */
export type SignatureStrength = 'ok' | 'weak';

/** A decoded signature AlgorithmIdentifier that this library can verify. */
export interface VerifyAlgorithm {
  readonly oid: string;
  readonly keyType: 'ec' | 'rsa' | 'ed25519';
  readonly hash: HashName | null;
  readonly pss?: { readonly saltLength: number };
  /** SHA-1 and MD5 based signatures are `weak`: parseable but refused by policy. */
  readonly strength: SignatureStrength;
}

const SIMPLE_VERIFY: Record<string, Omit<VerifyAlgorithm, 'oid'>> = {
  [OID.ecdsaWithSha256]: { keyType: 'ec', hash: 'sha256', strength: 'ok' },
  [OID.ecdsaWithSha384]: { keyType: 'ec', hash: 'sha384', strength: 'ok' },
  [OID.ecdsaWithSha512]: { keyType: 'ec', hash: 'sha512', strength: 'ok' },
  [OID.ecdsaWithSha1]: { keyType: 'ec', hash: 'sha1', strength: 'weak' },
  [OID.sha256WithRsa]: { keyType: 'rsa', hash: 'sha256', strength: 'ok' },
  [OID.sha384WithRsa]: { keyType: 'rsa', hash: 'sha384', strength: 'ok' },
  [OID.sha512WithRsa]: { keyType: 'rsa', hash: 'sha512', strength: 'ok' },
  [OID.sha1WithRsa]: { keyType: 'rsa', hash: 'sha1', strength: 'weak' },
  [OID.ed25519]: { keyType: 'ed25519', hash: null, strength: 'ok' },
};

const HASH_BY_OID: Record<string, HashName> = {
  [OID.sha1]: 'sha1',
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
};

function hashFromAlgId(buf: Uint8Array, t: Tlv): HashName {
  const [o] = children(buf, t);
  if (!o) throw new DerError('bad hash AlgorithmIdentifier');
  const h = HASH_BY_OID[readOid(buf, o)];
  if (!h) throw new PkiError('unsupported', 'unsupported hash algorithm');
  return h;
}

/**
 * Decodes a signature AlgorithmIdentifier (DER of the SEQUENCE).
 * @throws PkiError `unsupported` for unknown algorithms; DerError when malformed
 */
export function decodeSignatureAlgorithm(algIdDer: Uint8Array): VerifyAlgorithm {
  const whole = readWhole(algIdDer, 0x30);
  const [oidT, paramsT] = children(algIdDer, whole);
  if (!oidT) throw new DerError('bad AlgorithmIdentifier');
  const oidText = readOid(algIdDer, oidT);
  const simple = SIMPLE_VERIFY[oidText];
  if (simple) return { oid: oidText, ...simple };
  if (oidText === OID.md5WithRsa)
    return { oid: oidText, keyType: 'rsa', hash: null, strength: 'weak' };
  if (oidText === OID.rsassaPss) {
    // RSASSA-PSS-params (RFC 4055 §3.1): defaults SHA-1, MGF1-SHA-1, salt 20.
    let hash: HashName = 'sha1';
    let mgfHash: HashName = 'sha1';
    let saltLength = 20;
    if (paramsT && paramsT.tag === 0x30) {
      for (const p of children(algIdDer, paramsT)) {
        const [inner] = children(algIdDer, p);
        if (!inner) throw new DerError('bad RSASSA-PSS parameters');
        if (p.tag === 0xa0) hash = hashFromAlgId(algIdDer, inner);
        else if (p.tag === 0xa1) {
          const [mgfOid, mgfParams] = children(algIdDer, inner);
          if (!mgfOid || readOid(algIdDer, mgfOid) !== OID.mgf1 || !mgfParams) {
            throw new PkiError('unsupported', 'unsupported PSS mask generation function');
          }
          mgfHash = hashFromAlgId(algIdDer, mgfParams);
        } else if (p.tag === 0xa2) saltLength = readSmallInteger(algIdDer, inner);
        else if (p.tag === 0xa3) {
          if (readSmallInteger(algIdDer, inner) !== 1)
            throw new PkiError('unsupported', 'bad PSS trailer field');
        }
      }
    }
    if (mgfHash !== hash)
      throw new PkiError('unsupported', 'PSS with an MGF1 hash different from the message hash');
    if (saltLength < 0) throw new DerError('bad PSS salt length');
    return {
      oid: oidText,
      keyType: 'rsa',
      hash,
      pss: { saltLength },
      strength: hash === 'sha1' ? 'weak' : 'ok',
    };
  }
  throw new PkiError('unsupported', `unsupported signature algorithm ${oidText}`);
}

/**
 * Verifies a signature made with a decoded algorithm. Returns false when the
 * key type does not fit the algorithm or the signature does not verify.
 */
export function verifyWith(
  alg: VerifyAlgorithm,
  publicKey: KeyObject,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  const type = publicKey.asymmetricKeyType;
  if (alg.keyType === 'rsa' ? type !== 'rsa' && type !== 'rsa-pss' : type !== alg.keyType)
    return false;
  if (alg.hash === null && alg.keyType !== 'ed25519') return false; // md5
  try {
    if (alg.pss) {
      return nodeVerify(
        alg.hash,
        data,
        {
          key: publicKey,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: alg.pss.saltLength,
        },
        signature,
      );
    }
    return nodeVerify(alg.hash, data, { key: publicKey, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}
