import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type UserPage, type UserRecord, type UserStatus } from '@irp/protocol';
import { DataSource, type EntityManager } from 'typeorm';
import { type Actor } from '../audit/actor.js';
import { AuditService, type AuditedAction } from '../audit/audit.service.js';
import { DomainError, DomainErrorCode } from '../common/domain.error.js';
import { IRP_CONFIG } from '../config/config.module.js';
import { type IrpConfig } from '../config/config.schema.js';
import { SessionRegistry } from '../transport/session-registry.service.js';
import { Clock } from './clock.js';
import {
  type CreateUserInput,
  type IssuedEnrollmentCode,
  type ListUsersQuery,
  type RegisterInput,
  type RequestOrigin,
  type SessionUserIdentity,
  type UpdateInput,
} from './dto/identity.dto.js';
import {
  ENROLLMENT_CODE_TTL_SECONDS,
  MAX_ENROLLMENT_CODE_TTL_SECONDS,
  generateEnrollmentCode,
  hashEnrollmentCode,
} from './enrollment-code.js';
import { EnrollmentCodeEntity } from './entities/enrollment-code.entity.js';
import { UserEntity } from './entities/user.entity.js';
import { LoginThrottle } from './login-throttle.service.js';
import { PasswordHasher } from './password-hasher.service.js';
import { SourceRateLimiter } from './source-rate-limiter.service.js';
import {
  checkPasswordPolicy,
  loginSubject,
  mergeAttributes,
  parseUserId,
  resolveUserRef,
  validateProfile,
  type ValidProfile,
} from './user-validation.js';
import { toFullRecord, toPublicRecord } from './user-record.mapper.js';
import { UserStateCache } from './user-state.cache.js';

/** Spec §7.2 listUsers: limit 1–200, default 50. */
export const LIST_USERS_MAX_LIMIT = 200;
export const LIST_USERS_DEFAULT_LIMIT = 50;

const PROFILE_COLUMNS = {
  displayName: 'display_name',
  email: 'email',
  givenName: 'given_name',
  surname: 'surname',
  organization: 'organization',
  title: 'title',
  phone: 'phone',
} as const;
type ProfileColumn = keyof typeof PROFILE_COLUMNS;

function exists(what: 'userId' | 'email'): DomainError {
  return new DomainError(
    DomainErrorCode.Exists,
    what === 'userId'
      ? 'Object exists: the user id is taken'
      : 'Object exists: the email is already registered',
    { field: what },
  );
}

function notFound(): DomainError {
  return new DomainError(DomainErrorCode.NotFound, 'Object does not exist: no such user', {
    field: 'user',
  });
}

/**
 * The identity directory (spec §7): users, their profiles, status and enrollment
 * codes. Every rule lives here, so the IRP handlers and the operator API share it.
 * State-changing methods write one audit row each (spec §13) in the transaction of
 * the change; a refused call writes its row with the refusal's result code.
 */
@Injectable()
export class UsersService {
  constructor(
    @Inject(IRP_CONFIG) private readonly config: IrpConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly hasher: PasswordHasher,
    private readonly throttle: LoginThrottle,
    private readonly limiter: SourceRateLimiter,
    private readonly clock: Clock,
    private readonly sessions: SessionRegistry,
    private readonly userState: UserStateCache,
  ) {}

  private get domain(): string {
    return this.config.domain;
  }

  // ---- lookups ----------------------------------------------------------------------

