import {
  createDecipheriv,
  createHmac,
  pbkdf2,
  timingSafeEqual,
  createPublicKey,
} from 'node:crypto';
import { promisify } from 'node:util';
import * as asn1js from 'asn1js';
import { parseCertificate, type ParsedCertificate } from '../certificate/parsed-certificate.js';
import { OID } from '../encoding/oids.js';
import { spkiDer, toPrivateKey } from '../keys/key-algorithm.js';
import { PkiError } from '../pki.error.js';
import {
  explicitInner,
  intOf,
  isContext,
  isUniversal,
  kids,
  octetsOf,
  oidOf,
  parseBer,
  seqKids,
  type Ber,
} from './ber.js';
import { bmpPassword, KDF_ID, pkcs12Kdf, type Pkcs12Hash } from './pkcs12-kdf.js';

const DIGEST_LENGTH: Record<Pkcs12Hash, number> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

const pbkdf2Async = promisify(pbkdf2);

/** Content types of an AuthenticatedSafe element, by name. */
export type Pkcs12ContentType = 'data' | 'encryptedData' | 'envelopedData' | 'other';

/** What can be told about a PFX without a passphrase. */
export interface Pkcs12Info {
  /** Always 3. */
  readonly version: 3;
  /** `password` (MacData present), `publicKey` (authSafe is SignedData) or `none`. */
  readonly integrity: 'password' | 'publicKey' | 'none';
  /** MAC digest algorithm name (e.g. `sha256`, `sha1`) or the OID when unknown; absent without MacData. */
  readonly macAlgorithm?: string;
  /** MAC iteration count (absent without MacData). */
  readonly macIterations?: number;
  /** Content types of the AuthenticatedSafe elements (when integrity is `password`/`none`). */
  readonly contentTypes: readonly Pkcs12ContentType[];
  /** Octet count of the input. */
  readonly size: number;
}

const CONTENT_TYPES: Record<string, Pkcs12ContentType> = {
  [OID.data]: 'data',
  [OID.encryptedData]: 'encryptedData',
  [OID.envelopedData]: 'envelopedData',
};

const MAC_HASHES: Record<string, Pkcs12Hash> = {
  [OID.sha1]: 'sha1',
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
};

/** Largest iteration count this library will run when reading (bounds the work an uploaded file can cause). */
const MAX_READ_ITERATIONS = 10_000_000;

interface PfxParts {
  readonly integrity: Pkcs12Info['integrity'];
  readonly authSafe?: Buffer;
  readonly mac?: {
    readonly oid: string;
    readonly digest: Buffer;
    readonly salt: Buffer;
    readonly iterations: number;
  };
}

function parsePfx(bytes: Uint8Array): PfxParts {
  const pfx = parseBer(bytes, 'PKCS#12');
  const [versionB, authSafeB, macB, extra] = seqKids(pfx, 'PFX');
  if (intOf(versionB, 'PFX version') !== 3) throw new PkiError('syntax', 'PFX version is not 3');
  if (extra) throw new PkiError('syntax', 'PFX: unexpected element');
  const [ctB, contentB] = seqKids(authSafeB, 'PFX authSafe');
  const contentType = oidOf(ctB, 'authSafe contentType');
  let mac: PfxParts['mac'];
  if (macB !== undefined) {
    const [digestInfoB, saltB, iterB] = seqKids(macB, 'MacData');
    const [algB, digestB] = seqKids(digestInfoB, 'MacData DigestInfo');
    const [algOidB] = seqKids(algB, 'MacData algorithm');
    mac = {
      oid: oidOf(algOidB, 'MacData algorithm'),
      digest: octetsOf(digestB, 'MacData digest'),
      salt: octetsOf(saltB, 'MacData salt'),
      iterations: iterB === undefined ? 1 : intOf(iterB, 'MacData iterations'),
    };
    if (mac.iterations < 1) throw new PkiError('syntax', 'MacData iterations < 1');
  }
  if (contentType === OID.signedData) {
    explicitInner(contentB, 0, 'authSafe content');
    return { integrity: 'publicKey', ...(mac ? { mac } : {}) };
  }
  if (contentType !== OID.data)
    throw new PkiError('syntax', 'PFX authSafe is neither data nor signedData');
  const authSafe = octetsOf(explicitInner(contentB, 0, 'authSafe content'), 'authSafe content');
  return { integrity: mac ? 'password' : 'none', authSafe, ...(mac ? { mac } : {}) };
}

