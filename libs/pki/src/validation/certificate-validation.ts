import { parseCertificate, type ParsedCertificate } from '../certificate/parsed-certificate.js';
import { OID } from '../encoding/oids.js';
import type { PemOrDer } from '../encoding/pem.js';
import { PkiError } from '../pki.error.js';

/** Longest chain (certificates above the end entity) that path building follows. */
const MAX_PATH = 6;

/** Options of {@link buildCertificatePath}. */
export interface PathOptions {
  /** Trust anchors (the domain root, and any other CA the operator trusts). */
  readonly trustAnchors: readonly (PemOrDer | ParsedCertificate)[];
  /** Intermediate CAs that may appear in the path (e.g. the issuing CA). */
  readonly intermediates?: readonly (PemOrDer | ParsedCertificate)[];
}

function parsed(input: PemOrDer | ParsedCertificate): ParsedCertificate {
  return typeof input === 'string' || input instanceof Uint8Array ? parseCertificate(input) : input;
}

function mayIssue(ca: ParsedCertificate, caCertsBelow: number): boolean {
  const bc = ca.basicConstraints;
  if (!bc?.ca) return false;
  if (bc.pathLength !== undefined && bc.pathLength < caCertsBelow) return false;
  const ku = ca.keyUsage;
  return !ku || ku.includes('keyCertSign');
}

/**
 * Builds and verifies the path from `certificate` up to one of the trust
 * anchors: each link needs matching names (issuer DER = subject DER), a
 * verifying signature (SHA-1/MD5 signatures do not count), and an issuer that
 * is a CA allowed to sign certificates at that depth (BasicConstraints cA and
 * pathLen, KeyUsage keyCertSign). Validity periods are NOT checked here.
 *
 * @returns the path, end entity first, ending with the trust anchor
 * @throws PkiError `chain` when no such path exists
 */
export function buildCertificatePath(
  certificate: ParsedCertificate,
  options: PathOptions,
): ParsedCertificate[] {
  const anchors = options.trustAnchors.map(parsed);
  const intermediates = (options.intermediates ?? []).map(parsed);
  const anchorDer = new Set(anchors.map((a) => Buffer.from(a.der).toString('base64')));
  if (anchorDer.has(Buffer.from(certificate.der).toString('base64'))) return [certificate];
  const path: ParsedCertificate[] = [certificate];
  let current = certificate;
  for (let depth = 0; depth < MAX_PATH; depth++) {
    const anchor = anchors.find((a) => mayIssue(a, depth) && current.isIssuedBy(a));
    if (anchor) {
      path.push(anchor);
      return path;
    }
    const next = intermediates.find(
      (c) => !path.includes(c) && mayIssue(c, depth) && current.isIssuedBy(c),
    );
    if (!next) break;
    path.push(next);
    current = next;
  }
  throw new PkiError('chain', 'certificate does not chain to a trusted CA');
}

/** Status of a client certificate, in the order of spec §6.6 (revocation is the server's part). */
export type ClientCertificateStatus = 'untrusted' | 'expired' | 'no-client-auth' | 'ok';

