import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { EVENT_BUS, type EventBus } from '../events/event-bus.js';
import {
  AddressRepository,
  type DirectoryUser,
  type OwnerAccess,
  type StoredBinding,
} from './address.repository.js';
import { UserCertificatesPort } from './user-certificates.js';

/** Everything a lookup or a presence notify needs about one owner (spec §8, §8.1). */
export interface OwnerView {
  userKey: string;
  /** Live when loaded, most recently updated first; filter by {@link liveBindings} before use. */
  bindings: StoredBinding[];
  /** SHA-256 fingerprints of the owner's valid CA-issued certificates. */
  fingerprints: string[];
  access: OwnerAccess;
}

/** The bindings of a view that have not lapsed at `now` (spec §8: a lapsed binding is never returned). */
export function liveBindings(view: OwnerView, now = Date.now()): StoredBinding[] {
  return view.bindings.filter((b) => b.expiresAt.getTime() > now);
}

/** Owners kept at most; the least recently used go first. */
const MAX_OWNERS = 20_000;
/**
 * The registry's own data (bindings, policy, watchers) is invalidated by events; this
 * bounds how long data it does not own stays cached: certificate fingerprints (PKI)
 * and a user's status (identity).
 */
const VIEW_TTL_MS = 10_000;
const USER_TTL_MS = 5_000;

interface Entry<T> {
  value: T;
  expires: number;
}

interface Load {
  promise: Promise<OwnerView>;
  /** Set when an invalidation arrived while loading: the result must not be kept. */
  stale: boolean;
}

/**
 * A coherent read cache of owner views, so that `lookupAddress` and presence fan-out
 * on a hot user cost no database round trip.
 *
 * Coherence: every change of the registry publishes an event after its commit (on
 * every instance, this one included); the registry also invalidates locally right
 * after its own commits, so a client sees its own change at once. A load that overlaps
 * an invalidation is returned to its callers but not kept. While the event bus is
 * unhealthy (LISTEN connection lost) nothing is cached, and everything is dropped
 * when it recovers (events may have been missed).
 */
@Injectable()
export class OwnerViewCache {
  private readonly views = new Map<string, Entry<OwnerView>>();
  private readonly loads = new Map<string, Load>();
  private readonly users = new Map<string, Entry<DirectoryUser>>();
  private readonly fingerprintsOf = new Map<string, Entry<string[]>>();
  private readonly userIds = new Map<string, string>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: AddressRepository,
    private readonly certificates: UserCertificatesPort,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
  ) {
    bus.onReset(() => this.clear());
  }

  /** The owner's view, from the cache when it is fresh. */
  async view(ownerKey: string): Promise<OwnerView> {
    const now = Date.now();
    const cached = this.views.get(ownerKey);
    if (cached && cached.expires > now && this.bus.healthy) {
      // LRU: move to the end
      this.views.delete(ownerKey);
      this.views.set(ownerKey, cached);
      return cached.value;
    }
    const running = this.loads.get(ownerKey);
    if (running && !running.stale) return running.promise;
    const load: Load = { promise: this.load(ownerKey), stale: false };
    this.loads.set(ownerKey, load);
    try {
      const value = await load.promise;
      if (!load.stale && this.bus.healthy)
        this.put(this.views, ownerKey, { value, expires: now + VIEW_TTL_MS });
      return value;
    } finally {
      if (this.loads.get(ownerKey) === load) this.loads.delete(ownerKey);
    }
  }

  /** Forgets what is cached of an owner (a change committed). */
  invalidate(ownerKey: string): void {
    this.views.delete(ownerKey);
    this.fingerprintsOf.delete(ownerKey);
    const load = this.loads.get(ownerKey);
    if (load) load.stale = true;
  }

  clear(): void {
    this.views.clear();
    this.fingerprintsOf.clear();
    this.users.clear();
    for (const load of this.loads.values()) load.stale = true;
  }

  /** The owner's certificate fingerprints (spec §8), briefly cached: PKI data, not ours. */
  async fingerprints(userKey: string): Promise<string[]> {
    const now = Date.now();
    const cached = this.fingerprintsOf.get(userKey);
    if (cached && cached.expires > now) return cached.value;
    const value = await this.certificates.validFingerprints(userKey);
    this.put(this.fingerprintsOf, userKey, { value, expires: now + VIEW_TTL_MS });
    return value;
  }

  /** A directory user by (lower-case) user id; briefly cached. */
  async user(userId: string): Promise<DirectoryUser | undefined> {
    const now = Date.now();
    const cached = this.users.get(userId);
    if (cached && cached.expires > now) return cached.value;
    const user = await this.repository.findUser(this.dataSource.manager, userId);
    if (user) {
      this.put(this.users, userId, { value: user, expires: now + USER_TTL_MS });
      this.rememberUserId(user.userKey, user.userId);
    }
    return user;
  }

  /** The user id of a user key (never changes, so kept as long as there is room). */
  async userIdOf(userKey: string): Promise<string | undefined> {
    const known = this.userIds.get(userKey);
    if (known !== undefined) return known;
    const userId = await this.repository.userIdOf(this.dataSource.manager, userKey);
    if (userId !== undefined) this.rememberUserId(userKey, userId);
    return userId;
  }

  rememberUserId(userKey: string, userId: string): void {
    if (this.userIds.size >= MAX_OWNERS)
      this.userIds.delete(this.userIds.keys().next().value as string);
    this.userIds.set(userKey, userId);
  }

  private async load(ownerKey: string): Promise<OwnerView> {
    const m = this.dataSource.manager;
    // three reads, none in a transaction: a change committing in between is followed
    // by its event, which marks this load stale
    const [bindings, access, fingerprints] = await Promise.all([
      this.repository.liveBindings(m, ownerKey),
      this.repository.access(m, ownerKey),
      this.fingerprints(ownerKey),
    ]);
    return { userKey: ownerKey, bindings, access, fingerprints };
  }

  private put<T>(map: Map<string, Entry<T>>, key: string, entry: Entry<T>): void {
    map.delete(key);
    if (map.size >= MAX_OWNERS) map.delete(map.keys().next().value as string);
    map.set(key, entry);
  }
}
