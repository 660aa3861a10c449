import { createHash, KeyObject, randomFillSync } from 'node:crypto';
import type { CaSigner } from '../ca/ca-signer.js';
import { assembleCertificate } from '../certificate/certificate-builder.js';
import {
  authorityInfoAccessExtension,
  authorityKeyIdentifierExtension,
  basicConstraintsExtension,
  crlDistributionPointsExtension,
  extKeyUsageExtension,
  keyUsageExtension,
  publicKeyBitsOf,
  subjectAltNameExtension,
  subjectKeyIdentifierExtension,
} from '../certificate/extensions.js';
import type { GeneralName } from '../certificate/general-name.js';
import type { KeyUsageName } from '../certificate/parsed-certificate.js';
import type { ParsedCsr } from '../csr/csr.js';
import {
  constructed,
  explicit,
  seq,
  tlv,
  utf8String,
  oid,
  setOf,
  x509Time,
} from '../encoding/der-writer.js';
import { toHex } from '../encoding/hex.js';
import { OID } from '../encoding/oids.js';
import { derToPem } from '../encoding/pem.js';
import {
  describeKey,
  spkiDer,
  toPublicKey,
  type KeyAlgorithmDescription,
} from '../keys/key-algorithm.js';
import { importSpki } from '../keys/spki.js';
import { PkiError } from '../pki.error.js';

/** Certificate profiles of spec §9. */
export type CertificateProfile = 'user' | 'device';

/** Options of {@link CertificateIssuer}. */
export interface CertificateIssuerOptions {
  /** CRL distribution point URL written into every certificate (spec §9). */
  readonly crlUrl: string;
  /** OCSP responder URL written into AIA (spec §9). */
  readonly ocspUrl: string;
  /** Optional AIA caIssuers URL (where the issuing CA certificate can be fetched, DER). */
  readonly caIssuersUrl?: string;
  /** Server maximum validity in days (`maxCertificateDays`, default 365); requests above are clamped. */
  readonly maxValidityDays?: number;
  /**
   * How far notBefore is set before the issuance time, in seconds (default 300).
   * Five minutes absorbs ordinary client clock skew so a fresh certificate is
   * usable at once, without meaningfully extending its life.
   */
  readonly backdateSeconds?: number;
}

/** A requested public key: a verified CSR, a KeyObject, or SubjectPublicKeyInfo DER. */
export type SubjectKeyInput = ParsedCsr | KeyObject | Uint8Array;

/** Options of {@link CertificateIssuer.issueUserCertificate}. */
export interface IssueUserCertificateOptions {
  /** The key to certify: pass the {@link ParsedCsr} from {@link parseCsr} (already policy-checked). */
  readonly subjectKey: SubjectKeyInput;
  /** The directory user id (3–64 of `[a-z0-9._-]`, spec §7.1). */
  readonly userId: string;
  /** The IRP domain (for `URI:irp:<userId>@<domain>`). */
  readonly domain: string;
  /** Directory display name; CN falls back to `userId` when absent or blank. */
  readonly displayName?: string;
  /** Directory e-mail (ASCII), written as SAN rfc822Name when present. */
  readonly email?: string;
  readonly profile: CertificateProfile;
  /** Requested validity in days (default: the maximum). Clamped to the maximum and to the CA's notAfter. */
  readonly validityDays?: number;
  /** Overrides the issuer's `maxValidityDays` for this call. */
  readonly maxValidityDays?: number;
  /** Issuance time (default now). */
  readonly now?: Date;
}

/** Options of {@link CertificateIssuer.issueServerCertificate}. */
export interface IssueServerCertificateOptions {
  /** The server's TLS key (public part). */
  readonly subjectKey: SubjectKeyInput;
  /** DNS names for SAN dNSName; the first one is also the CN. */
  readonly dnsNames: readonly string[];
  /** IP addresses (v4 dotted or v6) for SAN iPAddress. */
  readonly ipAddresses?: readonly string[];
  /** Validity in days (default 397, at most 3653); clamped to the CA's notAfter. */
  readonly validityDays?: number;
  /** Issuance time (default now). */
  readonly now?: Date;
}