function authSafeContentInfos(authSafe: Buffer): Ber[] {
  return seqKids(parseBer(authSafe, 'AuthenticatedSafe'), 'AuthenticatedSafe');
}

/**
 * Checks that `bytes` is a PKCS#12 PFX, version 3 (BER or DER), without
 * decrypting anything or needing a passphrase (spec §10 `uploadPkcs12`):
 * the PFX SEQUENCE, version 3, an authSafe ContentInfo of type data or
 * signedData, a well-formed MacData when present, and (for data) an
 * AuthenticatedSafe that is a SEQUENCE OF ContentInfo. Trailing bytes are refused.
 * @throws PkiError `syntax` for anything else
 */
export function inspectPkcs12(bytes: Uint8Array): Pkcs12Info {
  const parts = parsePfx(bytes);
  const contentTypes: Pkcs12ContentType[] = [];
  if (parts.authSafe) {
    for (const ci of authSafeContentInfos(parts.authSafe)) {
      const [ctB] = seqKids(ci, 'ContentInfo');
      contentTypes.push(CONTENT_TYPES[oidOf(ctB, 'ContentInfo contentType')] ?? 'other');
    }
  }
  return {
    version: 3,
    integrity: parts.integrity,
    ...(parts.mac
      ? {
          macAlgorithm: MAC_HASHES[parts.mac.oid] ?? parts.mac.oid,
          macIterations: parts.mac.iterations,
        }
      : {}),
    contentTypes,
    size: bytes.length,
  };
}

/** What {@link readPkcs12} found. */
export interface Pkcs12Contents {
  /** PKCS#8 DER of the (single) private key. */
  readonly privateKeyPkcs8Der: Uint8Array;
  /** DER of the certificate of that key. */
  readonly certificateDer: Uint8Array;
  /** DER of the other certificates, in file order. */
  readonly chainDer: readonly Uint8Array[];
  /** friendlyName of the key bag, if any. */
  readonly friendlyName?: string;
}

function checkIterations(n: number): void {
  if (n < 1 || n > MAX_READ_ITERATIONS)
    throw new PkiError('unsupported', `iteration count ${n} is out of range`);
}

