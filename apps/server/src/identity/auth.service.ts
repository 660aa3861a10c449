import { createHash } from 'node:crypto';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { IrpProtocolError, RESULT_MESSAGES, ResultCode } from '@irp/protocol';
import { DataSource } from 'typeorm';
import { type Actor } from '../audit/actor.js';
import { auditColumnValues, AuditService, type AuditedAction } from '../audit/audit.service.js';
import { DomainError, DomainErrorCode } from '../common/domain.error.js';
import { IRP_CONFIG } from '../config/config.module.js';
import { type IrpConfig } from '../config/config.schema.js';
import { type IrpSession, type SessionPeer } from '../transport/irp-session.js';
import { SessionRegistry } from '../transport/session-registry.service.js';
import { Clock } from './clock.js';
import {
  type Authenticated,
  type EnrollInput,
  type LoginContext,
  type PasswordLogin,
  type RequestOrigin,
  type SessionUser,
} from './dto/identity.dto.js';
import { hashEnrollmentCode } from './enrollment-code.js';
import { EnrollmentCodeEntity } from './entities/enrollment-code.entity.js';
import { UserEntity } from './entities/user.entity.js';
import { LoginBatcher } from './login-batcher.js';
import { LoginThrottle } from './login-throttle.service.js';
import { PasswordHasher } from './password-hasher.service.js';
import { SCA_AUTHENTICATOR, type ScaAuthenticator, type ScaIdentity } from './sca-authenticator.js';
import {
  checkRateWindow,
  type RateWindow,
  SourceRateLimiter,
} from './source-rate-limiter.service.js';
import { credentialStamp, type UserState, UserStateCache } from './user-state.cache.js';
import {
  checkPasswordPolicy,
  loginSubject,
  parseUserId,
  USER_ID_PATTERN,
} from './user-validation.js';
import { irpAddress, toFullRecord } from './user-record.mapper.js';
import { UsersService } from './users.service.js';

/** Spec §6.3: the 3rd failed login on one connection is answered 2501 and closes it. */
export const MAX_LOGIN_FAILURES_PER_CONNECTION = 3;

/**
 * Session attribute: a fingerprint of the user's password hash when the session
 * authenticated. Every password change makes a new hash (a new random salt), so a
 * different fingerprint later means the password changed elsewhere — possibly on
 * another instance — and the session is stale. Exact, and independent of clocks.
 */
export const CREDENTIAL_STAMP = Symbol('identity.credentialStamp');

/** Why a UPA login failed: for the audit log only, never on the wire. */
type UpaFailure = 'unknown-user' | 'wrong-password' | 'pending' | 'disabled' | 'upa-disabled';

/** Spec §6.3: the one answer to every authentication failure. */
function authenticationError(): DomainError {
  return new DomainError(
    DomainErrorCode.AuthenticationFailed,
    RESULT_MESSAGES[ResultCode.AuthenticationError],
  );
}

function lockedError(retryAfter: number): DomainError {
  return new DomainError(DomainErrorCode.Locked, RESULT_MESSAGES[ResultCode.AccountLocked], {
    retryAfter,
  });
}

function invalidCode(): DomainError {
  return new DomainError(
    DomainErrorCode.InvalidAuthorization,
    RESULT_MESSAGES[ResultCode.InvalidAuthorization],
  );
}

export { credentialStamp };

function stampOf(user: UserEntity): string {
  return credentialStamp(user.passwordHash);
}

function stateOf(user: UserEntity): UserState {
  return { id: user.id, userId: user.userId, status: user.status, stamp: stampOf(user) };
}

/** Why a session of this user may not go on (spec §6.3, §12); undefined when it may. */
function refusalOf(
  session: IrpSession | undefined,
  state: UserState | undefined,
): 'disabled' | 'password-changed' | undefined {
  if (!state || state.status !== 'active') return 'disabled';
  const stamp = session?.attributes.get(CREDENTIAL_STAMP);
  return stamp !== undefined && stamp !== state.stamp ? 'password-changed' : undefined;
}

