import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type CrlEntry, type RevocationReason, buildCrl } from '@irp/pki';
import { DataSource, type EntityManager } from 'typeorm';
import { DomainCaService } from './domain-ca.service.js';
import { CrlEntity } from './entities/crl.entity.js';

/** Decision: a CRL says it is good for 7 days (nextUpdate)… */
export const CRL_VALIDITY_MS = 7 * 86_400_000;
/** …and is re-issued when it is older than a day (spec: "at least daily"), besides on every revocation. */
export const CRL_REFRESH_AFTER_MS = 86_400_000;
/** How often each instance checks whether the CRL is due. */
const CHECK_INTERVAL_MS = 3_600_000;

/** The current CRL as served at `GET /pki/crl`. */
export interface CurrentCrl {
  der: Buffer;
  crlNumber: string;
  thisUpdate: Date;
  nextUpdate: Date;
}

/**
 * The CRL of the issuing CA (spec §9, RFC 5280 §5): re-issued inside the transaction
 * of every revocation (so it is never behind the database), and at least daily. The
 * one `irp_crl` row is locked while a CRL is made, so CRL numbers increase by one
 * without gaps or duplicates across instances. Revoked certificates stay on the CRL
 * until they expire.
 */
@Injectable()
export class CrlService implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger('Crl');
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly domainCa: DomainCaService,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.domainCa.ready();
    await this.current();
    this.timer = setInterval(() => {
      this.current().catch((error: unknown) =>
        this.log.error(
          `CRL refresh failed: ${error instanceof Error ? error.message : String(error)}`,
        ),
      );
    }, CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /**
   * Issues a new CRL inside the caller's transaction (`m`): call it after marking a
   * certificate revoked, so the CRL and the revocation commit together.
   */
  async reissue(m: EntityManager, now: Date = new Date()): Promise<CurrentCrl> {
    const ca = await this.domainCa.ready();
    await m.query(`INSERT INTO irp_crl (id, crl_number) VALUES (1, 0) ON CONFLICT (id) DO NOTHING`);
    const [row] = await m.query<
      {
        crl_number: string;
      }[]
    >(`SELECT crl_number FROM irp_crl WHERE id = 1 FOR UPDATE`);
    const crlNumber = BigInt(row?.crl_number ?? '0') + 1n;
    const revoked = await m.query<
      { serial: string; revoked_at: Date; revocation_reason: RevocationReason }[]
    >(
      `SELECT serial, revoked_at, revocation_reason FROM irp_certificate
       WHERE issuer_hash = $1 AND profile <> 'uploaded' AND revoked_at IS NOT NULL AND not_after > $2
       ORDER BY revoked_at, serial`,
      [ca.issuerHash, now],
    );
    const entries: CrlEntry[] = revoked.map((r) => ({
      serialHex: r.serial,
      revokedAt: r.revoked_at,
      reason: r.revocation_reason,
    }));
    const crl = buildCrl(ca.signer, {
      crlNumber,
      entries,
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + CRL_VALIDITY_MS),
    });
    const der = Buffer.from(crl.der);
    await m.update(
      CrlEntity,
      { id: 1 },
      {
        crlNumber: crlNumber.toString(),
        der,
        thisUpdate: crl.thisUpdate,
        nextUpdate: crl.nextUpdate,
      },
    );
    return {
      der,
      crlNumber: crlNumber.toString(),
      thisUpdate: crl.thisUpdate,
      nextUpdate: crl.nextUpdate,
    };
  }

  /** The current CRL; a missing or day-old one is re-issued first. */
  async current(now: Date = new Date()): Promise<CurrentCrl> {
    const row = await this.dataSource.manager.findOne(CrlEntity, { where: { id: 1 } });
    const fresh = row && this.freshOf(row, now);
    if (fresh) return fresh;
    return this.dataSource.transaction(async (m) => {
      // another instance (or request) may have re-issued it meanwhile
      const locked = await m.findOne(CrlEntity, {
        where: { id: 1 },
        lock: { mode: 'pessimistic_write' },
      });
      const again = locked && this.freshOf(locked, now);
      return again ?? this.reissue(m, now);
    });
  }

  private freshOf(row: CrlEntity, now: Date): CurrentCrl | undefined {
    if (!row.der || !row.thisUpdate || !row.nextUpdate) return undefined;
    if (now.getTime() - row.thisUpdate.getTime() >= CRL_REFRESH_AFTER_MS) return undefined;
    return {
      der: row.der,
      crlNumber: row.crlNumber,
      thisUpdate: row.thisUpdate,
      nextUpdate: row.nextUpdate,
    };
  }
}