async function decrypt(
  algB: Ber | undefined,
  ciphertext: Buffer,
  passphrase: string,
): Promise<Buffer> {
  const [oidB, paramsB] = seqKids(algB, 'encryption AlgorithmIdentifier');
  const alg = oidOf(oidB, 'encryption algorithm');
  try {
    if (alg === OID.pbes2) {
      const [kdfB, encB] = seqKids(paramsB, 'PBES2-params');
      const [kdfOidB, kdfParamsB] = seqKids(kdfB, 'PBES2 KDF');
      if (oidOf(kdfOidB, 'PBES2 KDF') !== OID.pbkdf2)
        throw new PkiError('unsupported', 'PBES2 KDF is not PBKDF2');
      const pk = seqKids(kdfParamsB, 'PBKDF2-params');
      const salt = octetsOf(pk[0], 'PBKDF2 salt');
      const iterations = intOf(pk[1], 'PBKDF2 iterations');
      checkIterations(iterations);
      let prf = 'sha1';
      for (const p of pk.slice(2)) {
        if (isUniversal(p, 16)) {
          const prfOid = oidOf(seqKids(p, 'PBKDF2 prf')[0], 'PBKDF2 prf');
          const name = {
            [OID.hmacWithSha1]: 'sha1',
            [OID.hmacWithSha256]: 'sha256',
            [OID.hmacWithSha384]: 'sha384',
            [OID.hmacWithSha512]: 'sha512',
          }[prfOid];
          if (!name) throw new PkiError('unsupported', `PBKDF2 PRF ${prfOid} not supported`);
          prf = name;
        }
      }
      const [encOidB, ivB] = seqKids(encB, 'PBES2 encryption scheme');
      const enc = oidOf(encOidB, 'PBES2 encryption scheme');
      const cipher = {
        [OID.aes128Cbc]: ['aes-128-cbc', 16],
        [OID.aes192Cbc]: ['aes-192-cbc', 24],
        [OID.aes256Cbc]: ['aes-256-cbc', 32],
        '1.2.840.113549.3.7': ['des-ede3-cbc', 24],
      }[enc] as [string, number] | undefined;
      if (!cipher) throw new PkiError('unsupported', `PBES2 cipher ${enc} not supported`);
      const key = await pbkdf2Async(
        Buffer.from(passphrase, 'utf8'),
        salt,
        iterations,
        cipher[1],
        prf,
      );
      const d = createDecipheriv(cipher[0], key, octetsOf(ivB, 'PBES2 IV'));
      return Buffer.concat([d.update(ciphertext), d.final()]);
    }
    if (alg === OID.pbeWithSha1And3KeyTripleDesCbc) {
      const [saltB, iterB] = seqKids(paramsB, 'PBE params');
      const salt = octetsOf(saltB, 'PBE salt');
      const iterations = intOf(iterB, 'PBE iterations');
      checkIterations(iterations);
      const pw = bmpPassword(passphrase);
      const key = await pkcs12Kdf('sha1', pw, salt, iterations, KDF_ID.key, 24);
      const iv = await pkcs12Kdf('sha1', pw, salt, iterations, KDF_ID.iv, 8);
      const d = createDecipheriv('des-ede3-cbc', key, iv);
      return Buffer.concat([d.update(ciphertext), d.final()]);
    }
  } catch (error) {
    if (error instanceof PkiError) throw error;
    throw new PkiError('decrypt', 'PKCS#12 decryption failed (wrong passphrase?)', {
      cause: error,
    });
  }
  throw new PkiError(
    'unsupported',
    `PKCS#12 encryption ${alg} is not supported (RC2 and other legacy schemes)`,
  );
}

interface Bag {
  readonly kind: 'key' | 'cert';
  readonly der: Buffer;
  readonly localKeyId?: string;
  readonly friendlyName?: string;
}

function bagAttributes(attrsB: Ber | undefined): { localKeyId?: string; friendlyName?: string } {
  if (!attrsB) return {};
  const out: { localKeyId?: string; friendlyName?: string } = {};
  for (const attr of kids(attrsB, 'bag attributes')) {
    const [typeB, valuesB] = seqKids(attr, 'bag attribute');
    const type = oidOf(typeB, 'bag attribute type');
    const [value] = kids(valuesB, 'bag attribute values');
    if (type === OID.localKeyId) out.localKeyId = octetsOf(value, 'localKeyId').toString('hex');
    if (type === OID.friendlyName && value instanceof asn1js.BmpString)
      out.friendlyName = value.valueBlock.value;
  }
  return out;
}

async function readSafeContents(bytes: Buffer, passphrase: string): Promise<Bag[]> {
  const bags: Bag[] = [];
  for (const bagB of seqKids(parseBer(bytes, 'SafeContents'), 'SafeContents')) {
    const [idB, valueB, attrsB] = seqKids(bagB, 'SafeBag');
    const id = oidOf(idB, 'SafeBag id');
    const value = explicitInner(valueB, 0, 'SafeBag value');
    const attrs = bagAttributes(attrsB);
    if (id === OID.pkcs8ShroudedKeyBag) {
      const [algB, dataB] = seqKids(value, 'EncryptedPrivateKeyInfo');
      bags.push({
        kind: 'key',
        der: await decrypt(algB, octetsOf(dataB, 'encryptedData'), passphrase),
        ...attrs,
      });
    } else if (id === OID.keyBag) {
      bags.push({ kind: 'key', der: Buffer.from(value.toBER(false)), ...attrs });
    } else if (id === OID.certBag) {
      const [typeB, certB] = seqKids(value, 'CertBag');
      if (oidOf(typeB, 'CertBag type') === OID.x509Certificate) {
        bags.push({
          kind: 'cert',
          der: octetsOf(explicitInner(certB, 0, 'CertBag value'), 'certificate'),
          ...attrs,
        });
      }
    }
  }
  return bags;
}