/**
 * Authentication (spec §6.2, §6.3): UPA and SCA login, enrollment, password change,
 * lockout and per-source rate limits, and the validity of a logged-in session.
 * Every attempt writes one audit row (spec §13), except those refused by the rate
 * limit (2503) — the limit is what keeps a flood from filling the audit log.
 */
@Injectable()
export class AuthService {
  constructor(
    @Inject(IRP_CONFIG) private readonly config: IrpConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly hasher: PasswordHasher,
    private readonly throttle: LoginThrottle,
    private readonly limiter: SourceRateLimiter,
    private readonly clock: Clock,
    private readonly sessions: SessionRegistry,
    private readonly users: UsersService,
    private readonly userState: UserStateCache,
    private readonly logins: LoginBatcher,
    @Optional() @Inject(SCA_AUTHENTICATOR) private readonly sca?: ScaAuthenticator,
  ) {}

  private get domain(): string {
    return this.config.domain;
  }

  /** 2503 beyond `IRP_RATE_LOGIN_PER_MIN` attempts from this source in the current minute. */
  private countLoginAttempt(origin: RequestOrigin): Promise<void> {
    return this.limiter.hit(
      this.dataSource.manager,
      'login',
      origin.sourceAddress,
      this.config.rateLoginPerMin,
      this.clock.now(),
    );
  }

  /**
   * `login method="upa"` (spec §6.3). Unknown user, wrong password, pending,
   * disabled and UPA-disabled accounts all answer the same 2200 after one argon2id
   * verification each. Failures count per attempted id (existing or not); 5 in 15
   * minutes lock it (2204 + retryAfter, also for the right password). A bad
   * `newPassword` refuses the login with 2306 and is not a failure.
   */
  async loginWithPassword(request: PasswordLogin, ctx: LoginContext): Promise<Authenticated> {
    await this.countLoginAttempt(ctx);
    const subject = loginSubject(request.user, this.domain);
    const actor: Actor = {
      kind: 'user',
      id: subject,
      authMethod: 'upa',
      sourceAddress: ctx.sourceAddress,
      txn: ctx.txn,
    };
    return this.audit.action({ actor, action: 'login', target: subject }, async (action) => {
      const now = this.clock.now();
      const retryAfter = await this.throttle.retryAfter(this.dataSource.manager, subject, now);
      if (retryAfter > 0) {
        action.note.details = { retryAfter };
        throw lockedError(retryAfter);
      }
      const user = USER_ID_PATTERN.test(subject) ? await this.users.findByUserId(subject) : null;
      // exactly one argon2id verification on every path (a dummy hash without a user)
      const passwordOk = await this.hasher.verify(user?.passwordHash, request.password);
      const failure: UpaFailure | undefined = !user
        ? 'unknown-user'
        : user.status === 'pending'
          ? 'pending'
          : user.status === 'disabled'
            ? 'disabled'
            : !user.upaEnabled
              ? 'upa-disabled'
              : !passwordOk
                ? 'wrong-password'
                : undefined;
      if (failure !== undefined || !user) {
        return this.refuseLogin(action, subject, now, ctx, failure ?? 'unknown-user');
      }

      let newHash: string | undefined;
      if (request.newPassword !== undefined) {
        checkPasswordPolicy(request.newPassword, user.userId, this.domain, 'newPassword');
        newHash = await this.hasher.hash(request.newPassword);
        action.note.details = { passwordChanged: true };
      }
      const fresh = await this.userState.track((changed) =>
        action.commit(async (manager) => {
          const current = await manager.findOne(UserEntity, {
            where: { id: user.id },
            lock: { mode: 'pessimistic_write' },
          });
          // changed between the check and now (disabled, password changed): refuse, uncounted
          if (
            !current ||
            current.passwordHash !== user.passwordHash ||
            current.status !== 'active' ||
            !current.upaEnabled
          ) {
            throw authenticationError();
          }
          const locked = await this.throttle.retryAfter(manager, subject, now, true);
          if (locked > 0) throw lockedError(locked);
          await this.throttle.reset(manager, subject);
          if (newHash === undefined) return current;
          const patch = { passwordHash: newHash, passwordChangedAt: now, updatedAt: now };
          await manager.update(UserEntity, { id: current.id }, patch);
          await changed(manager, current.id);
          return { ...current, ...patch };
        }),
      );
      // spec §6.3: a password change closes the user's other sessions (this one is not
      // logged in yet, so it is not among them)
      if (newHash !== undefined) this.sessions.closeUserSessions(fresh.id, 'password-changed');
      return this.authenticated(fresh, 'upa');
    });
  }

