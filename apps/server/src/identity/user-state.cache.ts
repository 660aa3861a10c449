import { createHash } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type UserStatus } from '@irp/protocol';
import { DataSource, type EntityManager } from 'typeorm';
import { EVENT_BUS, type EventBus, type Unsubscribe } from '../events/event-bus.js';

/**
 * The event-bus topic of user-row changes. The payload is the internal user key
 * (`irp_user.id`), nothing else: receivers read the current state themselves.
 */
export const USER_CHANGED_TOPIC = 'user_changed';

/** A user key as PostgreSQL writes a uuid. */
const USER_KEY_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The credential stamp of a user's current password (see `CREDENTIAL_STAMP`). */
export function credentialStamp(passwordHash: string | null): string {
  return createHash('sha256')
    .update(passwordHash ?? '')
    .digest('hex')
    .slice(0, 32);
}

/**
 * What the per-command session check needs of a user (spec §6.3, §12) — deliberately
 * not the profile: callers that show profile data read it from the database, so the
 * cache can never make a profile stale. No password hash is kept, only its stamp.
 */
export interface UserState {
  /** Internal key (`irp_user.id`). */
  readonly id: string;
  /** Lower-case user id; never changes. */
  readonly userId: string;
  readonly status: UserStatus;
  /** {@link credentialStamp} of the current password hash. */
  readonly stamp: string;
}

/** Bounds of the cache. */
export interface UserStateCacheLimits {
  /** Users kept at most; the least recently used go first. */
  maxEntries: number;
  /**
   * Safety net only: coherence comes from events. This bounds how long an entry can
   * outlive a change whose event was lost without the bus noticing (a silently dead
   * LISTEN connection before TCP keepalive reports it). Each entry lives ±25 % around
   * it, so that entries loaded together do not all reload in the same instant.
   */
  ttlMs: number;
}

/** Optional provider of {@link UserStateCacheLimits} (tests); defaults otherwise. */
export const USER_STATE_CACHE_LIMITS = Symbol('USER_STATE_CACHE_LIMITS');

export const DEFAULT_USER_STATE_CACHE_LIMITS: UserStateCacheLimits = {
  maxEntries: 100_000,
  ttlMs: 30_000,
};

interface Entry {
  value: UserState;
  expires: number;
}

interface Load {
  promise: Promise<UserState | undefined>;
  /** Set when an invalidation arrived while loading: the result must not be kept. */
  stale: boolean;
}

/**
 * A per-instance read cache of {@link UserState}, so that `AuthService.sessionUser`
 * — run by every authenticated IRP command — costs no database round trip.
 *
 * Coherence across instances (spec §12): every transaction that changes a user row
 * calls {@link publishChange} with its manager; the event bus delivers the user key
 * to every instance (this one included) after the commit, and each drops its entry.
 * The instance that made the change also drops it synchronously right after the
 * commit ({@link track}), so its own next command — even pipelined — never sees the
 * old row. Another instance sees the change once the NOTIFY arrives: a few
 * milliseconds after the commit.
 *
 * A load that overlaps an invalidation is returned to its callers but not kept (it may
 * have read the row before the commit). Nothing is cached until this instance LISTENs
 * on the topic, nor while the bus is unhealthy (LISTEN connection lost: every lookup
 * goes to the database); everything is dropped when the bus reports a reset.
 */
