import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { type SubscriptionStatus } from '@irp/protocol';
import { IRP_CONFIG } from '../config/config.module.js';
import { type IrpConfig } from '../config/config.schema.js';
import { EVENT_BUS, type EventBus, type Unsubscribe } from '../events/event-bus.js';
import { EncodedNotify, type IrpSession } from '../transport/irp-session.js';
import { SessionRegistry } from '../transport/session-registry.service.js';
import { ADDRESS_TOPIC, type AddressEvent, decodeAddressEvent } from './address-events.js';
import { type OwnerAccess } from './address.repository.js';
import { presenceNotify } from './binding.mapper.js';
import { OwnerViewCache, type OwnerView } from './owner-view.cache.js';

/** One session's subscription to one owner (spec §8). */
export interface LocalSubscription {
  ownerKey: string;
  /** The owner's IRP address, as notifies name them. */
  ownerAddress: string;
  status: SubscriptionStatus;
}

/**
 * Whether `viewerKey` may watch the owner under `access` (spec §8.1): `active`,
 * `pending` (a request is waiting for the owner), or `removed`.
 */
export function watchStatus(
  ownerKey: string,
  viewerKey: string,
  access: OwnerAccess,
): SubscriptionStatus | 'removed' {
  if (ownerKey === viewerKey) return 'active';
  switch (access.visibility) {
    case 'domain':
      return 'active';
    case 'nobody':
      return 'removed';
    case 'watchers':
      if (access.approved.has(viewerKey)) return 'active';
      return access.pending.has(viewerKey) ? 'pending' : 'removed';
  }
}

/**
 * The presence subscriptions of this instance's sessions, and the fan-out of
 * registry events to them (spec §8, §8.1, §11).
 *
 * Every change is published on the event bus after its commit and reaches every
 * instance, this one included; each instance then reads the owner's current state
 * (once per event, through the cache) and pushes it to its own subscribers. Events
 * of one owner are handled strictly in order, so the last notify a subscriber gets
 * always shows the latest committed state. Pushing never waits for a socket: the
 * transport queues each notify (bounded) and closes a session that cannot keep up.
 */