  /** Counts the failure (in the transaction of its audit row) and throws 2200, 2501 or 2204. */
  private async refuseLogin(
    action: AuditedAction,
    subject: string,
    now: Date,
    ctx: LoginContext,
    reason: UpaFailure,
  ): Promise<never> {
    const closing = this.closesConnection(ctx);
    const outcome = await action.commit(async (manager) => {
      const result = await this.throttle.recordFailure(manager, subject, now);
      if (result.kind === 'locked') {
        // locked by a concurrent attempt meanwhile: this one is not a failure
        action.note.resultCode = ResultCode.AccountLocked;
        action.note.details = { retryAfter: result.retryAfter };
      } else {
        action.note.resultCode = closing
          ? ResultCode.AuthenticationErrorClosing
          : ResultCode.AuthenticationError;
        action.note.details = {
          reason,
          failures: result.failures,
          ...(result.lockSeconds === undefined ? {} : { lockSeconds: result.lockSeconds }),
        };
      }
      return result;
    });
    if (outcome.kind === 'locked') throw lockedError(outcome.retryAfter);
    throw this.failureError(closing);
  }

  private closesConnection(ctx: LoginContext): boolean {
    return (
      ctx.failuresOnConnection !== undefined &&
      ctx.failuresOnConnection + 1 >= MAX_LOGIN_FAILURES_PER_CONNECTION
    );
  }

  private failureError(closing: boolean): Error {
    return closing
      ? new IrpProtocolError(ResultCode.AuthenticationErrorClosing)
      : authenticationError();
  }

  /**
   * `login method="sca"` (spec §6.2): the {@link ScaAuthenticator} of the PKI feature
   * checks the certificate; the user must be active. Without an authenticator → 2200.
   */
  async loginWithCertificate(peer: SessionPeer, ctx: LoginContext): Promise<Authenticated> {
    const actor: Actor = {
      kind: 'user',
      id: peer.certificate
        ? `cert:sha256:${createHash('sha256').update(peer.certificate).digest('hex')}`
        : 'anonymous',
      authMethod: 'sca',
      sourceAddress: ctx.sourceAddress,
      txn: ctx.txn,
    };
    // The certificate's record is read first (a read, with the user's row); then one
    // write counts the attempt against the source's rate limit and, within the limit,
    // resets the id's failure count (spec §6.3) and writes the audit row — atomic, in
    // one statement with other sessions' logins (LoginBatcher). A failure is counted,
    // then audited, as before.
    let identity: ScaIdentity | undefined;
    let user: UserEntity | null = null;
    let failure: Error | undefined;
    try {
      identity = peer.certificate && this.sca ? await this.sca.authenticate(peer) : undefined;
      user = identity ? (identity.user ?? (await this.users.findByKey(identity.userKey))) : null;
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    }
    if (failure !== undefined || !identity || !user || user.status !== 'active') {
      await this.countLoginAttempt(ctx);
      const error = failure ?? this.failureError(this.closesConnection(ctx));
      return this.audit.action({ actor, action: 'login' }, () => {
        throw error;
      });
    }
    const now = this.clock.now();
    const limit = this.config.rateLoginPerMin;
    const row = auditColumnValues({
      actor: { ...actor, id: user.userId },
      action: 'login',
      target: user.userId,
      resultCode: ResultCode.Success,
    });
    let window: RateWindow;
    try {
      // group commit with other sessions' logins (figure 2); settles after the commit
      window = await this.logins.submit({
        sourceAddress: ctx.sourceAddress,
        perMinute: limit,
        subject: user.userId,
        audit: row,
        now,
      });
    } catch (error) {
      // the statement failed (server error): the attempt is audited as such, best effort
      return this.audit.action(
        { actor: { ...actor, id: user.userId }, action: 'login', target: user.userId },
        () => {
          throw error;
        },
      );
    }
    // beyond the limit nothing but the count was written: 2503, unaudited (as for UPA)
    checkRateWindow(window, limit, now);
    return this.authenticated(user, 'sca', identity.certificateSerial);
  }

