import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { EVENT_BUS, type EventBus, type Unsubscribe } from '../events/event-bus.js';
import { UserStateCache } from '../identity/user-state.cache.js';
import { ADDRESS_TOPIC, decodeAddressEvent } from './address-events.js';
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

/** Owners (and users) kept at most; the least recently used go first. */
const MAX_OWNERS = 20_000;
/**
 * Safety net only: coherence comes from events. Bounds how long an entry can outlive a
 * change whose event was lost without the bus noticing (a silently dead LISTEN
 * connection), as in `UserStateCache`. It also bounds how long the fingerprint of a
 * certificate that reached its `notAfter` stays listed: nothing announces that.
 */
const TTL_MS = 30_000;

/**
 * A TTL drawn from ±25 % around {@link TTL_MS}: entries loaded together (a burst of
 * lookups after a start) must not all expire in the same instant and reload at once —
 * a stampede of reads that shows as a latency spike.
 */
function ttl(): number {
  return TTL_MS * (0.75 + Math.random() * 0.5);
}

interface Entry<T> {
  value: T;
  expires: number;
}

interface Load<T> {
  promise: Promise<T>;
  /** When the entry it makes will expire. */
  expires: number;
  /** Set when an invalidation arrived while loading: the result must not be kept. */
  stale: boolean;
}

/**
 * A coherent read cache of owner views, so that `lookupAddress` and presence fan-out
 * on a hot user cost no database round trip. Three parts, each invalidated by its own
 * events (delivered on every instance, this one included, after the commit):
 *
 * - the owner's bindings and access rules (the registry's data): any address event of
 *   the owner; the registry also invalidates locally right after its own commits, so a
 *   client sees its own change at once;
 * - the owner's certificate fingerprints (PKI data): only a `presence` event marked
 *   `certificates` (published by {@link AddressRegistryService.certificatesChanged}
 *   inside the PKI transaction) — a binding change keeps them;
 * - a directory user's status (identity data): the {@link UserStateCache}'s
 *   invalidations of the user (its `user_changed` event, or this instance's change).
 *
 * A load that overlaps an invalidation is returned to its callers but not kept. Nothing
 * is cached until this instance LISTENs on the address topic, nor while the event bus is
 * unhealthy (LISTEN connection lost: every read goes to the database); everything is
 * dropped when it recovers (events may have been missed).
 */
