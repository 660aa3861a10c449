import { type KeyObject } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  type CaCertificate,
  type CertificateInfo,
  type CertificateKeySource,
  type CertificateQuery,
  type CertificateRequestInfo,
  type CertificateStatusInfo,
  type CertificateStatusQuery,
  type RequestProfile,
  ResultCode,
} from '@irp/protocol';
import {
  type IssuedCertificate,
  type ParsedCsr,
  type RevocationReason,
  type SubjectKeyInput,
  buildPkcs12,
  checkUploadedCertificate,
  describeKey,
  generateKeyPair,
  isRevocationReason,
  normalizeSerialHex,
  parseCsr,
} from '@irp/pki';
import { DataSource, type EntityManager, In } from 'typeorm';
import { AddressRegistryService } from '../addresses/address-registry.service.js';
import { type Actor } from '../audit/actor.js';
import { AuditService } from '../audit/audit.service.js';
import { DomainError, DomainErrorCode } from '../common/domain.error.js';
import { IRP_CONFIG } from '../config/config.module.js';
import { type IrpConfig } from '../config/config.schema.js';
import { UserEntity } from '../identity/entities/user.entity.js';
import { resolveUserRef } from '../identity/user-validation.js';
import { type IrpSession } from '../transport/irp-session.js';
import { type CertificateEvent, CertificateEventsService } from './certificate-events.service.js';
import { isValid, statusOf, toCaCertificate, toCertificateInfo } from './certificate-records.js';
import { CrlService } from './crl.service.js';
import { DomainCaService, issuerHashOf } from './domain-ca.service.js';
import { CertificateRequestEntity } from './entities/certificate-request.entity.js';
import { CertificateEntity } from './entities/certificate.entity.js';
import { withPkiErrors, withPkiErrorsAsync } from './pki-error.mapping.js';

/** Who asks: an authenticated user, and how to audit them (spec §13). */
export interface CertificateCaller {
  /** Internal user key (`irp_user.id`). */
  userKey: string;
  /** Lower-case user id. */
  userId: string;
  actor: Actor;
  /** The IRP session of the command: it gets its response instead of a notify. */
  session?: IrpSession | undefined;
}

/** `requestCertificate` parameters (spec §9). */
export interface CertificateRequestInput {
  profile: RequestProfile;
  key: CertificateKeySource;
  validityDays?: number | undefined;
  /** Serial of a valid certificate of the caller to supersede. */
  renews?: string | undefined;
}

/** `requestCertificate` outcome: issued (1000) or waiting for an operator (1001). */
export type CertificateRequestOutcome =
  | { status: 'issued'; certificate: CertificateInfo; chain: CaCertificate[]; pkcs12?: Uint8Array }
  | { status: 'pending'; request: CertificateRequestInfo; chain: CaCertificate[] };

/** A pending request, as an operator sees it. */
export interface PendingCertificateRequest {
  id: string;
  userId: string;
  profile: RequestProfile;
  validityDays: number | null;
  renews: string | null;
  createdAt: Date;
}

/** Decision: at most this many pending requests per user (more → 2306). */
export const MAX_PENDING_REQUESTS_PER_USER = 10;
/** Spec §9 keygen: passphrases of 1–1024 characters (as the PKCS#12 builder takes them). */
const MAX_PASSPHRASE = 1024;
const SHA256_RE = /^[0-9a-f]{64}$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Profiles a user sees on the wire (server certificates are not directory data). */
const USER_PROFILES = ['user', 'device', 'uploaded'] as const;
const ISSUED_PROFILES = ['user', 'device'] as const;

function notFound(what: string, field: string): DomainError {
  return new DomainError(DomainErrorCode.NotFound, `Object does not exist: ${what}`, { field });
}

function prohibited(what: string, field?: string): DomainError {
  return new DomainError(
    DomainErrorCode.StatusProhibits,
    `Object status prohibits operation: ${what}`,
    field ? { field } : {},
  );
}