/** An issued certificate, in every form the server stores or returns. */
export interface IssuedCertificate {
  readonly der: Uint8Array;
  /** `CERTIFICATE` PEM with trailing newline. */
  readonly pem: string;
  /** 32 lower-case hex digits (spec §9). */
  readonly serialHex: string;
  /** SHA-256 of the DER, 64 lower-case hex digits (spec §9). */
  readonly sha256: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The certified key. */
  readonly keyAlgorithm: KeyAlgorithmDescription;
}

const DAY_MS = 86_400_000;
const V3 = explicit(0, Buffer.from([0x02, 0x01, 0x02]));
const USER_ID_RE = /^[a-z0-9][a-z0-9._-]{2,63}$/;
/** A lower-case DNS name; single-label names (`localhost`, the server's default domain) included. */
const DOMAIN_RE =
  /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const EMAIL_RE =
  /^[\x21-\x3f\x41-\x7e]+@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
/** X.520 ub-common-name (RFC 5280 Appendix A). */
const MAX_CN = 64;

/**
 * Serial numbers come from a pooled CSPRNG buffer: one `randomFillSync` per 256
 * certificates instead of one per certificate. Same CSPRNG, same 126 bits of
 * entropy per serial (spec §9).
 */
const SERIAL_POOL = Buffer.alloc(16 * 256);
let serialPoolOffset = SERIAL_POOL.length;
function nextSerial(): Buffer {
  if (serialPoolOffset >= SERIAL_POOL.length) {
    randomFillSync(SERIAL_POOL);
    serialPoolOffset = 0;
  }
  const s = Buffer.from(SERIAL_POOL.subarray(serialPoolOffset, serialPoolOffset + 16));
  SERIAL_POOL.fill(0, serialPoolOffset, serialPoolOffset + 16);
  serialPoolOffset += 16;
  s[0] = (s[0] ?? 0) & 0x7f || 0x01;
  return s;
}

/** Precomputed, per-key-type KeyUsage extensions. */
const KU_EE: Record<KeyAlgorithmDescription['type'], Buffer> = {
  ec: keyUsageExtension(['digitalSignature', 'keyAgreement']),
  rsa: keyUsageExtension(['digitalSignature', 'keyEncipherment']),
  ed25519: keyUsageExtension(['digitalSignature']),
};
const KU_SERVER: Record<KeyAlgorithmDescription['type'], Buffer> = {
  ec: keyUsageExtension(['digitalSignature']),
  rsa: keyUsageExtension(['digitalSignature', 'keyEncipherment'] satisfies KeyUsageName[]),
  ed25519: keyUsageExtension(['digitalSignature']),
};
const EKU: Record<CertificateProfile | 'server', Buffer> = {
  user: extKeyUsageExtension([OID.clientAuth, OID.emailProtection]),
  device: extKeyUsageExtension([OID.clientAuth]),
  server: extKeyUsageExtension([OID.serverAuth]),
};
const BC_EE = basicConstraintsExtension(false);
const CN_OID = oid(OID.commonName);

function cnName(cn: string): Buffer {
  return seq(setOf(seq(CN_OID, utf8String(cn))));
}

function truncateCodePoints(text: string, max: number): string {
  const cps = Array.from(text);
  return cps.length <= max ? text : cps.slice(0, max).join('');
}

function resolveKey(input: SubjectKeyInput): {
  spki: Uint8Array;
  keyAlgorithm: KeyAlgorithmDescription;
} {
  if (input instanceof KeyObject) {
    const key = toPublicKey(input);
    return { keyAlgorithm: describeKey(key), spki: spkiDer(key) };
  }
  if (input instanceof Uint8Array) {
    const imported = importSpki(input);
    return { keyAlgorithm: imported.keyAlgorithm, spki: imported.spkiDer };
  }
  return { spki: input.spkiDer, keyAlgorithm: input.keyAlgorithm };
}