/**
 * Opens a password-protected PKCS#12 (for the CLI's restore and for tests):
 * verifies the MAC, decrypts PBES2 (PBKDF2 + AES-CBC/3DES) and legacy
 * pbeWithSHAAnd3-KeyTripleDES-CBC bags, and returns the single private key, its
 * certificate (matched by localKeyId, else by public key) and the rest.
 * @throws PkiError `syntax` (not a PFX / no key / several keys), `decrypt` (wrong
 *   passphrase or tampered), `unsupported` (RC2, public-key integrity/privacy)
 */
export async function readPkcs12(bytes: Uint8Array, passphrase: string): Promise<Pkcs12Contents> {
  const parts = parsePfx(bytes);
  if (!parts.authSafe)
    throw new PkiError('unsupported', 'public-key integrity mode is not supported');
  if (parts.mac) {
    const hash = MAC_HASHES[parts.mac.oid];
    if (!hash) throw new PkiError('unsupported', `MAC algorithm ${parts.mac.oid} not supported`);
    checkIterations(parts.mac.iterations);
    const len = DIGEST_LENGTH[hash];
    const key = await pkcs12Kdf(
      hash,
      bmpPassword(passphrase),
      parts.mac.salt,
      parts.mac.iterations,
      KDF_ID.mac,
      len,
    );
    const mac = createHmac(hash, key).update(parts.authSafe).digest();
    if (mac.length !== parts.mac.digest.length || !timingSafeEqual(mac, parts.mac.digest)) {
      throw new PkiError(
        'decrypt',
        'PKCS#12 MAC verification failed (wrong passphrase or tampered file)',
      );
    }
  }
  const bags: Bag[] = [];
  for (const ci of authSafeContentInfos(parts.authSafe)) {
    const [ctB, contentB] = seqKids(ci, 'ContentInfo');
    const ct = oidOf(ctB, 'ContentInfo contentType');
    if (ct === OID.data) {
      bags.push(
        ...(await readSafeContents(
          octetsOf(explicitInner(contentB, 0, 'data'), 'data'),
          passphrase,
        )),
      );
    } else if (ct === OID.encryptedData) {
      const [, eciB] = seqKids(explicitInner(contentB, 0, 'encryptedData'), 'EncryptedData');
      const [, algB, dataB] = seqKids(eciB, 'EncryptedContentInfo');
      if (!algB || !isContext(dataB, 0))
        throw new PkiError('syntax', 'EncryptedContentInfo without content');
      const plain = await decrypt(algB, octetsOf(dataB, 'encryptedContent'), passphrase);
      bags.push(...(await readSafeContents(plain, passphrase)));
    } else {
      throw new PkiError('unsupported', 'public-key privacy mode (envelopedData) is not supported');
    }
  }
  const keys = bags.filter((b) => b.kind === 'key');
  const key = keys[0];
  if (!key) throw new PkiError('syntax', 'PKCS#12 holds no private key');
  if (keys.length > 1) throw new PkiError('unsupported', 'PKCS#12 holds more than one private key');
  const keyObject = toPrivateKey(key.der);
  const certs = bags.filter((b) => b.kind === 'cert');
  const parsed: ParsedCertificate[] = certs.map((c) => parseCertificate(c.der));
  let index =
    key.localKeyId === undefined ? -1 : certs.findIndex((c) => c.localKeyId === key.localKeyId);
  if (index < 0) {
    const spki = spkiDer(createPublicKey(keyObject));
    index = parsed.findIndex((c) => Buffer.compare(spkiDer(c.publicKey), spki) === 0);
  }
  const cert = parsed[index];
  if (!cert) throw new PkiError('syntax', 'PKCS#12 holds no certificate for its key');
  return {
    privateKeyPkcs8Der: keyObject.export({ type: 'pkcs8', format: 'der' }),
    certificateDer: cert.der,
    chainDer: parsed.filter((_, i) => i !== index).map((c) => c.der),
    ...(key.friendlyName === undefined ? {} : { friendlyName: key.friendlyName }),
  };
}