function syntax(what: string, field: string): DomainError {
  return new DomainError(DomainErrorCode.ValueSyntax, `Parameter value syntax error: ${what}`, {
    field,
  });
}

/** A serial as sent (any case, optional `0x`/colons) → lower-case hex; else 2005. */
export function parseSerial(raw: string, field = 'serial'): string {
  const serial = normalizeSerialHex(raw);
  if (serial === undefined || serial.length > 128)
    throw syntax(`<${field}> is not a serial number in hex`, field);
  return serial;
}

/** A SHA-256 fingerprint as sent (any case) → 64 lower-case hex digits; else 2005. */
export function parseSha256(raw: string, field = 'sha256'): string {
  const sha256 = raw.trim().toLowerCase();
  if (!SHA256_RE.test(sha256)) throw syntax(`<${field}> is not 64 hex digits`, field);
  return sha256;
}

/** A label of an uploaded certificate's key; `other` for a key the policy does not know. */
function keyLabel(key: KeyObject): string {
  try {
    return describeKey(key).label;
  } catch {
    return 'other';
  }
}

/**
 * The certificate lifecycle of spec §9: `getCACertificates`, `requestCertificate`
 * (CSR or keygen; automatic issuance or the approval mode), `listCertificates`,
 * `getCertificate`, `uploadCertificate`, `revokeCertificate`, `certificateStatus`,
 * and the operator's approve/reject/revoke. Every rule lives here so that the IRP
 * handlers and the operator API share it. Each change is one transaction holding its
 * audit row (spec §13), the CRL it makes necessary, the address-registry changes it
 * implies (spec §8) and its event; sessions hear of it after the commit.
 */
@Injectable()
export class CertificatesService {
  constructor(
    @Inject(IRP_CONFIG) private readonly config: IrpConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly domainCa: DomainCaService,
    private readonly crl: CrlService,
    private readonly audit: AuditService,
    private readonly events: CertificateEventsService,
    private readonly addresses: AddressRegistryService,
  ) {}

  // ---- getCACertificates -------------------------------------------------------------

  /** `getCACertificates` (spec §9): the issuing CA first, up to the root, with the CRL and OCSP URLs. */
  async caCertificates(): Promise<{
    certificates: CaCertificate[];
    crlUrl: string;
    ocspUrl: string;
  }> {
    const ca = await this.domainCa.ready();
    return {
      certificates: ca.certificates.map(toCaCertificate),
      crlUrl: ca.urls.crl,
      ocspUrl: ca.urls.ocsp,
    };
  }

  private async chain(): Promise<CaCertificate[]> {
    return (await this.domainCa.ready()).certificates.map(toCaCertificate);
  }

  // ---- requestCertificate ------------------------------------------------------------

