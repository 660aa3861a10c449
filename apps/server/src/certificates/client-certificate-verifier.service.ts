import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type ClientCertificateStatus } from '@irp/protocol';
import { type ParsedCertificate, PkiError, checkClientCertificate } from '@irp/pki';
import { DataSource } from 'typeorm';
import { type PreparedStatement, preparedQuery } from '../database/prepared-query.js';
import { IRP_CONFIG } from '../config/config.module.js';
import { type IrpConfig } from '../config/config.schema.js';
import { EVENT_BUS, type EventBus } from '../events/event-bus.js';
import { type UserEntity } from '../identity/entities/user.entity.js';
import { UserStateCache } from '../identity/user-state.cache.js';
import { type ScaAuthenticator, type ScaIdentity } from '../identity/sca-authenticator.js';
import { type UserRow, userColumnsSql, userFromRow } from '../identity/user-record.mapper.js';
import {
  type ClientCertificateInspector,
  type ClientCertificateReport,
} from '../transport/client-certificate-inspector.js';
import { type SessionPeer } from '../transport/irp-session.js';
import { CertificateEventsService } from './certificate-events.service.js';
import { DomainCaService, type LoadedCa, issuerHashOf } from './domain-ca.service.js';

/** What the server made of a TLS client certificate (spec §6.2, §6.6). */
export interface ClientCertificateVerdict {
  status: ClientCertificateStatus;
  /** The IRP address of the user it is recorded for (when it chains to the domain CA). */
  user?: string;
  userKey?: string;
  /** Serial (32 hex digits) of a recorded certificate. */
  serial?: string;
  /** The user's row as read with the certificate's record (a recorded certificate). */
  userRow?: UserEntity;
}

interface RecordRow extends UserRow {
  user_key: string;
  revoked_at: Date | null;
}

/** What the greeting keeps of a recorded certificate (its user's state is the user cache's). */
interface CachedRecord {
  userKey: string;
  revokedAt: Date | null;
  /** performance.now() after which it is read again (a safety net; events drop it first). */
  expires: number;
}

/** Recorded certificates the greeting keeps, and for how long at most. */
export const RECORD_CACHE_SIZE = 10_000;
export const RECORD_CACHE_TTL_MS = 60_000;

/**
 * A recorded certificate by issuer + serial, with revocation and its user's whole row:
 * one read on the unique index (issuer_hash, serial) WHERE profile <> 'uploaded' (the
 * predicate is spelled out so that the planner matches the partial index); the
 * fingerprint must match too. A prepared statement: every SCA login runs it.
 */
const RECORD_BY_CERTIFICATE: PreparedStatement = {
  name: 'irp_record_by_certificate',
  text: `SELECT c.user_key, c.revoked_at, ${userColumnsSql('u')}
         FROM irp_certificate c JOIN irp_user u ON u.id = c.user_key
         WHERE c.issuer_hash = $1 AND c.serial = $2 AND c.sha256 = $3
           AND c.profile <> 'uploaded' AND c.profile IN ('user', 'device')
         LIMIT 1`,
};

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
 *
 * Cost: the signatures of the path (two ECDSA verifications, ~1 ms for a P-384 CA) and
 * the parsing depend only on the certificate bytes and the CA, so that part
 * ({@link CryptoVerdict}) is kept in a bounded LRU keyed by the SHA-256 of the DER, and
 * per connection (the greeting and `login method="sca"` judge the same certificate).
 * What may change is never cached: the validity window is compared with the clock on
 * every use, and revocation, the issued-to record and the user's status are read from
 * the database on every use (one indexed query), as spec §6.2 requires at login.
 */
