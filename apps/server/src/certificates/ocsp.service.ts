import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type OcspCertStatus, type RevocationReason, ocspErrorResponse } from '@irp/pki';
import { DataSource } from 'typeorm';
import { DomainCaService } from './domain-ca.service.js';

/** Largest OCSP request body read from HTTP (the responder refuses larger ones anyway). */
export const MAX_OCSP_REQUEST_BYTES = 16 * 1024;

/**
 * The OCSP responder of the issuing CA (spec §9, RFC 6960): each status is read from
 * the database when asked — never cached — so a revocation shows at once. Responses
 * are signed by the issuing CA itself and carry no nextUpdate.
 */
@Injectable()
export class OcspService {
  private readonly log = new Logger('Ocsp');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly domainCa: DomainCaService,
  ) {}

  /** The DER OCSPResponse for a DER OCSPRequest; errors become `tryLater`/`internalError` responses. */
  async respond(requestDer: Uint8Array): Promise<Uint8Array> {
    const ca = await this.domainCa.ready();
    try {
      const result = await ca.ocsp.respond(requestDer, (serial) => this.statusOf(serial));
      return result.der;
    } catch (error) {
      this.log.warn(
        `OCSP lookup failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      return ocspErrorResponse('tryLater');
    }
  }

  /** The registry's status of one serial of the issuing CA. */
  async statusOf(serialHex: string): Promise<OcspCertStatus> {
    const ca = this.domainCa.ca;
    const rows = await this.dataSource.query<
      { revoked_at: Date | null; revocation_reason: RevocationReason | null }[]
    >(
      `SELECT revoked_at, revocation_reason FROM irp_certificate
       WHERE issuer_hash = $1 AND serial = $2 AND profile <> 'uploaded'`,
      [ca.issuerHash, serialHex],
    );
    const row = rows[0];
    if (!row) return { status: 'unknown' };
    if (!row.revoked_at) return { status: 'good' };
    return {
      status: 'revoked',
      revokedAt: row.revoked_at,
      ...(row.revocation_reason ? { reason: row.revocation_reason } : {}),
    };
  }
}
