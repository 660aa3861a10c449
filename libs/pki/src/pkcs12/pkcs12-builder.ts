import { createCipheriv, createHash, createHmac, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { parseCertificate } from '../certificate/parsed-certificate.js';
import { assertKeyMatches } from '../ca/ca-signer.js';
import {
  algorithmIdentifier,
  bmpString,
  explicit,
  implicitPrimitive,
  NULL,
  octetString,
  oid,
  seq,
  setOf,
  uint,
} from '../encoding/der-writer.js';
import { OID } from '../encoding/oids.js';
import type { PemOrDer } from '../encoding/pem.js';
import { toPrivateKey, type PrivateKeyInput } from '../keys/key-algorithm.js';
import { PkiError } from '../pki.error.js';
import { bmpPassword, KDF_ID, pkcs12Kdf } from './pkcs12-kdf.js';

const pbkdf2Async = promisify(pbkdf2);

/** Default iteration count for PBKDF2 and the MAC KDF (see {@link BuildPkcs12Options.iterations}). */
export const DEFAULT_PKCS12_ITERATIONS = 100_000;

/** Options of {@link buildPkcs12}. */
export interface BuildPkcs12Options {
  /** The private key (KeyObject, PKCS#8 DER or PEM). */
  readonly privateKey: PrivateKeyInput;
  /** The certificate of that key. */
  readonly certificate: PemOrDer;
  /** CA certificates to include (issuing CA first). */
  readonly chain?: readonly PemOrDer[];
  /** The passphrase (1–1024 characters; used as UTF-8 for PBKDF2 and as BMPString for the MAC, like OpenSSL 3). */
  readonly passphrase: string;
  /** friendlyName of the key and certificate (e.g. the IRP address). */
  readonly friendlyName?: string;
  /**
   * Iterations of PBKDF2-HMAC-SHA256 for both bags and of the SHA-256 MAC KDF
   * (default 100 000). All three use the same count: the MAC is a passphrase
   * oracle too, so a weaker MAC would be the cheapest attack. OpenSSL's own
   * default is 2048. The MAC KDF runs in JavaScript (~1.5 µs per iteration),
   * yielding to the event loop as it goes.
   */
  readonly iterations?: number;
}

function pbes2AlgorithmIdentifier(salt: Uint8Array, iterations: number, iv: Uint8Array): Buffer {
  return seq(
    oid(OID.pbes2),
    seq(
      seq(
        oid(OID.pbkdf2),
        seq(octetString(salt), uint(iterations), algorithmIdentifier(OID.hmacWithSha256, NULL)),
      ),
      seq(oid(OID.aes256Cbc), octetString(iv)),
    ),
  );
}

/** PBES2 (RFC 8018 §6.2) with PBKDF2-HMAC-SHA256 and AES-256-CBC: returns [AlgorithmIdentifier, ciphertext]. */
async function pbes2Encrypt(
  plaintext: Uint8Array,
  passphrase: string,
  iterations: number,
): Promise<[Buffer, Buffer]> {
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const key = await pbkdf2Async(Buffer.from(passphrase, 'utf8'), salt, iterations, 32, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  key.fill(0);
  return [pbes2AlgorithmIdentifier(salt, iterations, iv), ciphertext];
}

function attributes(
  friendlyName: string | undefined,
  localKeyId: Uint8Array | undefined,
): Buffer[] {
  const attrs: Buffer[] = [];
  if (friendlyName !== undefined)
    attrs.push(seq(oid(OID.friendlyName), setOf(bmpString(friendlyName))));
  if (localKeyId) attrs.push(seq(oid(OID.localKeyId), setOf(octetString(localKeyId))));
  return attrs.length > 0 ? [setOf(...attrs)] : [];
}

function certBag(der: Uint8Array, attrs: Buffer[]): Buffer {
  return seq(
    oid(OID.certBag),
    explicit(0, seq(oid(OID.x509Certificate), explicit(0, octetString(der)))),
    ...attrs,
  );
}

/**
 * Builds a password-protected PKCS#12 (PFX v3, RFC 7292), as spec §9 `keygen`
 * and the CLI's backups need, readable by OpenSSL 3 without `-legacy`:
 *
 * - AuthenticatedSafe[0]: EncryptedData (PBES2: PBKDF2-HMAC-SHA256 + AES-256-CBC)
 *   holding a CertBag per certificate (the end-entity with friendlyName and
 *   localKeyId, then the chain);
 * - AuthenticatedSafe[1]: Data holding a PKCS8ShroudedKeyBag (same PBES2
 *   scheme, fresh salt and IV) with friendlyName and localKeyId;
 * - MacData: HMAC-SHA256 keyed by the PKCS#12 KDF (SHA-256, ID 3).
 *
 * localKeyId is the SHA-1 of the certificate DER, as OpenSSL writes it.
 * @throws PkiError `argument` (passphrase/iterations), `mismatch` (key is not the certificate's), `syntax`
 */
export async function buildPkcs12(options: BuildPkcs12Options): Promise<Uint8Array> {
  const { passphrase } = options;
  if (typeof passphrase !== 'string' || passphrase.length < 1 || passphrase.length > 1024) {
    throw new PkiError('argument', 'passphrase must be 1–1024 characters');
  }
  const iterations = options.iterations ?? DEFAULT_PKCS12_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 1000 || iterations > 10_000_000) {
    throw new PkiError('argument', 'iterations must be 1000–10000000');
  }
  const key = toPrivateKey(options.privateKey);
  const cert = parseCertificate(options.certificate);
  assertKeyMatches(cert, key);
  const chain = (options.chain ?? []).map((c) => parseCertificate(c));
  const localKeyId = createHash('sha1').update(cert.der).digest();
  const attrs = attributes(options.friendlyName, localKeyId);

  const certContents = seq(certBag(cert.der, attrs), ...chain.map((c) => certBag(c.der, [])));
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  const [[certAlg, certCipher], [keyAlg, keyCipher]] = await Promise.all([
    pbes2Encrypt(certContents, passphrase, iterations),
    pbes2Encrypt(pkcs8, passphrase, iterations),
  ]);
  pkcs8.fill(0);
  const keyContents = seq(
    seq(oid(OID.pkcs8ShroudedKeyBag), explicit(0, seq(keyAlg, octetString(keyCipher))), ...attrs),
  );

  const authSafe = seq(
    seq(
      oid(OID.encryptedData),
      explicit(0, seq(uint(0), seq(oid(OID.data), certAlg, implicitPrimitive(0, certCipher)))),
    ),
    seq(oid(OID.data), explicit(0, octetString(keyContents))),
  );

  const macSalt = randomBytes(16);
  const macKey = await pkcs12Kdf(
    'sha256',
    bmpPassword(passphrase),
    macSalt,
    iterations,
    KDF_ID.mac,
    32,
  );
  const mac = createHmac('sha256', macKey).update(authSafe).digest();
  macKey.fill(0);
  return seq(
    uint(3),
    seq(oid(OID.data), explicit(0, octetString(authSafe))),
    seq(
      seq(algorithmIdentifier(OID.sha256, NULL), octetString(mac)),
      octetString(macSalt),
      uint(iterations),
    ),
  );
}