@Injectable()
export class ClientCertificateVerifier
  implements ClientCertificateInspector, ScaAuthenticator, OnModuleInit
{
  private readonly log = new Logger('ClientCertificate');
  /** Crypto verdicts by SHA-256 (base64) of the DER; a Map in least-recently-used order. */
  private readonly cache = new Map<string, CryptoVerdict>();
  /** The crypto verdict on the certificate of a connection (greeting, then SCA login). */
  private readonly byPeer = new WeakMap<SessionPeer, { der: Uint8Array; verdict: CryptoVerdict }>();
  /** The CA the cached verdicts were made against, and its intermediates. */
  private cacheCa: LoadedCa | undefined;
  private intermediates: readonly ParsedCertificate[] = [];

  /**
   * The greeting's copy of certificate records (revocation, issued-to), by SHA-256 of
   * the DER; SCA login never uses it (spec §6.2: read at login). Dropped whole by every
   * certificate event — this instance's right after its commit, the others' as they
   * arrive — and on a bus reset; not used while the bus is unhealthy.
   */
  private readonly records = new Map<string, CachedRecord>();
  /** Bumped by every drop: a read that overlapped one is not kept (it may predate it). */
  private recordsGeneration = 0;

  constructor(
    @Inject(IRP_CONFIG) private readonly config: IrpConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly domainCa: DomainCaService,
    private readonly events: CertificateEventsService,
    private readonly userState: UserStateCache,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
  ) {}

  onModuleInit(): void {
    this.events.onEvent(() => this.forgetRecords());
    this.bus.onReset(() => this.forgetRecords());
  }

  /** Spec §6.6: the greeting's `clientCertificate`. */
  async inspect(peer: SessionPeer): Promise<ClientCertificateReport> {
    let verdict: ClientCertificateVerdict;
    try {
      verdict = await this.verifyPeer(peer, { forGreeting: true });
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
    const verdict = await this.verifyPeer(peer);
    if (verdict.status !== 'valid' || !verdict.userKey || !verdict.serial) return undefined;
    return {
      userKey: verdict.userKey,
      certificateSerial: verdict.serial,
      ...(verdict.userRow ? { user: verdict.userRow } : {}),
    };
  }

  /** The verdict on a DER certificate at `at` (database state read now). */
  async verify(
    der: Uint8Array | undefined,
    at: Date = new Date(),
  ): Promise<ClientCertificateVerdict> {
    if (!der || der.length === 0) return { status: 'none' };
    const ca = await this.domainCa.ready();
    return this.judge(this.cryptoVerdict(der, ca), ca, at);
  }

  private async verifyPeer(
    peer: SessionPeer,
    { forGreeting = false } = {},
  ): Promise<ClientCertificateVerdict> {
    const der = peer.certificate;
    if (!der || der.length === 0) return { status: 'none' };
    const ca = await this.domainCa.ready();
    const known = this.byPeer.get(peer);
    let crypto: CryptoVerdict;
    if (known && known.der === der && this.cacheCa === ca) {
      crypto = known.verdict;
    } else {
      crypto = this.cryptoVerdict(der, ca);
      this.byPeer.set(peer, { der, verdict: crypto });
    }
    if (forGreeting && crypto.chains && crypto.fromDomainCa) {
      const cached = await this.judgeFromCache(crypto, new Date());
      if (cached) return cached;
    }
    return this.judge(crypto, ca, new Date());
  }

  /**
   * The greeting's verdict from the record cache and the user-state cache (both kept
   * coherent by events); undefined when either has nothing to say (then {@link judge}
   * reads the database, and keeps what it read).
   */
  private async judgeFromCache(
    crypto: CryptoVerdict,
    at: Date,
  ): Promise<ClientCertificateVerdict | undefined> {
    if (!this.recordsTrusted()) return undefined;
    const entry = this.records.get(crypto.sha256);
    if (!entry) return undefined;
    if (entry.expires <= performance.now()) {
      this.records.delete(crypto.sha256);
      return undefined;
    }
    const user = await this.userState.get(entry.userKey);
    if (!user) return undefined;
    return this.verdictOf(crypto, at, {
      user_key: entry.userKey,
      revoked_at: entry.revokedAt,
      u_user_id: user.userId,
      u_status: user.status,
    });
  }

  private recordsTrusted(): boolean {
    return this.events.listening && this.bus.healthy;
  }

  private forgetRecords(): void {
    this.records.clear();
    this.recordsGeneration++;
  }

  private keepRecord(sha256: string, row: RecordRow, generation: number): void {
    if (generation !== this.recordsGeneration || !this.recordsTrusted()) return;
    this.records.delete(sha256);
    if (this.records.size >= RECORD_CACHE_SIZE) {
      const oldest = this.records.keys().next();
      if (!oldest.done) this.records.delete(oldest.value);
    }
    this.records.set(sha256, {
      userKey: row.user_key,
      revokedAt: row.revoked_at,
      expires: performance.now() + RECORD_CACHE_TTL_MS,
    });
  }

  /** Spec §6.2/§6.6 on a crypto verdict: validity at `at`, then one database read. */
  private async judge(
    crypto: CryptoVerdict,
    ca: LoadedCa,
    at: Date,
  ): Promise<ClientCertificateVerdict> {
    if (!crypto.chains) return { status: 'untrusted' };
    let record: RecordRow | undefined;
    if (crypto.fromDomainCa) {
      const generation = this.recordsGeneration;
      // revocation and the user's status as they are now (with the user's whole row: an
      // SCA login answers with it, §6.4)
      const rows = await preparedQuery<RecordRow>(this.dataSource, RECORD_BY_CERTIFICATE, [
        ca.issuerHash,
        crypto.serialHex,
        crypto.sha256,
      ]);
      record = rows[0];
      if (record) this.keepRecord(crypto.sha256, record, generation);
    }
    return this.verdictOf(crypto, at, record);
  }

  /** Spec §6.2/§6.6: the verdict on a crypto verdict and the certificate's record as of now. */
  private verdictOf(
    crypto: CryptoVerdict,
    at: Date,
    record:
      | (Pick<RecordRow, 'user_key' | 'revoked_at' | 'u_user_id' | 'u_status'> & Partial<RecordRow>)
      | undefined,
  ): ClientCertificateVerdict {
    const known = record
      ? {
          user: `${record.u_user_id}@${this.config.domain}`,
          userKey: record.user_key,
          serial: crypto.serialHex,
        }
      : {};
    const t = at.getTime();
    if (t < crypto.notBefore || t > crypto.notAfter) return { status: 'expired', ...known };
    if (record?.revoked_at) return { status: 'revoked', ...known };
    if (!record || record.u_status !== 'active' || !crypto.hasClientAuth)
      return { status: 'unknown', ...known };
    // the whole row only when it was read now (SCA login answers with it, §6.4)
    return 'u_id' in record && record.u_id !== undefined
      ? { status: 'valid', ...known, userRow: userFromRow(record as RecordRow) }
      : { status: 'valid', ...known };
  }

  /**
   * The part of the verdict that depends only on the certificate bytes and the CA
   * (parsing, path and signatures, EKU, the validity window of the path), cached by
   * the SHA-256 of the DER; the validity window is compared with the clock on every
   * use and the database is read on every use.
   */
  private cryptoVerdict(der: Uint8Array, ca: LoadedCa): CryptoVerdict {
    if (this.cacheCa !== ca) {
      this.cache.clear();
      this.cacheCa = ca;
      this.intermediates = ca.certificates.filter((c) => c !== ca.root);
    }
    const key = createHash('sha256').update(der).digest('base64');
    const cached = this.cache.get(key);
    if (cached) {
      // most recently used goes last
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    const verdict = this.checkCertificate(der, ca);
    this.cache.set(key, verdict);
    if (this.cache.size > CRYPTO_CACHE_SIZE) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    return verdict;
  }

  /** Parsing, path with signatures to the root, EKU, validity window: the expensive part. */
  private checkCertificate(der: Uint8Array, ca: LoadedCa): CryptoVerdict {
    let check;
    try {
      // the parsed CA certificates are reused as trust anchors (their keys are imported once)
      check = checkClientCertificate({
        certificate: der,
        trustAnchors: [ca.root],
        intermediates: this.intermediates,
      });
    } catch (error) {
      if (error instanceof PkiError) return UNTRUSTED;
      throw error;
    }
    if (!check.chains) return UNTRUSTED;
    return {
      chains: true,
      fromDomainCa: issuerHashOf(check.issuerDer) === ca.issuerHash,
      serialHex: check.serialHex,
      sha256: check.sha256,
      hasClientAuth: check.hasClientAuth,
      notBefore: check.pathNotBefore.getTime(),
      notAfter: check.pathNotAfter.getTime(),
    };
  }
}

/** Crypto verdicts kept (each ~300 bytes). */
export const CRYPTO_CACHE_SIZE = 10_000;

/** What depends only on the certificate bytes and the domain CA (cacheable). */
export interface CryptoVerdict {
  /** Parseable and chains with verifying signatures to the domain root. */
  readonly chains: boolean;
  /** Issued by the domain's issuing CA (so it may be recorded by issuer + serial). */
  readonly fromDomainCa: boolean;
  readonly serialHex: string;
  readonly sha256: string;
  readonly hasClientAuth: boolean;
  /** The validity window (ms) of the certificate and every CA on its path. */
  readonly notBefore: number;
  readonly notAfter: number;
}

const UNTRUSTED: CryptoVerdict = {
  chains: false,
  fromDomainCa: false,
  serialHex: '',
  sha256: '',
  hasClientAuth: false,
  notBefore: 0,
  notAfter: 0,
};