/**
 * Issues end-entity certificates from the issuing CA (spec §9). Everything that
 * is the same for every certificate of this CA — issuer Name, signature
 * AlgorithmIdentifier, AKI, CRL DP, AIA, BasicConstraints, KeyUsage and EKU
 * variants — is encoded once in the constructor; per certificate only the
 * serial, validity, subject, SPKI, SKI and SAN are encoded, the TBSCertificate
 * is assembled by concatenation and signed with node:crypto `sign()` using the
 * cached KeyObject. Issuance is synchronous and allocation-light.
 *
 * Create one instance per CA (and per URL configuration) and reuse it.
 */
export class CertificateIssuer {
  /** The issuing CA. */
  readonly ca: CaSigner;
  private readonly maxValidityDays: number;
  private readonly backdateMs: number;
  private readonly issuerName: Uint8Array;
  private readonly akiCdpAia: Buffer;
  private readonly caNotAfterMs: number;

  constructor(ca: CaSigner, options: CertificateIssuerOptions) {
    this.ca = ca;
    this.maxValidityDays = options.maxValidityDays ?? 365;
    if (!Number.isInteger(this.maxValidityDays) || this.maxValidityDays < 1) {
      throw new PkiError('argument', 'maxValidityDays must be a positive integer');
    }
    const backdate = options.backdateSeconds ?? 300;
    if (!Number.isInteger(backdate) || backdate < 0 || backdate > 86_400) {
      throw new PkiError('argument', 'backdateSeconds must be 0–86400');
    }
    this.backdateMs = backdate * 1000;
    for (const url of [options.crlUrl, options.ocspUrl, options.caIssuersUrl]) {
      if (url !== undefined && !/^https?:\/\/[\x21-\x7e]+$/.test(url)) {
        throw new PkiError('argument', `not an http(s) URL: ${url}`);
      }
    }
    this.issuerName = ca.certificate.subjectDer;
    this.caNotAfterMs = ca.certificate.notAfter.getTime();
    this.akiCdpAia = Buffer.concat([
      authorityKeyIdentifierExtension(ca.keyIdentifier),
      crlDistributionPointsExtension([options.crlUrl]),
      authorityInfoAccessExtension(
        [options.ocspUrl],
        options.caIssuersUrl ? [options.caIssuersUrl] : [],
      ),
    ]);
  }

  /**
   * Issues a `user` or `device` certificate (spec §9): subject `CN=<displayName
   * or userId>` (never from the CSR; truncated to 64 characters), SAN
   * rfc822Name=<email> when given and URI=irp:<userId>@<domain>, EKU clientAuth
   * (+ emailProtection for `user`), KeyUsage digitalSignature (+ keyAgreement for
   * EC, keyEncipherment for RSA), BasicConstraints critical cA=FALSE, SKI, AKI,
   * CRL DP, AIA OCSP (+ caIssuers).
   *
   * @throws PkiError `argument` (bad userId/domain/validityDays), `policy`
   *   (key not allowed, non-ASCII e-mail), `validity` (the CA has expired)
   */
  issueUserCertificate(options: IssueUserCertificateOptions): IssuedCertificate {
    const { userId, domain } = options;
    if (options.profile !== 'user' && options.profile !== 'device') {
      throw new PkiError('argument', 'profile must be user or device');
    }
    if (!USER_ID_RE.test(userId))
      throw new PkiError('argument', 'userId must be 3–64 of [a-z0-9._-]');
    if (!DOMAIN_RE.test(domain))
      throw new PkiError('argument', 'domain must be a lower-case DNS name');
    const names: GeneralName[] = [];
    if (options.email !== undefined && options.email !== '') {
      if (options.email.length > 254 || !EMAIL_RE.test(options.email)) {
        throw new PkiError(
          'policy',
          'e-mail is not an ASCII local@domain address (rfc822Name is IA5String)',
        );
      }
      names.push({ type: 'email', value: options.email });
    }
    names.push({ type: 'uri', value: `irp:${userId}@${domain}` });
    const display = options.displayName?.trim();
    const cn = truncateCodePoints(display ? display : userId, MAX_CN);
    const maxDays = options.maxValidityDays ?? this.maxValidityDays;
    const { spki, keyAlgorithm } = resolveKey(options.subjectKey);
    return this.issue(
      spki,
      keyAlgorithm,
      cnName(cn),
      subjectAltNameExtension(names),
      KU_EE[keyAlgorithm.type],
      EKU[options.profile],
      options.validityDays,
      maxDays,
      options.now,
    );
  }

