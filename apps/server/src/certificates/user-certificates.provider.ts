import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { type UserCertificate, type UserCertificates } from '../addresses/user-certificates.js';

/**
 * The address registry's view of certificates (`USER_CERTIFICATES`, spec §8, §8.2):
 * the certificates the domain CA issued to a user (both profiles, never uploaded
 * ones) that are valid now — not revoked or superseded, within their validity. Reads
 * the database each time (the registry caches briefly).
 */
@Injectable()
export class UserCertificatesProvider implements UserCertificates {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async validFingerprints(userKey: string): Promise<string[]> {
    const rows = await this.dataSource.query<{ sha256: string }[]>(
      `SELECT sha256 FROM irp_certificate
       WHERE user_key = $1 AND profile IN ('user', 'device') AND revoked_at IS NULL
         AND not_before <= now() AND not_after > now()
       ORDER BY created_at, sha256`,
      [userKey],
    );
    return rows.map((r) => r.sha256);
  }

  async certificateOfUser(userKey: string, sha256: string): Promise<UserCertificate | undefined> {
    const rows = await this.dataSource.query<{ der: Buffer; not_after: Date }[]>(
      `SELECT der, not_after FROM irp_certificate
       WHERE user_key = $1 AND sha256 = $2 AND profile IN ('user', 'device') AND revoked_at IS NULL
         AND not_before <= now() AND not_after > now()
       LIMIT 1`,
      [userKey, sha256.toLowerCase()],
    );
    const row = rows[0];
    return row ? { der: row.der, notAfter: row.not_after } : undefined;
  }
}