  /**
   * `requestCertificate` (spec §9). The CSR's signature is its proof of possession
   * (2005 when it fails) and its key must pass the policy (2306); its subject and
   * extensions are ignored — the certificate is built from the directory. `keygen`
   * generates the key here and returns it only inside the PKCS#12; no copy is kept.
   * With `IRP_CERT_APPROVAL=manual` the request waits for an operator (1001).
   * `renews` supersedes a valid certificate of the caller once the new one exists.
   */
  async requestCertificate(
    caller: CertificateCaller,
    input: CertificateRequestInput,
  ): Promise<CertificateRequestOutcome> {
    return this.audit.action(
      {
        actor: caller.actor,
        action: 'requestCertificate',
        target: caller.userId,
        details: { profile: input.profile, key: input.key.kind },
      },
      async (action) => {
        if (input.validityDays !== undefined && input.validityDays < 1) {
          throw new DomainError(
            DomainErrorCode.ValueRange,
            'Parameter value range error: <validityDays> must be at least 1',
            { field: 'validityDays' },
          );
        }
        const renewsSerial =
          input.renews === undefined ? undefined : parseSerial(input.renews, 'renews');
        const manual = this.config.certApproval === 'manual';
        const key = input.key;
        let subjectKey: SubjectKeyInput;
        let csr: ParsedCsr | undefined;
        let privateKey: KeyObject | undefined;
        if (key.kind === 'csr') {
          csr = withPkiErrors('csr', () => parseCsr(key.csr));
          subjectKey = csr;
        } else {
          if (manual) {
            // the key would have to wait for the operator, and the server keeps no key (spec §9)
            throw new DomainError(
              DomainErrorCode.NotImplemented,
              'Unimplemented option: keygen is not available while certificates need operator approval',
              { field: 'keygen' },
            );
          }
          checkPassphrase(key.passphrase);
          const pair = await generateKeyPair(key.algorithm);
          subjectKey = pair.publicKey;
          privateKey = pair.privateKey;
        }
        const user = await this.activeUser(caller.userKey);
        const renewed =
          renewsSerial === undefined ? undefined : await this.renewable(user.id, renewsSerial);

        if (manual && csr) {
          const spki = csr.spkiDer;
          const request = await action.commit(async (m) => {
            await this.lockUser(m, user.id);
            const [{ count } = { count: '0' }] = await m.query<{ count: string }[]>(
              `SELECT count(*)::text AS count FROM irp_certificate_request WHERE user_key = $1 AND status = 'pending'`,
              [user.id],
            );
            if (Number(count) >= MAX_PENDING_REQUESTS_PER_USER) {
              throw new DomainError(
                DomainErrorCode.Policy,
                `Parameter value policy error: at most ${MAX_PENDING_REQUESTS_PER_USER} pending certificate requests`,
              );
            }
            const row = m.create(CertificateRequestEntity, {
              userKey: user.id,
              profile: input.profile,
              publicKey: Buffer.from(spki),
              validityDays: input.validityDays ?? null,
              renews: renewed?.serial ?? null,
              status: 'pending',
              createdAt: new Date(),
              decidedAt: null,
              decidedBy: null,
              certificateId: null,
            });
            await m.insert(CertificateRequestEntity, row);
            action.note.resultCode = ResultCode.SuccessPending;
            action.note.details = { profile: input.profile, key: 'csr', request: row.id };
            return row;
          });
          return {
            status: 'pending',
            request: { id: request.id, status: 'pending' },
            chain: await this.chain(),
          };
        }

        const issued = this.sign(user, input.profile, subjectKey, input.validityDays);
        let pkcs12: Uint8Array | undefined;
        if (privateKey && key.kind === 'keygen') {
          const ca = await this.domainCa.ready();
          pkcs12 = await withPkiErrorsAsync('keygen', () =>
            buildPkcs12({
              privateKey: privateKey,
              certificate: issued.der,
              chain: ca.certificates.map((c) => c.der),
              passphrase: key.passphrase,
              friendlyName: `${user.userId}@${this.config.domain}`,
            }),
          );
        }
        action.note.details = {
          profile: input.profile,
          key: key.kind,
          serial: issued.serialHex,
          ...(renewed ? { renews: renewed.serial } : {}),
        };
        const { row, superseded } = await action.commit(async (m) => {
          const row = await this.record(m, user.id, input.profile, issued);
          const superseded = renewed ? await this.supersede(m, renewed.id, row) : undefined;
          await this.addresses.certificatesChanged(m, user.id);
          return { row, superseded };
        });
        if (superseded) await this.events.deliver(superseded, caller.session);
        return {
          status: 'issued',
          certificate: toCertificateInfo(row, { pem: true }),
          chain: await this.chain(),
          ...(pkcs12 ? { pkcs12 } : {}),
        };
      },
    );
  }

