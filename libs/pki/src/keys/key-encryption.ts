import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { PkiError } from '../pki.error.js';

/**
 * Envelope for private keys at rest (AES-256-GCM under a 32-byte master key).
 *
 * Layout, version 1 (all binary, stored as-is, e.g. in a `bytea` column):
 *
 * ```
 * offset  size  field
 * 0       4     magic "IRPK"
 * 4       1     version = 0x01
 * 5       1     algorithm = 0x01 (AES-256-GCM, 96-bit nonce, 128-bit tag)
 * 6       12    nonce (random per encryption)
 * 18      n     ciphertext (the PKCS#8 DER, same length)
 * 18+n    16    GCM tag
 * ```
 *
 * The AAD is the 6 header octets followed by the UTF-8 `context` string (e.g.
 * `ca-key:intermediate:3`), so an envelope cannot be swapped to another purpose
 * or row without detection, and the header cannot be altered. The nonce is
 * random: with a 96-bit nonce the collision bound is safe far beyond any number
 * of CA keys a registry will ever encrypt under one master key.
 */
export const KEY_ENVELOPE_MAGIC = 'IRPK';
const VERSION = 0x01;
const ALG_AES_256_GCM = 0x01;
const HEADER_LEN = 6;
const NONCE_LEN = 12;
const TAG_LEN = 16;

function checkMasterKey(masterKey: Uint8Array): void {
  if (!(masterKey instanceof Uint8Array) || masterKey.length !== 32) {
    throw new PkiError('argument', 'master key must be exactly 32 bytes');
  }
}

function aad(header: Uint8Array, context: string): Buffer {
  return Buffer.concat([header, Buffer.from(context, 'utf8')]);
}

/**
 * Encrypts a private key (PKCS#8 DER, or any secret bytes) for storage.
 * @param plaintext the PKCS#8 DER
 * @param masterKey 32 bytes (see {@link parseMasterKey})
 * @param context binds the envelope to its purpose/id; the same string is needed to decrypt
 * @returns the self-describing envelope (version 1 layout above)
 */
export function encryptPrivateKey(
  plaintext: Uint8Array,
  masterKey: Uint8Array,
  context: string,
): Uint8Array {
  checkMasterKey(masterKey);
  const header = Buffer.from([
    ...Buffer.from(KEY_ENVELOPE_MAGIC, 'latin1'),
    VERSION,
    ALG_AES_256_GCM,
  ]);
  const nonce = randomBytes(NONCE_LEN);
  const cipher = createCipheriv('aes-256-gcm', masterKey, nonce, { authTagLength: TAG_LEN });
  cipher.setAAD(aad(header, context));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, nonce, ciphertext, cipher.getAuthTag()]);
}

/**
 * Decrypts an envelope made by {@link encryptPrivateKey}.
 * @throws PkiError `syntax` if it is not an envelope of a known version;
 *   `decrypt` if the master key or context is wrong or any byte was altered
 */
export function decryptPrivateKey(
  envelope: Uint8Array,
  masterKey: Uint8Array,
  context: string,
): Uint8Array {
  checkMasterKey(masterKey);
  if (
    envelope.length < HEADER_LEN + NONCE_LEN + TAG_LEN ||
    Buffer.from(envelope.subarray(0, 4)).toString('latin1') !== KEY_ENVELOPE_MAGIC
  ) {
    throw new PkiError('syntax', 'not an encrypted key envelope');
  }
  if (envelope[4] !== VERSION || envelope[5] !== ALG_AES_256_GCM) {
    throw new PkiError(
      'unsupported',
      `unsupported key envelope version ${envelope[4]}/${envelope[5]}`,
    );
  }
  const header = envelope.subarray(0, HEADER_LEN);
  const nonce = envelope.subarray(HEADER_LEN, HEADER_LEN + NONCE_LEN);
  const tag = envelope.subarray(envelope.length - TAG_LEN);
  const ciphertext = envelope.subarray(HEADER_LEN + NONCE_LEN, envelope.length - TAG_LEN);
  try {
    const decipher = createDecipheriv('aes-256-gcm', masterKey, nonce, { authTagLength: TAG_LEN });
    decipher.setAAD(aad(header, context));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch (error) {
    throw new PkiError(
      'decrypt',
      'key envelope authentication failed (wrong master key, wrong context or tampered)',
      {
        cause: error,
      },
    );
  }
}

/**
 * Parses a master key from text: 64 hex digits, or base64 / base64url (padding
 * optional) of exactly 32 bytes. Surrounding white space is ignored.
 * @throws PkiError `argument` for anything else (the message never echoes the text)
 */
export function parseMasterKey(text: string): Uint8Array {
  const s = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(s)) return Buffer.from(s, 'hex');
  if (/^[A-Za-z0-9+/]{43}=?$/.test(s) || /^[A-Za-z0-9_-]{43}=?$/.test(s)) {
    const b = Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    // 43 base64 characters carry 258 bits: the last 2 bits must be zero for a canonical encoding.
    if (
      b.length === 32 &&
      Buffer.from(b).toString('base64').replace(/=+$/, '') ===
        s.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '')
    ) {
      return b;
    }
  }
  throw new PkiError('argument', 'master key must be 32 bytes given as 64 hex digits or base64');
}