  /** The user with this (lower-case) user id. */
  findByUserId(
    userId: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<UserEntity | null> {
    return manager.findOne(UserEntity, { where: { userId } });
  }

  /** The user with this internal key (`SessionPrincipal.userKey`). */
  findByKey(
    userKey: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<UserEntity | null> {
    return manager.findOne(UserEntity, { where: { id: userKey } });
  }

  /** The user's full record (spec §7.1). */
  fullRecord(user: UserEntity): UserRecord {
    return toFullRecord(user, this.domain);
  }

  // ---- IRP: register, info, update, listUsers ----------------------------------------

  /**
   * `register` (spec §7.2): creates an active user. 2101 when open registration is
   * off; 2503 beyond the per-source limit; 2302 when the user id or email exists.
   */
  async register(input: RegisterInput, origin: RequestOrigin): Promise<UserRecord> {
    if (!this.config.openRegistration) {
      throw new DomainError(
        DomainErrorCode.NotImplemented,
        'Unimplemented option: registration is closed',
      );
    }
    await this.limiter.hit(
      this.dataSource.manager,
      'register',
      origin.sourceAddress,
      this.config.rateRegisterPerMin,
      this.clock.now(),
    );
    const claimed = loginSubject(input.userId, this.domain);
    const actor: Actor = {
      kind: 'user',
      id: claimed,
      sourceAddress: origin.sourceAddress,
      txn: origin.txn,
    };
    return this.audit.action({ actor, action: 'register', target: claimed }, async (action) => {
      const user = await this.insertUser(action, { ...input, status: 'active', upaEnabled: true });
      return toFullRecord(user, this.domain);
    });
  }

  /**
   * `info` (spec §7.2): the viewer's own record, or another user's directory record
   * (public fields only). `ref` is a user id or IRP address; another domain → 2303.
   */
  async info(viewer: SessionUserIdentity, ref?: string): Promise<UserRecord> {
    const userId = ref === undefined ? viewer.userId : resolveUserRef(ref, this.domain);
    if (userId === undefined) throw notFound();
    // read here, never taken from the session check: the profile is always current
    if (userId === viewer.userId) {
      const own = await this.findByKey(viewer.id);
      if (!own) throw notFound();
      return toFullRecord(own, this.domain);
    }
    const other = await this.findByUserId(userId);
    if (!other) throw notFound();
    return toPublicRecord(other, this.domain);
  }

  /**
   * `update` (spec §7.2): changes the profile fields present. Naming userId or status
   * → 2201; no field at all → 2003; an email of another user → 2302. An empty field
   * clears it; `<attribute name="n"/>` empty removes attribute n, others are set.
   */
  async updateProfile(
    actor: Actor,
    viewer: SessionUserIdentity,
    input: UpdateInput,
  ): Promise<UserRecord> {
    return this.audit.action({ actor, action: 'update', target: viewer.userId }, async (action) => {
      if (input.namesUserId || input.namesStatus) {
        throw new DomainError(
          DomainErrorCode.Forbidden,
          `Authorization error: ${input.namesUserId ? 'userId' : 'status'} cannot be changed with update`,
        );
      }
      const changes = validateProfile(input.profile);
      const fields = Object.keys(changes);
      if (fields.length === 0) {
        throw new DomainError(
          DomainErrorCode.MissingParameter,
          'Required parameter missing: no profile field to change',
        );
      }
      action.note.details = { fields };
      const user = await this.userState.track((changed) =>
        action.commit(async (manager) => {
          const now = this.clock.now();
          const current = await this.lockUser(manager, viewer.id);
          if (changes.email !== undefined && changes.email !== null) {
            await this.assertEmailFree(manager, changes.email, current.id);
          }
          const patch: Partial<UserEntity> = { updatedAt: now };
          for (const field of Object.keys(PROFILE_COLUMNS) as ProfileColumn[]) {
            const value = changes[field];
            if (value !== undefined) patch[field] = value;
          }
          if (changes.attributes)
            patch.attributes = mergeAttributes(current.attributes, changes.attributes);
          try {
            await manager.update(UserEntity, { id: current.id }, patch);
          } catch (error) {
            if (isUniqueViolation(error)) throw exists('email'); // a concurrent update took the email
            throw error;
          }
          await changed(manager, current.id);
          return { ...current, ...patch };
        }),
      );
      return toFullRecord(user, this.domain);
    });
  }

  /**
   * `listUsers` (spec §7.2): public records sorted by user id in byte order, filtered
   * by a case-insensitive substring of userId, displayName or email.
   */
  async listUsers(query: ListUsersQuery): Promise<UserPage> {
    const offset = query.offset ?? 0;
    const limit = query.limit ?? LIST_USERS_DEFAULT_LIMIT;
    if (!Number.isInteger(offset) || offset < 0) {
      throw new DomainError(
        DomainErrorCode.ValueRange,
        'Parameter value range error: <offset> must be 0 or more',
        {
          field: 'offset',
        },
      );
    }
    if (!Number.isInteger(limit) || limit < 1 || limit > LIST_USERS_MAX_LIMIT) {
      throw new DomainError(
        DomainErrorCode.ValueRange,
        `Parameter value range error: <limit> must be 1 to ${LIST_USERS_MAX_LIMIT}`,
        { field: 'limit' },
      );
    }
    const qb = this.dataSource.manager.createQueryBuilder(UserEntity, 'u');
    if (query.filter !== undefined && query.filter !== '') {
      // strpos, not LIKE: the filter is a plain substring, `%` and `_` included
      qb.where(
        `(strpos(lower(u.user_id), lower(:f)) > 0 OR strpos(lower(coalesce(u.display_name, '')), lower(:f)) > 0
          OR strpos(lower(coalesce(u.email, '')), lower(:f)) > 0)`,
        { f: query.filter },
      );
    }
    const total = await qb.getCount();
    // user_id is COLLATE "C": byte order
    const users = await qb.orderBy('u.userId', 'ASC').offset(offset).limit(limit).getMany();
    return { total, offset, limit, users: users.map((u) => toPublicRecord(u, this.domain)) };
  }

  // ---- operator actions (the operator API calls these; IRP features may too) ----------

  /**
   * Creates a user. With a password the user is `active`; without one `pending`,
   * waiting for `enroll` with a code from {@link createEnrollmentCode}.
   */
  async createUser(actor: Actor, input: CreateUserInput): Promise<UserRecord> {
    const claimed = loginSubject(input.userId, this.domain);
    return this.audit.action({ actor, action: 'createUser', target: claimed }, async (action) => {
      const user = await this.insertUser(action, {
        userId: input.userId,
        password: input.password,
        profile: input.profile ?? {},
        status: input.password === undefined ? 'pending' : 'active',
        upaEnabled: input.upaEnabled ?? true,
      });
      return toFullRecord(user, this.domain);
    });
  }

  /**
   * A new one-time enrollment code for a `pending` user (spec §7.2): random (160
   * bits), stored only as its SHA-256, single use, expiring after `ttlSeconds`
   * (default 7 days, at most 90). Earlier unused codes of the user stop working.
   */
  async createEnrollmentCode(
    actor: Actor,
    userIdRaw: string,
    options: { ttlSeconds?: number } = {},
  ): Promise<IssuedEnrollmentCode> {
    return this.audit.action(
      { actor, action: 'createEnrollmentCode', target: loginSubject(userIdRaw, this.domain) },
      async (action) => {
        const userId = parseUserId(userIdRaw, this.domain);
        const ttl = options.ttlSeconds ?? ENROLLMENT_CODE_TTL_SECONDS;
        if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_ENROLLMENT_CODE_TTL_SECONDS) {
          throw new DomainError(
            DomainErrorCode.ValueRange,
            `Parameter value range error: the lifetime must be 1 to ${MAX_ENROLLMENT_CODE_TTL_SECONDS} seconds`,
          );
        }
        return action.commit(async (manager) => {
          const now = this.clock.now();
          const user = await this.lockUserById(manager, userId);
          if (user.status !== 'pending') {
            throw new DomainError(
              DomainErrorCode.StatusProhibits,
              'Object status prohibits operation: only a pending user can enroll',
            );
          }
          await manager.query(
            `UPDATE irp_enrollment_code SET revoked_at = $2
             WHERE user_key = $1 AND used_at IS NULL AND revoked_at IS NULL`,
            [user.id, now],
          );
          const code = generateEnrollmentCode();
          const codeHash = hashEnrollmentCode(code);
          if (!codeHash) throw new Error('generated enrollment code is not well-formed');
          const expiresAt = new Date(now.getTime() + ttl * 1000);
          await manager.insert(EnrollmentCodeEntity, {
            userKey: user.id,
            codeHash,
            createdAt: now,
            expiresAt,
            usedAt: null,
            revokedAt: null,
          });
          action.note.details = { expiresAt: expiresAt.toISOString() };
          return { userId, code, expiresAt };
        });
      },
    );
  }

  /** Disables a user (spec §12): UPA and SCA refuse them, and their sessions are closed. */
  async disableUser(actor: Actor, userIdRaw: string): Promise<UserRecord> {
    const user = await this.changeStatus(actor, 'disableUser', userIdRaw, 'disabled');
    this.sessions.closeUserSessions(user.id, 'disabled');
    return toFullRecord(user, this.domain);
  }

  /** Re-enables a disabled user (status `active`). */
  async enableUser(actor: Actor, userIdRaw: string): Promise<UserRecord> {
    return toFullRecord(
      await this.changeStatus(actor, 'enableUser', userIdRaw, 'active'),
      this.domain,
    );
  }

  /**
   * Enables or disables UPA for a user (spec §6.3): with UPA disabled only SCA logs
   * them in, and a UPA login answers the same 2200 as a wrong password. The
   * `setAuthPolicy` command (PKI feature) checks its own preconditions, then calls this.
   */
  async setUpaEnabled(actor: Actor, userIdRaw: string, enabled: boolean): Promise<UserRecord> {
    return this.audit.action(
      {
        actor,
        action: 'setUpaEnabled',
        target: loginSubject(userIdRaw, this.domain),
        details: { upaEnabled: enabled },
      },
      async (action) => {
        const userId = parseUserId(userIdRaw, this.domain);
        const user = await this.userState.track((changed) =>
          action.commit(async (manager) => {
            const current = await this.lockUserById(manager, userId);
            const patch = { upaEnabled: enabled, updatedAt: this.clock.now() };
            await manager.update(UserEntity, { id: current.id }, patch);
            await changed(manager, current.id);
            return { ...current, ...patch };
          }),
        );
        return toFullRecord(user, this.domain);
      },
    );
  }

  /**
   * An operator sets a new password (spec §6.3 policy → 2306). The user's lockout is
   * cleared and all their sessions are closed (`password-changed`). A pending user
   * enrolls instead (2304).
   */
  async resetPassword(actor: Actor, userIdRaw: string, newPassword: string): Promise<void> {
    await this.audit.action(
      { actor, action: 'resetPassword', target: loginSubject(userIdRaw, this.domain) },
      async (action) => {
        const userId = parseUserId(userIdRaw, this.domain);
        checkPasswordPolicy(newPassword, userId, this.domain, 'newPassword');
        const passwordHash = await this.hasher.hash(newPassword);
        const user = await this.userState.track((changed) =>
          action.commit(async (manager) => {
            const now = this.clock.now();
            const current = await this.lockUserById(manager, userId);
            if (current.status === 'pending') {
              throw new DomainError(
                DomainErrorCode.StatusProhibits,
                'Object status prohibits operation: a pending user sets a password by enrolling',
              );
            }
            await manager.update(
              UserEntity,
              { id: current.id },
              { passwordHash, passwordChangedAt: now, updatedAt: now },
            );
            await this.throttle.reset(manager, userId);
            await changed(manager, current.id);
            return current;
          }),
        );
        this.sessions.closeUserSessions(user.id, 'password-changed');
      },
    );
  }

  // ---- internals ------------------------------------------------------------------------

  private async changeStatus(
    actor: Actor,
    name: string,
    userIdRaw: string,
    status: UserStatus,
  ): Promise<UserEntity> {
    return this.audit.action(
      { actor, action: name, target: loginSubject(userIdRaw, this.domain) },
      async (action) => {
        const userId = parseUserId(userIdRaw, this.domain);
        return this.userState.track((changed) =>
          action.commit(async (manager) => {
            const current = await this.lockUserById(manager, userId);
            const patch = { status, updatedAt: this.clock.now() };
            await manager.update(UserEntity, { id: current.id }, patch);
            await changed(manager, current.id);
            return { ...current, ...patch };
          }),
        );
      },
    );
  }

  /** Validates and inserts a new user; 2302 (race-safe) when the id or email exists. */
  private async insertUser(
    action: AuditedAction,
    spec: {
      userId: string;
      password: string | undefined;
      profile: RegisterInput['profile'];
      status: UserStatus;
      upaEnabled: boolean;
    },
  ): Promise<UserEntity> {
    const userId = parseUserId(spec.userId, this.domain);
    action.note.target = userId;
    const profile: ValidProfile = validateProfile(spec.profile);
    const attributes = mergeAttributes([], profile.attributes ?? []);
    if (spec.password !== undefined) checkPasswordPolicy(spec.password, userId, this.domain);
    // cheap refusal before hashing; the unique indexes decide under concurrency
    await this.assertFree(this.dataSource.manager, userId, profile.email ?? null);
    const passwordHash = spec.password === undefined ? null : await this.hasher.hash(spec.password);
    return this.userState.track((changed) =>
      action.commit(async (manager) => {
        const now = this.clock.now();
        // ON CONFLICT DO NOTHING: a concurrent insert of the same id or email is a 2302,
        // not an error (nor a logged failed query carrying the password hash)
        const rows: { id: string }[] = await manager.query(
          `INSERT INTO irp_user (user_id, display_name, email, given_name, surname, organization, title, phone,
           attributes, status, upa_enabled, password_hash, password_changed_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13, $14, $14)
         ON CONFLICT DO NOTHING RETURNING id`,
          [
            userId,
            profile.displayName ?? null,
            profile.email ?? null,
            profile.givenName ?? null,
            profile.surname ?? null,
            profile.organization ?? null,
            profile.title ?? null,
            profile.phone ?? null,
            JSON.stringify(attributes),
            spec.status,
            spec.upaEnabled,
            passwordHash,
            passwordHash === null ? null : now,
            now,
          ],
        );
        const id = rows[0]?.id;
        if (id === undefined) {
          await this.assertFree(manager, userId, profile.email ?? null);
          throw exists('userId');
        }
        // a new key cannot be cached anywhere yet; announced anyway, like every user change
        await changed(manager, id);
        return manager.findOneOrFail(UserEntity, { where: { id } });
      }),
    );
  }

  private async assertFree(
    manager: EntityManager,
    userId: string,
    email: string | null,
  ): Promise<void> {
    const rows: { same_id: boolean }[] = await manager.query(
      `SELECT user_id = $1 AS same_id FROM irp_user
       WHERE user_id = $1 OR ($2::text IS NOT NULL AND lower(email) = lower($2::text))`,
      [userId, email],
    );
    if (rows.some((r) => r.same_id)) throw exists('userId');
    if (rows.length > 0) throw exists('email');
  }

  private async assertEmailFree(
    manager: EntityManager,
    email: string,
    exceptKey: string,
  ): Promise<void> {
    const rows: unknown[] = await manager.query(
      `SELECT 1 FROM irp_user WHERE lower(email) = lower($1) AND id <> $2`,
      [email, exceptKey],
    );
    if (rows.length > 0) throw exists('email');
  }

  private async lockUser(manager: EntityManager, userKey: string): Promise<UserEntity> {
    const user = await manager.findOne(UserEntity, {
      where: { id: userKey },
      lock: { mode: 'pessimistic_write' },
    });
    if (!user) throw notFound();
    return user;
  }

  private async lockUserById(manager: EntityManager, userId: string): Promise<UserEntity> {
    const user = await manager.findOne(UserEntity, {
      where: { userId },
      lock: { mode: 'pessimistic_write' },
    });
    if (!user) throw notFound();
    return user;
  }
}

/** PostgreSQL unique_violation (23505), through TypeORM's QueryFailedError or a raw driver error. */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; driverError?: { code?: unknown } };
  return e.code === '23505' || e.driverError?.code === '23505';
}