  /** Signs a user/device certificate for `user` (not yet recorded). */
  private sign(
    user: UserEntity,
    profile: RequestProfile,
    subjectKey: SubjectKeyInput,
    validityDays: number | undefined,
  ): IssuedCertificate {
    const ca = this.domainCa.ca;
    return withPkiErrors('csr', () =>
      ca.issuer.issueUserCertificate({
        subjectKey,
        userId: user.userId,
        domain: this.config.domain,
        ...(user.displayName ? { displayName: user.displayName } : {}),
        ...(user.email ? { email: user.email } : {}),
        profile,
        ...(validityDays === undefined ? {} : { validityDays }),
        maxValidityDays: this.config.maxCertDays,
      }),
    );
  }

  /** Inserts an issued certificate inside `m`'s transaction. */
  private async record(
    m: EntityManager,
    userKey: string,
    profile: RequestProfile,
    issued: IssuedCertificate,
  ): Promise<CertificateEntity> {
    const row = m.create(CertificateEntity, {
      userKey,
      profile,
      issuerHash: this.domainCa.ca.issuerHash,
      serial: issued.serialHex,
      sha256: issued.sha256,
      der: Buffer.from(issued.der),
      notBefore: issued.notBefore,
      notAfter: issued.notAfter,
      keyAlgorithm: issued.keyAlgorithm.label,
      createdAt: new Date(),
      revokedAt: null,
      revocationReason: null,
      replacedBy: null,
    });
    await m.insert(CertificateEntity, row);
    return row;
  }

  /** The certificate `renews` names: a CA-issued certificate of the user (2303), still valid (2304). */
  private async renewable(userKey: string, serial: string): Promise<CertificateEntity> {
    const found = await this.dataSource.manager.findOne(CertificateEntity, {
      where: { userKey, serial, profile: In([...ISSUED_PROFILES]) },
    });
    if (!found) throw notFound('no such certificate of yours to renew', 'renews');
    if (!isValid(found))
      throw prohibited(`the certificate to renew is ${statusOf(found)}`, 'renews');
    return found;
  }

  /**
   * Revokes `oldId` with reason superseded (spec §9 `renews`) inside `m`, re-checking
   * under its row lock that it is still valid (2304 otherwise: nothing is issued).
   */
  private async supersede(
    m: EntityManager,
    oldId: string,
    replacement: CertificateEntity,
  ): Promise<CertificateEvent> {
    const old = await m.findOne(CertificateEntity, {
      where: { id: oldId },
      lock: { mode: 'pessimistic_write' },
    });
    if (!old || !isValid(old))
      throw prohibited('the certificate to renew is no longer valid', 'renews');
    const now = new Date();
    await m.update(
      CertificateEntity,
      { id: old.id },
      { revokedAt: now, revocationReason: 'superseded', replacedBy: replacement.id },
    );
    await this.crl.reissue(m, now);
    return this.events.publish(m, {
      k: 'revoked',
      u: old.userKey ?? '',
      c: old.id,
      s: old.serial,
      sup: 1,
    });
  }

  // ---- approval mode (operator) --------------------------------------------------------

  /** Pending requests, oldest first (for the operator API). */
  async pendingRequests(): Promise<PendingCertificateRequest[]> {
    const rows = await this.dataSource.query<
      {
        id: string;
        user_id: string;
        profile: RequestProfile;
        validity_days: number | null;
        renews: string | null;
        created_at: Date;
      }[]
    >(
      `SELECT r.id, u.user_id, r.profile, r.validity_days, r.renews, r.created_at
       FROM irp_certificate_request r JOIN irp_user u ON u.id = r.user_key
       WHERE r.status = 'pending' ORDER BY r.created_at, r.id`,
    );
    return rows.map((r) => ({
      id: r.id,
      userId: r.user_id,
      profile: r.profile,
      validityDays: r.validity_days,
      renews: r.renews,
      createdAt: r.created_at,
    }));
  }

