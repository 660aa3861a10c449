import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type ClientCertificateStatus } from '@irp/protocol';
import { PkiError, checkClientCertificate } from '@irp/pki';
import { DataSource } from 'typeorm';
import { IRP_CONFIG } from '../config/config.module.js';
import { type IrpConfig } from '../config/config.schema.js';
import { type ScaAuthenticator, type ScaIdentity } from '../identity/sca-authenticator.js';
import {
  type ClientCertificateInspector,
  type ClientCertificateReport,
} from '../transport/client-certificate-inspector.js';
import { type SessionPeer } from '../transport/irp-session.js';
import { DomainCaService, issuerHashOf } from './domain-ca.service.js';

/** What the server made of a TLS client certificate (spec §6.2, §6.6). */
export interface ClientCertificateVerdict {
  status: ClientCertificateStatus;
  /** The IRP address of the user it is recorded for (when it chains to the domain CA). */
  user?: string;
  userKey?: string;
  /** Serial (32 hex digits) of a recorded certificate. */
  serial?: string;
}

interface RecordRow {
  user_key: string;
  sha256: string;
  revoked_at: Date | null;
  user_id: string;
  status: string;
}

/**
 * Judges the handshake's client certificate, for the greeting's `clientCertificate`
 * (spec §6.6) and for `login method="sca"` (spec §6.2) alike, so the greeting's
 * `valid` means exactly "SCA will succeed". The first that applies, in this order:
 *
 * 1. `untrusted` — unparseable, or no path with verifying signatures to the domain root;
 * 2. `expired` — it (or a CA on its path) is outside its validity period;
 * 3. `revoked` — recorded and revoked (or superseded) in the database, read now;
 * 4. `unknown` — not recorded as issued to a user (looked up by issuer + serial, never
 *    by subject; the recorded fingerprint must match too), the user is not active, or
 *    it lacks EKU clientAuth;
 * 5. `valid`.
 *
 * `user` is set whenever the certificate chains and is recorded for a user.
 */
@Injectable()
export class ClientCertificateVerifier implements ClientCertificateInspector, ScaAuthenticator {
  private readonly log = new Logger('ClientCertificate');

  constructor(
    @Inject(IRP_CONFIG) private readonly config: IrpConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly domainCa: DomainCaService,
  ) {}

  /** Spec §6.6: the greeting's `clientCertificate`. */
  async inspect(peer: SessionPeer): Promise<ClientCertificateReport> {
    let verdict: ClientCertificateVerdict;
    try {
      verdict = await this.verify(peer.certificate);
    } catch (error) {
      // the greeting must go out even when the database is unreachable: SCA would fail now
      this.log.warn(
        `cannot judge a client certificate: ${error instanceof Error ? error.message : String(error)}`,
      );
      return { status: 'unknown' };
    }
    return verdict.user === undefined
      ? { status: verdict.status }
      : { status: verdict.status, user: verdict.user };
  }

  /** Spec §6.2: the user of a `valid` certificate; undefined for any other verdict (→ 2200). */
  async authenticate(peer: SessionPeer): Promise<ScaIdentity | undefined> {
    const verdict = await this.verify(peer.certificate);
    if (verdict.status !== 'valid' || !verdict.userKey || !verdict.serial) return undefined;
    return { userKey: verdict.userKey, certificateSerial: verdict.serial };
  }

  /** The verdict on a DER certificate at `at` (database state read now). */
  async verify(
    der: Uint8Array | undefined,
    at: Date = new Date(),
  ): Promise<ClientCertificateVerdict> {
    if (!der || der.length === 0) return { status: 'none' };
    const ca = await this.domainCa.ready();
    let check;
    try {
      check = checkClientCertificate({
        certificate: der,
        trustAnchors: [ca.root],
        intermediates: ca.certificates.filter((c) => c !== ca.root),
        at,
      });
    } catch (error) {
      if (error instanceof PkiError) return { status: 'untrusted' };
      throw error;
    }
    if (!check.chains) return { status: 'untrusted' };

    let record: RecordRow | undefined;
    if (issuerHashOf(check.issuerDer) === ca.issuerHash) {
      const rows = await this.dataSource.query<RecordRow[]>(
        `SELECT c.user_key, c.sha256, c.revoked_at, u.user_id, u.status
         FROM irp_certificate c JOIN irp_user u ON u.id = c.user_key
         WHERE c.issuer_hash = $1 AND c.serial = $2 AND c.profile IN ('user', 'device')`,
        [ca.issuerHash, check.serialHex],
      );
      record = rows.find((r) => r.sha256 === check.sha256);
    }
    const known = record
      ? {
          user: `${record.user_id}@${this.config.domain}`,
          userKey: record.user_key,
          serial: check.serialHex,
        }
      : {};
    if (!check.withinValidity) return { status: 'expired', ...known };
    if (record?.revoked_at) return { status: 'revoked', ...known };
    if (!record || record.status !== 'active' || !check.hasClientAuth)
      return { status: 'unknown', ...known };
    return { status: 'valid', ...known };
  }
}
