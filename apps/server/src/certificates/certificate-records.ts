import {
  type CaCertificate,
  type CertificateInfo,
  type CertificateStatus,
  REVOCATION_REASONS,
  type RevocationReason as WireReason,
} from '@irp/protocol';
import { derToPem, type ParsedCertificate, type RevocationReason } from '@irp/pki';
import { type CertificateEntity } from './entities/certificate.entity.js';

/**
 * The status of a stored certificate at `now` (spec §9): `superseded` when revoked
 * with reason superseded, `revoked` for any other revocation, `expired` past its
 * notAfter (or before its notBefore), else `valid`.
 */
export function statusOf(c: CertificateEntity, now: Date = new Date()): CertificateStatus {
  if (c.revokedAt) return c.revocationReason === 'superseded' ? 'superseded' : 'revoked';
  const t = now.getTime();
  if (t >= c.notAfter.getTime() || t < c.notBefore.getTime()) return 'expired';
  return 'valid';
}

/** True when the certificate is valid at `now` (not revoked, within its validity). */
export function isValid(c: CertificateEntity, now: Date = new Date()): boolean {
  return statusOf(c, now) === 'valid';
}

/**
 * A stored reason as the wire names it. IRP's enumeration holds the five reasons a
 * user may give (spec §9); a reason only an operator can set (e.g. privilegeWithdrawn)
 * is shown as `unspecified` on the wire, while the CRL and OCSP carry the real code.
 */
export function wireReason(reason: RevocationReason | null): WireReason | undefined {
  if (reason === null) return undefined;
  return (REVOCATION_REASONS as readonly string[]).includes(reason)
    ? (reason as WireReason)
    : 'unspecified';
}

/** `<certificate serial sha256 notBefore notAfter status profile [revokedAt reason]>[PEM]` (spec §9). */
export function toCertificateInfo(
  c: CertificateEntity,
  options: { pem: boolean; now?: Date },
): CertificateInfo {
  const info: CertificateInfo = {
    serial: c.serial,
    sha256: c.sha256,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    status: statusOf(c, options.now),
  };
  if (c.profile !== 'server') info.profile = c.profile;
  if (c.revokedAt) {
    info.revokedAt = c.revokedAt;
    const reason = wireReason(c.revocationReason);
    if (reason) info.reason = reason;
  }
  if (options.pem) info.pem = derToPem(c.der, 'CERTIFICATE');
  return info;
}

/** A CA `<certificate sha256 notBefore notAfter>PEM</certificate>` (spec §9). */
export function toCaCertificate(c: ParsedCertificate): CaCertificate {
  return { sha256: c.sha256, notBefore: c.notBefore, notAfter: c.notAfter, pem: c.toPem() };
}