  /**
   * An operator approves a pending request: the certificate is issued, `renews` is
   * honoured when the old certificate is still valid, and the user's sessions get
   * `<notify event="certificate">` with the PEM (spec §9, §11). Unknown → 2303; decided
   * already or the user is not active → 2304.
   */
  async approveRequest(actor: Actor, requestId: string): Promise<CertificateInfo> {
    return this.audit.action(
      { actor, action: 'approveCertificateRequest', details: { request: requestId } },
      async (action) => {
        const request = await this.pendingRequest(requestId);
        const user = await this.dataSource.manager.findOne(UserEntity, {
          where: { id: request.userKey },
        });
        if (!user) throw notFound('no such request', 'id');
        action.note.target = user.userId;
        if (user.status !== 'active') throw prohibited(`the user is ${user.status}`);
        const issued = this.sign(
          user,
          request.profile,
          request.publicKey,
          request.validityDays ?? undefined,
        );
        action.note.details = { request: requestId, serial: issued.serialHex };
        const { row, events } = await action.commit(async (m) => {
          const locked = await m.findOne(CertificateRequestEntity, {
            where: { id: requestId },
            lock: { mode: 'pessimistic_write' },
          });
          if (locked?.status !== 'pending') throw prohibited('the request is already decided');
          const row = await this.record(m, user.id, request.profile, issued);
          const events: CertificateEvent[] = [];
          if (request.renews) {
            const old = await m.findOne(CertificateEntity, {
              where: {
                userKey: user.id,
                serial: request.renews,
                profile: In([...ISSUED_PROFILES]),
              },
            });
            // Decision: an old certificate that is no longer valid is simply not superseded
            if (old && isValid(old)) events.push(await this.supersede(m, old.id, row));
          }
          await m.update(
            CertificateRequestEntity,
            { id: requestId },
            {
              status: 'approved',
              decidedAt: new Date(),
              decidedBy: actor.id,
              certificateId: row.id,
            },
          );
          await this.addresses.certificatesChanged(m, user.id);
          events.push(await this.events.publish(m, { k: 'issued', u: user.id, c: row.id }));
          return { row, events };
        });
        for (const event of events) await this.events.deliver(event);
        return toCertificateInfo(row, { pem: true });
      },
    );
  }

  /** An operator rejects a pending request: `<notify event="certificate"><request status="rejected"/>` (spec §11). */
  async rejectRequest(actor: Actor, requestId: string): Promise<void> {
    await this.audit.action(
      { actor, action: 'rejectCertificateRequest', details: { request: requestId } },
      async (action) => {
        const request = await this.pendingRequest(requestId);
        const event = await action.commit(async (m) => {
          const locked = await m.findOne(CertificateRequestEntity, {
            where: { id: requestId },
            lock: { mode: 'pessimistic_write' },
          });
          if (locked?.status !== 'pending') throw prohibited('the request is already decided');
          await m.update(
            CertificateRequestEntity,
            { id: requestId },
            { status: 'rejected', decidedAt: new Date(), decidedBy: actor.id },
          );
          const user = await m.findOne(UserEntity, { where: { id: request.userKey } });
          if (user) action.note.target = user.userId;
          return this.events.publish(m, { k: 'rejected', u: request.userKey, r: requestId });
        });
        await this.events.deliver(event);
      },
    );
  }

  private async pendingRequest(requestId: string): Promise<CertificateRequestEntity> {
    const id = requestId.trim().toLowerCase();
    const request = UUID_RE.test(id)
      ? await this.dataSource.manager.findOne(CertificateRequestEntity, { where: { id } })
      : null;
    if (!request) throw notFound('no such request', 'id');
    if (request.status !== 'pending') throw prohibited('the request is already decided');
    return request;
  }

  // ---- listCertificates, getCertificate, certificateStatus --------------------------------