@Injectable()
export class UserStateCache implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger('UserStateCache');
  private readonly entries = new Map<string, Entry>();
  private readonly loads = new Map<string, Load>();
  private readonly limits: UserStateCacheLimits;
  private readonly cleanups: Unsubscribe[] = [];
  private readonly listeners: ((userKey: string | undefined) => void)[] = [];
  /** True once the LISTEN on the topic is in place (events from then on arrive). */
  private listening = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    @Optional() @Inject(USER_STATE_CACHE_LIMITS) limits?: UserStateCacheLimits,
  ) {
    this.limits = limits ?? DEFAULT_USER_STATE_CACHE_LIMITS;
  }

  async onModuleInit(): Promise<void> {
    this.cleanups.push(this.bus.onReset(() => this.clear()));
    this.cleanups.push(
      await this.bus.subscribe(USER_CHANGED_TOPIC, (payload) => this.onEvent(payload)),
    );
    this.listening = true;
  }

  onModuleDestroy(): void {
    this.listening = false;
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.clear();
  }

  /** Entries held now (tests, metrics). */
  get size(): number {
    return this.entries.size;
  }

  /** The user's state, from the cache when it can be trusted; undefined when the row is gone. */
  async get(userKey: string): Promise<UserState | undefined> {
    // the bus may be missing events: read the database, keep nothing
    if (!this.trusted()) return this.read(userKey);
    const cached = this.entries.get(userKey);
    if (cached) {
      // LRU: a hit moves to the end; an expired entry goes
      this.entries.delete(userKey);
      if (cached.expires > performance.now()) {
        this.entries.set(userKey, cached);
        return cached.value;
      }
    }
    const running = this.loads.get(userKey);
    if (running && !running.stale) return running.promise;
    const load: Load = { promise: this.read(userKey), stale: false };
    this.loads.set(userKey, load);
    const started = performance.now();
    try {
      const value = await load.promise;
      if (value && !load.stale && this.trusted())
        this.put(userKey, {
          value,
          expires: started + this.limits.ttlMs * (0.75 + Math.random() * 0.5),
        });
      return value;
    } finally {
      if (this.loads.get(userKey) === load) this.loads.delete(userKey);
    }
  }

  /** The user's state read from the database now (and kept, as {@link get} would). */
  refresh(userKey: string): Promise<UserState | undefined> {
    this.invalidate(userKey);
    return this.get(userKey);
  }

  /**
   * Announces a change of the user row `userKey`, inside the transaction of `manager`:
   * every instance drops its entry once the transaction committed (never if it rolled
   * back). Call it in EVERY transaction that changes a user row, in any feature.
   */
  async publishChange(manager: EntityManager, userKey: string): Promise<void> {
    await this.bus.publish(manager, USER_CHANGED_TOPIC, userKey);
  }

  /**
   * Runs `work` (which commits a transaction) with a `changed(manager, userKey)`
   * callback that {@link publishChange}s; after `work` settles — committed, rolled
   * back, or failed with an unknown outcome — the users named are dropped from this
   * instance's cache before the caller continues. The event drops them everywhere
   * else (and here once more, harmlessly).
   */
  async track<R>(
    work: (changed: (manager: EntityManager, userKey: string) => Promise<void>) => Promise<R>,
  ): Promise<R> {
    const keys = new Set<string>();
    try {
      return await work(async (manager, userKey) => {
        keys.add(userKey);
        await this.publishChange(manager, userKey);
      });
    } finally {
      for (const key of keys) this.invalidate(key);
    }
  }

  /**
   * Calls `listener` whenever a user is forgotten (`undefined`: everyone) — a change made
   * on this instance right after its commit, another instance's as its event arrives —
   * so that other caches of user state follow this one at the same moment.
   */
  onInvalidate(listener: (userKey: string | undefined) => void): void {
    this.listeners.push(listener);
  }

  /** Forgets a user (a change committed). */
  invalidate(userKey: string): void {
    for (const listener of this.listeners) listener(userKey);
    this.entries.delete(userKey);
    const load = this.loads.get(userKey);
    if (load) load.stale = true;
  }

  /** Forgets everything (events may have been lost). */
  clear(): void {
    for (const listener of this.listeners) listener(undefined);
    this.entries.clear();
    for (const load of this.loads.values()) load.stale = true;
  }

  private trusted(): boolean {
    return this.listening && this.bus.healthy;
  }

  private onEvent(payload: string): void {
    if (USER_KEY_PATTERN.test(payload)) {
      this.invalidate(payload);
    } else {
      // not ours to parse: when in doubt, forget everything
      this.log.warn(`unexpected ${USER_CHANGED_TOPIC} payload; clearing the cache`);
      this.clear();
    }
  }

  private async read(userKey: string): Promise<UserState | undefined> {
    const rows: {
      id: string;
      user_id: string;
      status: UserStatus;
      password_hash: string | null;
    }[] = await this.dataSource.query(
      'SELECT id, user_id, status, password_hash FROM irp_user WHERE id = $1',
      [userKey],
    );
    const row = rows[0];
    if (!row) return undefined;
    return Object.freeze({
      id: row.id,
      userId: row.user_id,
      status: row.status,
      stamp: credentialStamp(row.password_hash),
    });
  }

  private put(userKey: string, entry: Entry): void {
    this.entries.delete(userKey);
    while (this.entries.size >= this.limits.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(userKey, entry);
  }
}