@Injectable()
export class PresenceHub implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger('Presence');
  private readonly byOwner = new Map<string, Map<IrpSession, LocalSubscription>>();
  private readonly bySession = new Map<IrpSession, Map<string, LocalSubscription>>();
  /** The tail of each owner's job queue. */
  private readonly queues = new Map<string, Promise<void>>();
  private readonly cleanups: Unsubscribe[] = [];

  constructor(
    @Inject(IRP_CONFIG) private readonly config: IrpConfig,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    private readonly cache: OwnerViewCache,
    private readonly sessions: SessionRegistry,
  ) {}

  async onModuleInit(): Promise<void> {
    this.cleanups.push(
      await this.bus.subscribe(ADDRESS_TOPIC, (payload) => this.onPayload(payload)),
    );
    this.cleanups.push(this.bus.onReset(() => this.resync()));
    this.cleanups.push(this.sessions.onSessionClosed((session) => this.dropSession(session)));
  }

  onModuleDestroy(): void {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
  }

  // ---- the subscriptions of this instance ------------------------------------------

  /** The session's subscriptions, by owner key. */
  subscriptionsOf(session: IrpSession): ReadonlyMap<string, LocalSubscription> {
    return this.bySession.get(session) ?? new Map<string, LocalSubscription>();
  }

  /** Records a subscription (after the command that made it committed). */
  add(session: IrpSession, subscription: LocalSubscription): void {
    if (session.state === 'closed') return;
    let mine = this.bySession.get(session);
    if (!mine) this.bySession.set(session, (mine = new Map<string, LocalSubscription>()));
    mine.set(subscription.ownerKey, subscription);
    let theirs = this.byOwner.get(subscription.ownerKey);
    if (!theirs)
      this.byOwner.set(subscription.ownerKey, (theirs = new Map<IrpSession, LocalSubscription>()));
    theirs.set(session, subscription);
  }

  /** Ends one subscription silently (unsubscribe). */
  remove(session: IrpSession, ownerKey: string): boolean {
    const mine = this.bySession.get(session);
    const removed = mine?.delete(ownerKey) ?? false;
    if (mine?.size === 0) this.bySession.delete(session);
    const theirs = this.byOwner.get(ownerKey);
    theirs?.delete(session);
    if (theirs?.size === 0) this.byOwner.delete(ownerKey);
    return removed;
  }

  /** Drops every subscription of a closed session. */
  dropSession(session: IrpSession): void {
    for (const ownerKey of [...(this.bySession.get(session)?.keys() ?? [])])
      this.remove(session, ownerKey);
  }

  /** Number of subscriptions held on this instance (tests, metrics). */
  get size(): number {
    let n = 0;
    for (const subs of this.bySession.values()) n += subs.size;
    return n;
  }

  /**
   * After `subscribe` committed: re-checks the new subscription against the owner's
   * current state (read fresh, so no change that committed meanwhile is missed) and,
   * if it is active, pushes its first `presence` notify — after the response, which
   * the transport writes as soon as the handler returns.
   */
  start(session: IrpSession, ownerKey: string): void {
    setImmediate(() => {
      this.enqueue(ownerKey, async () => {
        this.cache.invalidate(ownerKey);
        const view = await this.cache.view(ownerKey);
        const sub = this.bySession.get(session)?.get(ownerKey);
        if (!sub) return;
        this.apply(session, sub, view, true);
      });
    });
  }

  // ---- events --------------------------------------------------------------------

  private onPayload(payload: string): void {
    const event = decodeAddressEvent(payload);
    if (!event) {
      this.log.warn(`ignored a malformed event: ${payload.slice(0, 100)}`);
      return;
    }
    this.handle(event);
  }

  /** Handles one event (from the bus, or a resync). */
  handle(event: AddressEvent): void {
    // the cache first: a lookup right after this must not see the old state
    if (event.k !== 'request') this.cache.invalidate(event.o);
    switch (event.k) {
      case 'presence':
        if (this.hasActive(event.o)) this.enqueue(event.o, () => this.pushPresence(event.o));
        return;
      case 'access':
        if (this.byOwner.has(event.o)) this.enqueue(event.o, () => this.reconcile(event.o));
        return;
      case 'unwatch':
        if (this.byOwner.has(event.o))
          this.enqueue(event.o, () => Promise.resolve(this.unwatch(event.o, event.w)));
        return;
      case 'request':
        this.watchRequest(event.o, event.w);
        return;
    }
  }

  private hasActive(ownerKey: string): boolean {
    for (const sub of this.byOwner.get(ownerKey)?.values() ?? [])
      if (sub.status === 'active') return true;
    return false;
  }

  /** Spec §8: the owner's full current list to every active subscriber here. */
  private async pushPresence(ownerKey: string): Promise<void> {
    const subs = this.byOwner.get(ownerKey);
    if (!subs) return;
    const view = await this.cache.view(ownerKey);
    let notify;
    for (const [session, sub] of this.byOwner.get(ownerKey) ?? []) {
      if (sub.status !== 'active' || session.state !== 'authenticated') continue;
      // encoded once for all of the owner's watchers here
      notify ??= new EncodedNotify(presenceNotify(sub.ownerAddress, view));
      session.notify(notify);
    }
  }

  /** Spec §8.1: the owner's policy or approvals changed; re-check every subscription here. */
  private async reconcile(ownerKey: string): Promise<void> {
    if (!this.byOwner.has(ownerKey)) return;
    const view = await this.cache.view(ownerKey);
    for (const [session, sub] of [...(this.byOwner.get(ownerKey) ?? [])])
      this.apply(session, sub, view, false);
  }

  /**
   * Brings one subscription in line with the owner's access rules: ends it with
   * `watch-removed`, activates it with its first `presence`, or leaves it. With
   * `announce`, an active subscription gets a `presence` notify even if it was
   * active before (a new subscribe).
   */
  private apply(
    session: IrpSession,
    sub: LocalSubscription,
    view: OwnerView,
    announce: boolean,
  ): void {
    const viewerKey = session.principal?.userKey;
    if (viewerKey === undefined || session.state !== 'authenticated') {
      this.remove(session, sub.ownerKey);
      return;
    }
    const status = watchStatus(sub.ownerKey, viewerKey, view.access);
    if (status === 'removed') {
      this.remove(session, sub.ownerKey);
      session.notify({ event: 'watch-removed', user: sub.ownerAddress });
      return;
    }
    const activated = status === 'active' && sub.status === 'pending';
    sub.status = status;
    if (status === 'active' && (activated || announce))
      session.notify(presenceNotify(sub.ownerAddress, view));
  }

  /** Spec §8.1: a removed watcher's subscriptions (active or pending) end with `watch-removed`. */
  private unwatch(ownerKey: string, watcherKey: string): void {
    for (const [session, sub] of [...(this.byOwner.get(ownerKey) ?? [])]) {
      if (session.principal?.userKey !== watcherKey) continue;
      this.remove(session, ownerKey);
      session.notify({ event: 'watch-removed', user: sub.ownerAddress });
    }
  }

  /** Spec §8.1: `watch-request` to the owner's sessions on this instance. */
  private watchRequest(ownerKey: string, watcherUserId: string): void {
    this.sessions.notifyUser(ownerKey, {
      event: 'watch-request',
      user: `${watcherUserId}@${this.config.domain}`,
    });
  }

  /**
   * Events may have been lost (the bus reconnected): re-check every subscription and
   * push the current state of every watched owner once.
   */
  private resync(): void {
    for (const ownerKey of [...this.byOwner.keys()]) {
      this.handle({ k: 'access', o: ownerKey });
      this.handle({ k: 'presence', o: ownerKey });
    }
  }

  /** Runs `job` after the owner's earlier jobs; a failing job is logged and does not stop the queue. */
  private enqueue(ownerKey: string, job: () => Promise<void>): void {
    const previous = this.queues.get(ownerKey) ?? Promise.resolve();
    const next = previous.then(job).catch((error: unknown) => {
      this.log.error(
        `presence job for ${ownerKey} failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
    this.queues.set(ownerKey, next);
    void next.then(() => {
      if (this.queues.get(ownerKey) === next) this.queues.delete(ownerKey);
    });
  }

  /** Resolves when every queued job has run (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.queues.size > 0) await Promise.all([...this.queues.values()]);
  }
}