  /**
   * `listCertificates` (spec §9), newest first, without PEM: the caller's own in every
   * status; another user's only `valid` ones. A user of another domain or unknown → 2303.
   */
  async listCertificates(caller: CertificateCaller, ref?: string): Promise<CertificateInfo[]> {
    const owner = ref === undefined ? caller.userKey : await this.userKeyOf(ref);
    const rows = await this.dataSource.manager.find(CertificateEntity, {
      where: { userKey: owner, profile: In([...USER_PROFILES]) },
      order: { createdAt: 'DESC', serial: 'ASC' },
    });
    const now = new Date();
    return rows
      .filter((r) => owner === caller.userKey || isValid(r, now))
      .map((r) => toCertificateInfo(r, { pem: false, now }));
  }

  /**
   * `getCertificate` (spec §9) with PEM. By `serial` or `sha256`: the caller's own
   * certificate in any status, another user's only when valid (else 2303, as for an
   * unknown one). By `user`: all their valid certificates (`purpose` email: `user`
   * profile only), possibly none.
   */
  async getCertificate(
    caller: CertificateCaller,
    query: CertificateQuery,
  ): Promise<CertificateInfo[]> {
    const now = new Date();
    let rows: CertificateEntity[];
    switch (query.by) {
      case 'serial':
        rows = await this.dataSource.manager.find(CertificateEntity, {
          where: { serial: parseSerial(query.serial), profile: In([...USER_PROFILES]) },
        });
        break;
      case 'sha256':
        rows = await this.dataSource.manager.find(CertificateEntity, {
          where: { sha256: parseSha256(query.sha256), profile: In([...USER_PROFILES]) },
        });
        break;
      case 'user': {
        const owner = await this.userKeyOf(query.user);
        rows = await this.dataSource.manager.find(CertificateEntity, {
          where: {
            userKey: owner,
            profile: query.purpose === 'email' ? 'user' : In([...USER_PROFILES]),
          },
          order: { createdAt: 'DESC', serial: 'ASC' },
        });
        return rows
          .filter((r) => isValid(r, now))
          .map((r) => toCertificateInfo(r, { pem: true, now }));
      }
    }
    const visible = rows.filter((r) => r.userKey === caller.userKey || isValid(r, now));
    if (visible.length === 0) throw notFound('no such certificate', query.by);
    return visible.map((r) => toCertificateInfo(r, { pem: true, now }));
  }

  /**
   * `certificateStatus` (spec §9): the status of a certificate the domain CA issued.
   * One it never issued (uploaded ones included) is `unknown`, with only the attribute
   * that was asked for.
   */
  async certificateStatus(query: CertificateStatusQuery): Promise<CertificateStatusInfo> {
    const ca = await this.domainCa.ready();
    const where =
      query.by === 'serial'
        ? { serial: parseSerial(query.serial), issuerHash: ca.issuerHash }
        : { sha256: parseSha256(query.sha256), issuerHash: ca.issuerHash };
    const row = await this.dataSource.manager.findOne(CertificateEntity, {
      where: { ...where, profile: In(['user', 'device', 'server']) },
    });
    if (!row) {
      return query.by === 'serial'
        ? { serial: where.serial ?? '', status: 'unknown' }
        : { sha256: where.sha256 ?? '', status: 'unknown' };
    }
    const info = toCertificateInfo(row, { pem: false });
    const status: CertificateStatusInfo = {
      serial: row.serial,
      sha256: row.sha256,
      status: info.status,
    };
    if (info.revokedAt) status.revokedAt = info.revokedAt;
    if (info.reason) status.reason = info.reason;
    return status;
  }

  // ---- uploadCertificate ----------------------------------------------------------------

