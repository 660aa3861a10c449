import { createHash } from 'node:crypto';

/** Hashes the PKCS#12 KDF and MAC support, with their block sizes `v` (RFC 7292 Appendix B.2). */
export const PKCS12_HASHES = { sha1: 64, sha256: 64, sha384: 128, sha512: 128 } as const;
/** A hash usable with the PKCS#12 KDF. */
export type Pkcs12Hash = keyof typeof PKCS12_HASHES;

/** KDF purpose IDs (RFC 7292 Appendix B.3). */
export const KDF_ID = { key: 1, iv: 2, mac: 3 } as const;

/**
 * The passphrase as the PKCS#12 KDF wants it: BMPString (UTF-16BE, surrogate
 * pairs for characters beyond the BMP) with a two-octet zero terminator
 * (RFC 7292 Appendix B.1), which is what OpenSSL 3 derives from UTF-8 input.
 */
export function bmpPassword(passphrase: string): Buffer {
  const b = Buffer.from(`${passphrase}\u0000`, 'utf16le');
  b.swap16();
  return b;
}

function repeatToMultiple(src: Uint8Array, v: number): Buffer {
  if (src.length === 0) return Buffer.alloc(0);
  const len = v * Math.ceil(src.length / v);
  const out = Buffer.alloc(len);
  for (let i = 0; i < len; i++) out[i] = src[i % src.length] ?? 0;
  return out;
}

/** Iterations hashed between yields to the event loop (≈10–20 ms of work). */
const CHUNK = 8192;

/**
 * The PKCS#12 key derivation function of RFC 7292 Appendix B.2. Asynchronous:
 * the iterated hash runs in JavaScript (node:crypto has no native primitive for
 * it), so it yields to the event loop every few thousand iterations instead of
 * blocking the server for the whole derivation.
 */
export async function pkcs12Kdf(
  hash: Pkcs12Hash,
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  id: number,
  length: number,
): Promise<Buffer> {
  const v = PKCS12_HASHES[hash];
  const u = createHash(hash).digest().length;
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([repeatToMultiple(salt, v), repeatToMultiple(password, v)]);
  const blocks: Buffer[] = [];
  const c = Math.ceil(length / u);
  for (let i = 0; i < c; i++) {
    let A = createHash(hash).update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) {
      A = createHash(hash).update(A).digest();
      if (r % CHUNK === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    blocks.push(A);
    if (i + 1 < c) {
      const B = repeatToMultiple(A, v);
      // I_j = (I_j + B + 1) mod 2^(8v) for each v-octet block of I.
      for (let j = 0; j < I.length; j += v) {
        let carry = 1;
        for (let k = v - 1; k >= 0; k--) {
          const sum = (I[j + k] ?? 0) + (B[k] ?? 0) + carry;
          I[j + k] = sum & 0xff;
          carry = sum >> 8;
        }
      }
    }
  }
  return Buffer.concat(blocks).subarray(0, length);
}
