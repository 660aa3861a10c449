import type { CaSigner } from '../ca/ca-signer.js';
import { authorityKeyIdentifierExtension, extension } from '../certificate/extensions.js';
import {
  bitString,
  explicit,
  seq,
  tlv,
  uint,
  uintFromBytes,
  x509Time,
} from '../encoding/der-writer.js';
import { OID } from '../encoding/oids.js';
import { derToPem } from '../encoding/pem.js';
import { PkiError } from '../pki.error.js';
import { REVOCATION_REASON_CODES, type RevocationReason } from './revocation-reason.js';

/** One revoked certificate on a CRL. */
export interface CrlEntry {
  /** Serial as hex (32 digits for the domain CA; any even-length hex accepted). */
  readonly serialHex: string;
  readonly revokedAt: Date;
  /** Reason; `unspecified` (or absent) writes no reasonCode extension, as RFC 5280 §5.3.1 asks. */
  readonly reason?: RevocationReason;
}

/** Options of {@link buildCrl}. */
export interface BuildCrlOptions {
  /** Monotonically increasing CRL number (RFC 5280 §5.2.3); the server keeps the counter. */
  readonly crlNumber: bigint | number;
  /** Revoked certificates (unexpired ones; expired entries may be dropped by the caller). */
  readonly entries: readonly CrlEntry[];
  /** thisUpdate (default now). */
  readonly thisUpdate?: Date;
  /** nextUpdate (default thisUpdate + 7 days). The server re-issues on every revocation anyway (spec §9). */
  readonly nextUpdate?: Date;
}

/** A signed CRL. */
export interface BuiltCrl {
  /** DER (`application/pkix-crl`). */
  readonly der: Uint8Array;
  /** PEM labelled `X509 CRL` (what OpenSSL expects), with trailing newline. */
  readonly pem: string;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly crlNumber: bigint;
}

const V2 = Buffer.from([0x02, 0x01, 0x01]);

function seconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

/** Hex serial to magnitude octets. @throws PkiError `argument` */
export function serialHexToBytes(serialHex: string): Buffer {
  if (!/^([0-9a-fA-F]{2})+$/.test(serialHex) || serialHex.length > 128) {
    throw new PkiError('argument', `bad serial hex ${serialHex}`);
  }
  return Buffer.from(serialHex, 'hex');
}

/**
 * Builds and signs a v2 CRL (RFC 5280 §5) for the CA of `signer`: CRL number
 * and AKI extensions; per entry the serial, revocation date and reasonCode.
 * An empty `entries` omits `revokedCertificates`, as RFC 5280 requires.
 */
export function buildCrl(signer: CaSigner, options: BuildCrlOptions): BuiltCrl {
  const crlNumber = BigInt(options.crlNumber);
  if (crlNumber < 0n || crlNumber >= 1n << 159n)
    throw new PkiError('argument', 'crlNumber must be 0 … 2^159-1');
  const thisUpdate = seconds(options.thisUpdate ?? new Date());
  const nextUpdate = seconds(options.nextUpdate ?? new Date(thisUpdate.getTime() + 7 * 86_400_000));
  if (nextUpdate.getTime() <= thisUpdate.getTime())
    throw new PkiError('argument', 'nextUpdate must be after thisUpdate');
  const revoked = options.entries.map((e) => {
    const code = REVOCATION_REASON_CODES[e.reason ?? 'unspecified'];
    if (code === undefined)
      throw new PkiError('argument', `unknown revocation reason ${String(e.reason)}`);
    const parts = [uintFromBytes(serialHexToBytes(e.serialHex)), x509Time(seconds(e.revokedAt))];
    if (code !== 0)
      parts.push(seq(extension(OID.crlReason, false, tlv(0x0a, Buffer.from([code])))));
    return seq(...parts);
  });
  const tbsParts: Buffer[] = [
    V2,
    signer.algorithm.algorithmIdentifierDer,
    Buffer.from(signer.certificate.subjectDer),
    x509Time(thisUpdate),
    x509Time(nextUpdate),
  ];
  if (revoked.length > 0) tbsParts.push(seq(...revoked));
  tbsParts.push(
    explicit(
      0,
      seq(
        authorityKeyIdentifierExtension(signer.keyIdentifier),
        extension(OID.crlNumber, false, uint(crlNumber)),
      ),
    ),
  );
  const tbs = seq(...tbsParts);
  const der = seq(tbs, signer.algorithm.algorithmIdentifierDer, bitString(signer.sign(tbs)));
  return { der, pem: derToPem(der, 'X509 CRL'), thisUpdate, nextUpdate, crlNumber };
}