  /**
   * `uploadCertificate` (spec §9): publishes a certificate issued elsewhere whose SAN
   * names the caller (`URI:irp:<user>@<domain>` or their e-mail), within its validity,
   * signed by the first `<chain>` certificate when one is given. Directory data only: it
   * never enables SCA. Unparseable → 2005; not naming the caller or a bad chain → 2306;
   * outside its validity → 2304; already published (or issued by the domain CA) → 2302.
   */
  async uploadCertificate(
    caller: CertificateCaller,
    certificate: string,
    chain: readonly string[],
  ): Promise<CertificateInfo> {
    return this.audit.action(
      { actor: caller.actor, action: 'uploadCertificate', target: caller.userId },
      async (action) => {
        const user = await this.activeUser(caller.userKey);
        const accepted = withPkiErrors('certificate', () =>
          checkUploadedCertificate({
            certificate,
            chain,
            userId: user.userId,
            domain: this.config.domain,
            ...(user.email ? { email: user.email } : {}),
          }),
        );
        action.note.details = { serial: accepted.serialHex, sha256: accepted.sha256 };
        const row = await action.commit(async (m) => {
          await this.lockUser(m, user.id);
          const existing = await m.findOne(CertificateEntity, {
            where: [
              { sha256: accepted.sha256, profile: In(['user', 'device', 'server']) },
              { sha256: accepted.sha256, profile: 'uploaded', userKey: user.id },
            ],
          });
          if (existing) {
            throw new DomainError(
              DomainErrorCode.Exists,
              'Object exists: this certificate is already in the registry',
              { field: 'certificate' },
            );
          }
          const parsed = accepted.certificate;
          const row = m.create(CertificateEntity, {
            userKey: user.id,
            profile: 'uploaded',
            issuerHash: issuerHashOf(parsed.issuerDer),
            serial: accepted.serialHex,
            sha256: accepted.sha256,
            der: Buffer.from(parsed.der),
            notBefore: accepted.notBefore,
            notAfter: accepted.notAfter,
            keyAlgorithm: keyLabel(parsed.publicKey),
            createdAt: new Date(),
            revokedAt: null,
            revocationReason: null,
            replacedBy: null,
          });
          await m.insert(CertificateEntity, row);
          return row;
        });
        return toCertificateInfo(row, { pem: true });
      },
    );
  }

  // ---- revokeCertificate ----------------------------------------------------------------

  /**
   * `revokeCertificate` (spec §9): the caller's own certificates only (another user's
   * serial is 2303, like an unknown one); 2304 when already revoked or superseded.
   * For a CA certificate the CRL is re-issued in the same transaction, and the
   * bindings registered by sessions it authenticated are removed (spec §8). After the
   * commit its SCA sessions are closed (`revoked`) — the calling one after its
   * response — and the owner's other sessions get a `certificate` notify.
   */
  async revokeCertificate(
    caller: CertificateCaller,
    serialRaw: string,
    reason: RevocationReason = 'unspecified',
  ): Promise<CertificateInfo> {
    return this.audit.action(
      { actor: caller.actor, action: 'revokeCertificate', target: caller.userId },
      async (action) => {
        const serial = parseSerial(serialRaw);
        action.note.details = { serial, reason };
        const found = await this.dataSource.manager.findOne(CertificateEntity, {
          where: { userKey: caller.userKey, serial, profile: In([...USER_PROFILES]) },
          order: { createdAt: 'DESC' },
        });
        if (!found) throw notFound('no such certificate of yours', 'serial');
        const { row, event } = await action.commit((m) => this.revokeRow(m, found.id, reason));
        await this.events.deliver(event, caller.session);
        return toCertificateInfo(row, { pem: false });
      },
    );
  }