/** Result of {@link checkClientCertificate}. */
export interface ClientCertificateCheck {
  /** The first failing check in the order untrusted → expired → no-client-auth, else `ok`. */
  readonly status: ClientCertificateStatus;
  /** Chains to a trust anchor with verifying signatures. */
  readonly chains: boolean;
  /** The certificate (and every CA on its path) is within its validity at `at`. */
  readonly withinValidity: boolean;
  /** ExtendedKeyUsage is present and contains clientAuth. */
  readonly hasClientAuth: boolean;
  /**
   * The validity window of the certificate and every CA on its path (of the certificate
   * alone when it does not chain): the latest notBefore and the earliest notAfter.
   * `withinValidity` is this window at `at`, so a caller that keeps the result can
   * re-check the validity at another time without redoing the signatures.
   */
  readonly pathNotBefore: Date;
  readonly pathNotAfter: Date;
  /** The certificate, parsed. */
  readonly certificate: ParsedCertificate;
  /** DER of the issuer Name: with {@link serialHex}, what identifies the user (spec §6.2). */
  readonly issuerDer: Uint8Array;
  /** RFC 4514 issuer (display). */
  readonly issuer: string;
  /** Serial, lower-case hex (32 digits for the domain CA). */
  readonly serialHex: string;
  /** SHA-256 fingerprint, 64 lower-case hex digits. */
  readonly sha256: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** Options of {@link checkClientCertificate}. */
export interface ClientCertificateOptions extends PathOptions {
  /** The certificate presented in the TLS handshake (DER from `getPeerCertificate().raw`, or PEM). */
  readonly certificate: PemOrDer;
  /** Time of the check (default now). */
  readonly at?: Date;
}

/**
 * The certificate part of SCA login and of the greeting's `clientCertificate`
 * (spec §6.2, §6.6): does it chain to the domain CA (signatures verified up to
 * the root), is it within its validity at `at`, does it carry EKU clientAuth;
 * plus the issuer, serial and fingerprint the server looks the user up by.
 * Whether it is recorded for an active user and not revoked is the server's
 * part (read from the registry). Never throws for a parseable certificate.
 * @throws PkiError `syntax` when the certificate cannot be parsed
 */
export function checkClientCertificate(options: ClientCertificateOptions): ClientCertificateCheck {
  const certificate = parseCertificate(options.certificate);
  const at = options.at ?? new Date();
  let path: ParsedCertificate[] | undefined;
  try {
    path = buildCertificatePath(certificate, options);
  } catch (error) {
    if (!PkiError.is(error, 'chain')) throw error;
  }
  const chains = path !== undefined;
  const checked = path ?? [certificate];
  const withinValidity = checked.every((c) => c.isValidAt(at));
  const pathNotBefore = new Date(Math.max(...checked.map((c) => c.notBefore.getTime())));
  const pathNotAfter = new Date(Math.min(...checked.map((c) => c.notAfter.getTime())));
  const hasClientAuth = certificate.extendedKeyUsage?.includes(OID.clientAuth) === true;
  const status: ClientCertificateStatus = !chains
    ? 'untrusted'
    : !withinValidity
      ? 'expired'
      : !hasClientAuth
        ? 'no-client-auth'
        : 'ok';
  return {
    status,
    chains,
    withinValidity,
    hasClientAuth,
    pathNotBefore,
    pathNotAfter,
    certificate,
    issuerDer: certificate.issuerDer,
    issuer: certificate.issuer,
    serialHex: certificate.serialHex,
    sha256: certificate.sha256,
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
  };
}

/** Options of {@link checkUploadedCertificate}. */
export interface UploadedCertificateOptions {
  /** The uploaded certificate (PEM, base64 or DER). */
  readonly certificate: PemOrDer;
  /** Optional `<chain>`: the issuer first, then its issuers. */
  readonly chain?: readonly PemOrDer[];
  /** The caller: a SAN must be `URI:irp:<userId>@<domain>` or `rfc822Name:<email>`. */
  readonly userId: string;
  readonly domain: string;
  readonly email?: string;
  /** Time of the validity check (default now). */
  readonly at?: Date;
}

/** An accepted uploaded certificate. */
export interface UploadedCertificate {
  readonly certificate: ParsedCertificate;
  /** The certificate's own serial in lower-case hex (spec §9: not the 32-digit rule). */
  readonly serialHex: string;
  readonly sha256: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** SAN rfc822Names. */
  readonly emails: readonly string[];
  /** SAN URIs. */
  readonly uris: readonly string[];
}

/**
 * The checks of spec §9 `uploadCertificate`, in this order:
 * parseable (`syntax` → 2005); an rfc822Name equal to the caller's e-mail or a
 * URI equal to `irp:<userId>@<domain>` (ASCII case-insensitive) (`policy` →
 * 2306); within validity at `at` (`validity` → 2304); and when `chain` is given,
 * each certificate was issued by the next one — signature and names — (`chain`
 * → 2306). A chain proves only who signed: the upload is directory data and
 * does not make the issuer trusted.
 */
export function checkUploadedCertificate(options: UploadedCertificateOptions): UploadedCertificate {
  const certificate = parseCertificate(options.certificate);
  const chain = (options.chain ?? []).map((c) => parseCertificate(c));
  const { email: emails, uri: uris } = certificate.subjectAltNames;
  const wantUri = `irp:${options.userId}@${options.domain}`.toLowerCase();
  const wantEmail = options.email?.toLowerCase();
  const names =
    uris.some((u) => u.toLowerCase() === wantUri) ||
    (wantEmail !== undefined &&
      wantEmail !== '' &&
      emails.some((e) => e.toLowerCase() === wantEmail));
  if (!names)
    throw new PkiError('policy', 'certificate does not name the caller (SAN rfc822Name or URI)');
  if (!certificate.isValidAt(options.at ?? new Date())) {
    throw new PkiError('validity', 'certificate is outside its validity period');
  }
  let child = certificate;
  for (const issuer of chain) {
    if (!child.isIssuedBy(issuer))
      throw new PkiError('chain', `certificate is not signed by ${issuer.subject}`);
    child = issuer;
  }
  return {
    certificate,
    serialHex: certificate.serialHex,
    sha256: certificate.sha256,
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    emails,
    uris,
  };
}