  /**
   * Issues the TLS server certificate of the IRP listener: CN = first DNS name
   * (or first IP), SAN dNSName + iPAddress, EKU serverAuth, KeyUsage
   * digitalSignature (+ keyEncipherment for RSA), plus CRL DP and AIA.
   * @throws PkiError `argument`, `policy`, `validity`
   */
  issueServerCertificate(options: IssueServerCertificateOptions): IssuedCertificate {
    const names: GeneralName[] = [];
    for (const dns of options.dnsNames) {
      if (
        !/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(
          dns,
        )
      ) {
        throw new PkiError('argument', `not a DNS name: ${dns}`);
      }
      names.push({ type: 'dns', value: dns.toLowerCase() });
    }
    for (const ip of options.ipAddresses ?? []) names.push({ type: 'ip', value: ip });
    const first = names[0];
    if (!first)
      throw new PkiError(
        'argument',
        'a server certificate needs at least one DNS name or IP address',
      );
    let san: Buffer;
    try {
      san = subjectAltNameExtension(names);
    } catch (error) {
      throw new PkiError('argument', 'invalid IP address', { cause: error });
    }
    const days = options.validityDays ?? 397;
    const { spki, keyAlgorithm } = resolveKey(options.subjectKey);
    return this.issue(
      spki,
      keyAlgorithm,
      cnName(first.value),
      san,
      KU_SERVER[keyAlgorithm.type],
      EKU.server,
      days,
      3653,
      options.now,
    );
  }

  private issue(
    spki: Uint8Array,
    keyAlgorithm: KeyAlgorithmDescription,
    subjectName: Buffer,
    san: Buffer,
    ku: Buffer,
    eku: Buffer,
    requestedDays: number | undefined,
    maxDays: number,
    now: Date | undefined,
  ): IssuedCertificate {
    const days = requestedDays ?? maxDays;
    if (!Number.isInteger(days) || days < 1)
      throw new PkiError('argument', 'validityDays must be a positive integer');
    if (!Number.isInteger(maxDays) || maxDays < 1)
      throw new PkiError('argument', 'maxValidityDays must be a positive integer');
    const nowMs = Math.floor((now ?? new Date()).getTime() / 1000) * 1000;
    if (nowMs >= this.caNotAfterMs) throw new PkiError('validity', 'the issuing CA has expired');
    const notBefore = new Date(nowMs - this.backdateMs);
    const notAfter = new Date(
      Math.min(nowMs + Math.min(days, maxDays) * DAY_MS, this.caNotAfterMs),
    );

    const serial = nextSerial();
    const ski = createHash('sha1').update(publicKeyBitsOf(spki)).digest();
    const ca = this.ca;
    const tbs = constructed(0x30, [
      V3,
      tlv(0x02, serial),
      ca.algorithm.algorithmIdentifierDer,
      this.issuerName,
      seq(x509Time(notBefore), x509Time(notAfter)),
      subjectName,
      spki,
      explicit(
        3,
        constructed(0x30, [
          BC_EE,
          ku,
          eku,
          subjectKeyIdentifierExtension(ski),
          this.akiCdpAia,
          san,
        ]),
      ),
    ]);
    const der = assembleCertificate(tbs, ca.algorithm, ca.sign(tbs));
    return {
      der,
      pem: derToPem(der, 'CERTIFICATE'),
      serialHex: toHex(serial),
      sha256: createHash('sha256').update(der).digest('hex'),
      notBefore,
      notAfter,
      keyAlgorithm,
    };
  }
}