  /**
   * An operator revokes any certificate the domain CA issued to a user (spec §12),
   * with any RFC 5280 reason. Takes effect like {@link revokeCertificate}.
   */
  async revokeByOperator(
    actor: Actor,
    serialRaw: string,
    reason: RevocationReason = 'unspecified',
  ): Promise<CertificateInfo> {
    return this.audit.action({ actor, action: 'revokeCertificate' }, async (action) => {
      const serial = parseSerial(serialRaw);
      if (!isRevocationReason(reason) || reason === 'removeFromCRL') {
        throw new DomainError(DomainErrorCode.ValueRange, 'Parameter value range error: <reason>', {
          field: 'reason',
        });
      }
      action.note.details = { serial, reason };
      const ca = await this.domainCa.ready();
      const found = await this.dataSource.manager.findOne(CertificateEntity, {
        where: { issuerHash: ca.issuerHash, serial, profile: In([...ISSUED_PROFILES]) },
      });
      if (!found) throw notFound('no such certificate', 'serial');
      const owner = await this.dataSource.manager.findOne(UserEntity, {
        where: { id: found.userKey ?? '' },
      });
      if (owner) action.note.target = owner.userId;
      const { row, event } = await action.commit((m) => this.revokeRow(m, found.id, reason));
      await this.events.deliver(event);
      return toCertificateInfo(row, { pem: false });
    });
  }

  private async revokeRow(
    m: EntityManager,
    id: string,
    reason: RevocationReason,
  ): Promise<{ row: CertificateEntity; event: CertificateEvent }> {
    const row = await m.findOne(CertificateEntity, {
      where: { id },
      lock: { mode: 'pessimistic_write' },
    });
    if (!row) throw notFound('no such certificate', 'serial');
    if (row.revokedAt) throw prohibited(`the certificate is already ${statusOf(row)}`, 'serial');
    const now = new Date();
    await m.update(CertificateEntity, { id }, { revokedAt: now, revocationReason: reason });
    const revoked = { ...row, revokedAt: now, revocationReason: reason };
    if (row.profile !== 'uploaded' && row.userKey) {
      await this.crl.reissue(m, now);
      await this.addresses.removeBindingsOfCertificate(m, row.serial);
      await this.addresses.certificatesChanged(m, row.userKey);
    }
    const event = await this.events.publish(m, {
      k: 'revoked',
      u: row.userKey ?? '',
      c: row.id,
      s: row.serial,
      ...(reason === 'superseded' ? { sup: 1 as const } : {}),
    });
    return { row: revoked, event };
  }

  // ---- helpers -------------------------------------------------------------------------

  /** The caller's user row; 2304 when not active (a disabled account may not change anything). */
  private async activeUser(userKey: string): Promise<UserEntity> {
    const user = await this.dataSource.manager.findOne(UserEntity, { where: { id: userKey } });
    if (!user) throw notFound('no such user', 'user');
    if (user.status !== 'active') throw prohibited(`the account is ${user.status}`);
    return user;
  }

  /** A `user` parameter (user id or IRP address) → the user's key; unknown or another domain → 2303. */
  private async userKeyOf(ref: string): Promise<string> {
    let userId: string | undefined;
    try {
      userId = resolveUserRef(ref, this.config.domain);
    } catch {
      userId = undefined;
    }
    const user = userId
      ? await this.dataSource.manager.findOne(UserEntity, { where: { userId } })
      : null;
    if (!user) throw notFound('no such user', 'user');
    return user.id;
  }

  /** Serialises a user's quota-checked inserts across instances (row lock on the user). */
  private async lockUser(m: EntityManager, userKey: string): Promise<void> {
    await m.query(`SELECT id FROM irp_user WHERE id = $1 FOR NO KEY UPDATE`, [userKey]);
  }
}

function checkPassphrase(passphrase: string): void {
  if (passphrase.length === 0) {
    throw new DomainError(
      DomainErrorCode.MissingParameter,
      'Required parameter missing: keygen passphrase',
      {
        field: 'passphrase',
      },
    );
  }
  if (Array.from(passphrase).length > MAX_PASSPHRASE) {
    throw new DomainError(
      DomainErrorCode.ValueRange,
      `Parameter value range error: the passphrase must be at most ${MAX_PASSPHRASE} characters`,
      { field: 'passphrase' },
    );
  }
}