  /**
   * `enroll` (spec §7.2): activates a `pending` user with a valid one-time code and
   * sets their password; the session is then logged in. A wrong, used, expired or
   * replaced code, or a user that is not pending → 2202; a weak password → 2306
   * (the code stays usable). Enroll attempts share the login rate limit.
   */
  async enroll(input: EnrollInput, origin: RequestOrigin): Promise<Authenticated> {
    await this.countLoginAttempt(origin);
    const claimed = loginSubject(input.userId, this.domain);
    const actor: Actor = {
      kind: 'user',
      id: claimed,
      authMethod: 'enrollment-code',
      sourceAddress: origin.sourceAddress,
      txn: origin.txn,
    };
    return this.audit.action({ actor, action: 'enroll', target: claimed }, async (action) => {
      const userId = parseUserId(input.userId, this.domain);
      const codeHash = hashEnrollmentCode(input.code);
      const now = this.clock.now();
      const found = codeHash
        ? await this.dataSource.manager.findOne(EnrollmentCodeEntity, { where: { codeHash } })
        : null;
      const user = found ? await this.users.findByKey(found.userKey) : null;
      if (!found || !user || !this.codeUsable(found, user, userId, now)) throw invalidCode();
      checkPasswordPolicy(input.password, userId, this.domain);
      const passwordHash = await this.hasher.hash(input.password);
      const active = await this.userState.track((changed) =>
        action.commit(async (manager) => {
          const code = await manager.findOne(EnrollmentCodeEntity, {
            where: { id: found.id },
            lock: { mode: 'pessimistic_write' },
          });
          const current = await manager.findOne(UserEntity, {
            where: { id: found.userKey },
            lock: { mode: 'pessimistic_write' },
          });
          // single use even under concurrency: re-checked under the row locks
          if (!code || !current || !this.codeUsable(code, current, userId, now))
            throw invalidCode();
          await manager.update(EnrollmentCodeEntity, { id: code.id }, { usedAt: now });
          const patch = {
            status: 'active' as const,
            passwordHash,
            passwordChangedAt: now,
            updatedAt: now,
          };
          await manager.update(UserEntity, { id: current.id }, patch);
          await changed(manager, current.id);
          return { ...current, ...patch };
        }),
      );
      return this.authenticated(active, 'upa');
    });
  }

  private codeUsable(
    code: EnrollmentCodeEntity,
    user: UserEntity,
    userId: string,
    now: Date,
  ): boolean {
    return (
      user.userId === userId &&
      user.status === 'pending' &&
      code.usedAt === null &&
      code.revokedAt === null &&
      code.expiresAt.getTime() > now.getTime()
    );
  }