@Injectable()
export class OwnerViewCache implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger('OwnerViewCache');
  private readonly views = new Map<string, Entry<OwnerView>>();
  private readonly viewLoads = new Map<string, Load<OwnerView>>();
  private readonly fingerprintsOf = new Map<string, Entry<string[]>>();
  private readonly fingerprintLoads = new Map<string, Load<string[]>>();
  /** Directory users by user id, and the user id of each user key held there. */
  private readonly users = new Map<string, Entry<DirectoryUser>>();
  private readonly userIdOfKey = new Map<string, string>();
  /** Bumped by every user invalidation: a user load that saw it is not kept. */
  private userEpoch = 0;
  private readonly userIds = new Map<string, string>();
  private readonly cleanups: Unsubscribe[] = [];
  /** True once the LISTEN on the address topic is in place (events from then on arrive). */
  private listening = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: AddressRepository,
    private readonly certificates: UserCertificatesPort,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    userState: UserStateCache,
  ) {
    // here, not in onModuleInit: before the presence hub's resync on the same reset
    this.cleanups.push(bus.onReset(() => this.clear()));
    // user rows: the user-state cache hears `user_changed` (another instance's change,
    // as its event arrives) and this instance's own changes (at once, after the commit);
    // this cache follows it
    userState.onInvalidate((userKey) => {
      if (userKey === undefined) this.clear();
      else this.invalidateUser(userKey);
    });
  }

  async onModuleInit(): Promise<void> {
    this.cleanups.push(
      await this.bus.subscribe(ADDRESS_TOPIC, (payload) => this.onAddressEvent(payload)),
    );
    this.listening = true;
  }

  onModuleDestroy(): void {
    this.listening = false;
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.clear();
  }

  /** The owner's view, from the cache when it can be trusted. */
  async view(ownerKey: string): Promise<OwnerView> {
    const cached = this.hit(this.views, ownerKey);
    if (cached) return cached;
    const running = this.viewLoads.get(ownerKey);
    if (running && !running.stale) return running.promise;
    const expiry = { at: performance.now() + ttl() };
    const load: Load<OwnerView> = {
      // a view holding fingerprints expires no later than they do
      promise: this.loadView(ownerKey, (until) => (expiry.at = Math.min(expiry.at, until))),
      expires: expiry.at,
      stale: !this.trusted(),
    };
    this.viewLoads.set(ownerKey, load);
    try {
      const value = await load.promise;
      if (!load.stale && this.trusted())
        this.put(this.views, ownerKey, { value, expires: expiry.at });
      return value;
    } finally {
      if (this.viewLoads.get(ownerKey) === load) this.viewLoads.delete(ownerKey);
    }
  }

  /**
   * Forgets the owner's bindings and access rules (a change of them committed); the
   * certificate fingerprints stay (see {@link invalidateCertificates}).
   */
  invalidate(ownerKey: string): void {
    this.views.delete(ownerKey);
    const load = this.viewLoads.get(ownerKey);
    if (load) load.stale = true;
  }

  /** Forgets everything of the owner, certificate fingerprints included (their certificates changed). */
  invalidateCertificates(ownerKey: string): void {
    this.invalidate(ownerKey);
    this.fingerprintsOf.delete(ownerKey);
    const load = this.fingerprintLoads.get(ownerKey);
    if (load) load.stale = true;
  }

  /** Forgets a directory user (its row changed). */
  invalidateUser(userKey: string): void {
    this.userEpoch++;
    const userId = this.userIdOfKey.get(userKey);
    if (userId === undefined) return;
    this.userIdOfKey.delete(userKey);
    if (this.users.get(userId)?.value.userKey === userKey) this.users.delete(userId);
  }

  /** Forgets everything (events may have been lost). */
  clear(): void {
    this.views.clear();
    this.fingerprintsOf.clear();
    this.users.clear();
    this.userIdOfKey.clear();
    this.userEpoch++;
    for (const load of this.viewLoads.values()) load.stale = true;
    for (const load of this.fingerprintLoads.values()) load.stale = true;
  }

  /** The owner's certificate fingerprints (spec §8); kept until their certificates change. */
  fingerprints(userKey: string): Promise<string[]> {
    return this.fingerprintsUntil(userKey, () => undefined);
  }

  /** A directory user by (lower-case) user id; kept until the user's row changes. */
  async user(userId: string): Promise<DirectoryUser | undefined> {
    const cached = this.hit(this.users, userId, (gone) => this.userIdOfKey.delete(gone.userKey));
    if (cached) return cached;
    const epoch = this.userEpoch;
    const started = performance.now();
    const user = await this.repository.findUser(this.dataSource.manager, userId);
    if (user) {
      this.rememberUserId(user.userKey, user.userId);
      // not kept if any user changed meanwhile (the event names a key, not an id)
      if (epoch === this.userEpoch && this.trusted()) {
        const previous = this.users.get(userId);
        if (previous) this.userIdOfKey.delete(previous.value.userKey);
        this.put(this.users, userId, { value: user, expires: started + ttl() }, (gone) =>
          this.userIdOfKey.delete(gone.userKey),
        );
        this.userIdOfKey.set(user.userKey, userId);
      }
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

  private trusted(): boolean {
    return this.listening && this.bus.healthy;
  }

  private onAddressEvent(payload: string): void {
    const event = decodeAddressEvent(payload);
    if (!event) {
      // when in doubt, forget everything of the registry
      this.log.warn(`unexpected ${ADDRESS_TOPIC} payload; clearing the owner views`);
      this.clear();
      return;
    }
    if (event.k === 'presence' && event.certificates) this.invalidateCertificates(event.o);
    else this.invalidate(event.o);
  }

  /** The fingerprints; `expiring` learns when the entry they came from expires. */
  private async fingerprintsUntil(
    userKey: string,
    expiring: (until: number) => void,
  ): Promise<string[]> {
    const cached = this.fingerprintsOf.get(userKey);
    if (cached && this.trusted() && cached.expires > performance.now()) {
      expiring(cached.expires);
      return cached.value;
    }
    const running = this.fingerprintLoads.get(userKey);
    if (running && !running.stale) {
      expiring(running.expires);
      return running.promise;
    }
    const load: Load<string[]> = {
      promise: this.certificates.validFingerprints(userKey),
      expires: performance.now() + ttl(),
      stale: !this.trusted(),
    };
    expiring(load.expires);
    this.fingerprintLoads.set(userKey, load);
    try {
      const value = await load.promise;
      if (!load.stale && this.trusted())
        this.put(this.fingerprintsOf, userKey, { value, expires: load.expires });
      return value;
    } finally {
      if (this.fingerprintLoads.get(userKey) === load) this.fingerprintLoads.delete(userKey);
    }
  }

  private async loadView(ownerKey: string, expiring: (until: number) => void): Promise<OwnerView> {
    const m = this.dataSource.manager;
    // three reads, none in a transaction: a change committing in between is followed
    // by its event, which marks this load stale (and the fingerprints' load, for a
    // certificate change)
    const [bindings, access, fingerprints] = await Promise.all([
      this.repository.liveBindings(m, ownerKey),
      this.repository.access(m, ownerKey),
      this.fingerprintsUntil(ownerKey, expiring),
    ]);
    return { userKey: ownerKey, bindings, access, fingerprints };
  }

  /** A fresh entry of `map`, moved to the end (LRU); an expired one goes (told to `dropped`). */
  private hit<T>(
    map: Map<string, Entry<T>>,
    key: string,
    dropped?: (value: T) => void,
  ): T | undefined {
    if (!this.trusted()) return undefined;
    const cached = map.get(key);
    if (!cached) return undefined;
    map.delete(key);
    if (cached.expires <= performance.now()) {
      dropped?.(cached.value);
      return undefined;
    }
    map.set(key, cached);
    return cached.value;
  }

  /** Stores an entry; the least recently used goes when full (told to `dropped`). */
  private put<T>(
    map: Map<string, Entry<T>>,
    key: string,
    entry: Entry<T>,
    dropped?: (value: T) => void,
  ): void {
    map.delete(key);
    if (map.size >= MAX_OWNERS) {
      const oldest = map.keys().next().value as string;
      const value = map.get(oldest)!.value;
      map.delete(oldest);
      dropped?.(value);
    }
    map.set(key, entry);
  }
}