  /**
   * `changePassword` (spec §7.2): a wrong `oldPassword` answers 2200 and counts for
   * the user id's lockout (not for the per-connection rule, which is about `login`);
   * while the id is locked → 2204; a weak `newPassword` → 2306. On success the user's
   * other sessions are closed (`password-changed`); `keepSession` stays open.
   */
  async changePassword(
    user: SessionUser,
    oldPassword: string,
    newPassword: string,
    origin: RequestOrigin & { keepSession?: IrpSession },
  ): Promise<void> {
    // the password hash is read here, not taken from the session check (whose state
    // may come from the cache, which keeps no hash); the check is repeated on this
    // exact row, so a password changed elsewhere a moment ago closes the session
    // instead of counting the old password as a failure
    const me = await this.users.findByKey(user.entity.id);
    this.admit(origin.keepSession, me ? stateOf(me) : undefined);
    if (!me) throw authenticationError();
    const actor: Actor = {
      kind: 'user',
      id: me.userId,
      authMethod: user.method,
      sourceAddress: origin.sourceAddress,
      txn: origin.txn,
    };
    await this.audit.action(
      { actor, action: 'changePassword', target: me.userId },
      async (action) => {
        const now = this.clock.now();
        const retryAfter = await this.throttle.retryAfter(this.dataSource.manager, me.userId, now);
        if (retryAfter > 0) throw lockedError(retryAfter);
        if (!(await this.hasher.verify(me.passwordHash, oldPassword))) {
          const outcome = await action.commit(async (manager) => {
            const result = await this.throttle.recordFailure(manager, me.userId, now);
            action.note.resultCode =
              result.kind === 'locked' ? ResultCode.AccountLocked : ResultCode.AuthenticationError;
            action.note.details =
              result.kind === 'locked'
                ? { retryAfter: result.retryAfter }
                : {
                    reason: 'wrong-password',
                    failures: result.failures,
                    ...(result.lockSeconds === undefined
                      ? {}
                      : { lockSeconds: result.lockSeconds }),
                  };
            return result;
          });
          throw outcome.kind === 'locked' ? lockedError(outcome.retryAfter) : authenticationError();
        }
        checkPasswordPolicy(newPassword, me.userId, this.domain, 'newPassword');
        const passwordHash = await this.hasher.hash(newPassword);
        await this.userState.track((changed) =>
          action.commit(async (manager) => {
            const current = await manager.findOne(UserEntity, {
              where: { id: me.id },
              lock: { mode: 'pessimistic_write' },
            });
            if (!current || current.passwordHash !== me.passwordHash) throw authenticationError();
            await manager.update(
              UserEntity,
              { id: me.id },
              { passwordHash, passwordChangedAt: now, updatedAt: now },
            );
            await changed(manager, me.id);
          }),
        );
        origin.keepSession?.attributes.set(CREDENTIAL_STAMP, credentialStamp(passwordHash));
        this.sessions.closeUserSessions(me.id, 'password-changed', { except: origin.keepSession });
      },
    );
  }

  /**
   * The user of an authenticated session, checked at each command (spec §12: a change
   * made elsewhere — another instance, the operator API — is seen at the next
   * command). Disabled or gone → the session is closed (`disabled`) and 2304; password
   * changed since the session logged in → closed (`password-changed`) and 2200.
   *
   * The state comes from the {@link UserStateCache}: no database round trip on a hit.
   * A change made on this instance is seen by the very next command; one made on
   * another instance once its event arrives (milliseconds). The returned `entity`
   * identifies the user only — read profile data from the database.
   */
  async sessionUser(session: IrpSession): Promise<SessionUser> {
    const principal = session.principal;
    if (!principal)
      throw new DomainError(DomainErrorCode.UseError, 'Command use error: not logged in');
    let state = await this.userState.get(principal.userKey);
    // a refusal closes the session: it is confirmed on the row itself first, so that an
    // entry cached just before a change elsewhere (a user re-enabled, or whose password
    // changed and who logged in again with it) can never close a session wrongly
    if (refusalOf(session, state) !== undefined)
      state = await this.userState.refresh(principal.userKey);
    return { entity: this.admit(session, state), method: principal.method };
  }

  /** Spec §6.3, §12: a session goes on only while its user is active and its password unchanged. */
  private admit(session: IrpSession | undefined, state: UserState | undefined): UserState {
    const refusal = refusalOf(session, state);
    if (refusal === undefined && state) return state;
    session?.close(refusal ?? 'disabled');
    if (refusal === 'password-changed') throw authenticationError();
    throw new DomainError(
      DomainErrorCode.StatusProhibits,
      'Object status prohibits operation: account disabled',
    );
  }

  private authenticated(
    user: UserEntity,
    method: 'upa' | 'sca',
    certificateSerial?: string,
  ): Authenticated {
    return {
      principal: {
        userKey: user.id,
        userId: user.userId,
        address: irpAddress(user.userId, this.domain),
        method,
        ...(certificateSerial === undefined ? {} : { certificateSerial }),
      },
      user: toFullRecord(user, this.domain),
      credentialStamp: stampOf(user),
    };
  }
}
