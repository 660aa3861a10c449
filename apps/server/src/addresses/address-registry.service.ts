import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  type AddressFamily,
  type AddressVisibility,
  type Binding,
  type ObservedAddress,
  ResultCode,
  type Subscription,
  type Watcher,
} from '@irp/protocol';
import { DataSource, type EntityManager } from 'typeorm';
import { type Actor } from '../audit/actor.js';
import { AuditService } from '../audit/audit.service.js';
import { DomainError, DomainErrorCode } from '../common/domain.error.js';
import { IRP_CONFIG } from '../config/config.module.js';
import { type IrpConfig } from '../config/config.schema.js';
import { EVENT_BUS, type EventBus } from '../events/event-bus.js';
import { resolveUserRef } from '../identity/user-validation.js';
import { type IrpSession } from '../transport/irp-session.js';
import { ADDRESS_TOPIC, type AddressEvent, encodeAddressEvent } from './address-events.js';
import {
  type RegistrationRequest,
  validateDevice,
  validateRegistration,
} from './address-validation.js';
import {
  AddressRepository,
  type BindingWrite,
  type DirectoryUser,
  type StoredBinding,
} from './address.repository.js';
import { checkAttestation } from './binding-attestation.js';
import { toWireBinding, wireBindings } from './binding.mapper.js';
import { OwnerViewCache } from './owner-view.cache.js';
import { PresenceHub, watchStatus } from './presence-hub.service.js';
import { RegistrationBatcher } from './registration-batcher.js';
import { UserCertificatesPort } from './user-certificates.js';

/** Who is calling: an authenticated user, and how to audit them (spec §13). */
export interface AddressCaller {
  /** Internal user key (`irp_user.id`). */
  userKey: string;
  /** Lower-case user id. */
  userId: string;
  /** The IRP address `userId@domain`. */
  address: string;
  /** SCA sessions: the serial of the session's certificate (spec §8: removal on revocation). */
  certificateSerial?: string | undefined;
  actor: Actor;
}

/** The source the server saw (spec §8 `<observed>`). */
export interface ObservedSource {
  address: string;
  family: AddressFamily;
  port: number;
}

/** `lookupAddress` outcome: the bindings, or a referral to another domain (spec §8). */
export type LookupResult = { user: string; bindings: Binding[] } | { referral: string };

/** The outcome of `subscribe` (spec §8.1): 1001 when any subscription is pending. */
export interface SubscribeResult {
  subscriptions: Subscription[];
  pending: boolean;
}

const DNS_NAME =
  /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

function notFound(what = 'no such user'): DomainError {
  return new DomainError(DomainErrorCode.NotFound, `Object does not exist: ${what}`, {
    field: 'user',
  });
}

function forbidden(): DomainError {
  return new DomainError(
    DomainErrorCode.Forbidden,
    'Authorization error: the user does not share their addresses with you',
    {
      field: 'user',
    },
  );
}

/**
 * The address registry (spec §8, §8.1, §8.2): bindings, lookups, the owner's
 * visibility policy and watchers, and subscriptions. Every rule lives here, so the
 * IRP handlers and a later operator API share it. Each change is one transaction
 * holding its audit row (spec §13) and its event, which reaches every instance after
 * the commit.
 */
@Injectable()
export class AddressRegistryService {
  constructor(
    @Inject(IRP_CONFIG) private readonly config: IrpConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    private readonly repository: AddressRepository,
    private readonly audit: AuditService,
    private readonly cache: OwnerViewCache,
    private readonly hub: PresenceHub,
    private readonly certificates: UserCertificatesPort,
    private readonly batcher: RegistrationBatcher,
  ) {}

  // ---- bindings, spec §8 -----------------------------------------------------------

  /**
   * `registerAddress`: creates or replaces the device's binding (one statement, so
   * atomically), or removes it with `expires` 0. Returns the stored binding (none
   * when removed) and the observed source.
   */
  async register(
    caller: AddressCaller,
    request: RegistrationRequest,
    observed: ObservedSource,
  ): Promise<{ binding?: Binding; observed: ObservedAddress }> {
    const observedAddress: ObservedAddress = {
      family: observed.family,
      address: observed.address,
      port: observed.port,
    };
    return this.audit.action(
      { actor: caller.actor, action: 'registerAddress', target: caller.userId },
      async (action) => {
        const valid = validateRegistration(request, {
          allowLocalAddresses: this.config.allowLocalAddresses,
          minExpiresSeconds: this.config.addressMinExpirySeconds,
        });
        action.note.details = { device: valid.device, expires: valid.expiresSeconds };
        if (valid.remove) {
          await action.commit((m) => this.removeDevice(m, caller.userKey, valid.device));
          this.cache.invalidate(caller.userKey);
          return { observed: observedAddress };
        }

        // spec §8.2: checked before the transaction (the certificate lookup is a read of
        // its own; the embedded database has a single session)
        let notAfter: Date | undefined;
        if (valid.attestation) {
          const certificate = await this.certificates.certificateOfUser(
            caller.userKey,
            valid.attestation.cert.toLowerCase(),
          );
          notAfter = checkAttestation(
            valid.attestation,
            { user: caller.address, device: valid.device, addresses: valid.addresses },
            certificate,
          );
          if (certificate && certificate.notAfter < notAfter) notAfter = certificate.notAfter;
        }

        const write: BindingWrite = {
          userKey: caller.userKey,
          device: valid.device,
          addresses: valid.addresses,
          presence: valid.presence,
          service: valid.service,
          observedAddress: observed.address,
          observedPort: observed.port,
          certificateSerial: caller.certificateSerial,
          attestation: valid.attestation,
          expiresSeconds: valid.expiresSeconds,
          notAfter,
          maxBindings: this.config.maxBindingsPerUser,
        };
        // group commit with other sessions' registrations (figure 4); settles after the
        // COMMIT holding the binding and this action's audit row
        const outcome = await this.batcher.submit({
          write,
          audit: action.row(ResultCode.Success),
          alone: () => action.commit((m) => this.registerAlone(m, write)),
        });
        if (outcome.via === 'batch') action.recorded();
        const stored = outcome.binding;
        if (!stored) throw this.quotaExceeded();
        this.cache.invalidate(caller.userKey);
        return {
          binding: toWireBinding(stored, await this.cache.fingerprints(caller.userKey)),
          observed: observedAddress,
        };
      },
    );
  }

  /** The single path of a registration, in `m`'s transaction (a batch that failed, see {@link RegistrationBatcher}). */
  private async registerAlone(m: EntityManager, write: BindingWrite): Promise<StoredBinding> {
    await this.repository.lockUser(m, write.userKey);
    const { binding } = await this.repository.upsertBinding(m, write);
    if (!binding) throw this.quotaExceeded();
    await this.publish(m, { k: 'presence', o: write.userKey });
    return binding;
  }

  private quotaExceeded(): DomainError {
    return new DomainError(
      DomainErrorCode.Policy,
      `Parameter value policy error: at most ${this.config.maxBindingsPerUser} live bindings per user`,
      { field: 'device' },
    );
  }

  /** `unregisterAddress`: removes one binding; 2303 when the device has no live one (spec §8). */
  async unregister(caller: AddressCaller, device: string | undefined): Promise<void> {
    await this.audit.action(
      { actor: caller.actor, action: 'unregisterAddress', target: caller.userId },
      async (action) => {
        const name = validateDevice(device);
        action.note.details = { device: name };
        await action.commit((m) => this.removeDevice(m, caller.userKey, name));
      },
    );
    this.cache.invalidate(caller.userKey);
  }

  private async removeDevice(m: EntityManager, userKey: string, device: string): Promise<void> {
    await this.repository.lockUser(m, userKey);
    // a lapsed binding already counts as removed (spec §8): 2303, and the purge deletes it
    if (!(await this.repository.deleteBinding(m, userKey, device)))
      throw notFound(`no binding for device ${device}`);
    await this.publish(m, { k: 'presence', o: userKey });
  }

  /**
   * `lookupAddress`: the user's live bindings, most recently updated first, each with
   * the owner's certificate fingerprints (spec §8); another domain → a referral;
   * refused per the owner's policy with 2201 (spec §8.1).
   */
  async lookup(caller: AddressCaller, ref: string): Promise<LookupResult> {
    const target = await this.resolve(ref);
    if ('referral' in target) return target;
    const view = await this.cache.view(target.userKey);
    if (watchStatus(target.userKey, caller.userKey, view.access) !== 'active') throw forbidden();
    return { user: this.addressOf(target.userId), bindings: wireBindings(view) };
  }

  // ---- subscriptions, spec §8, §8.1 ----------------------------------------------------

  /**
   * `subscribe`: atomic over all named users — any unknown (2303) or refusing the
   * caller (2201) and nothing changes. Under `watchers` a non-approved caller gets a
   * pending subscription and the owner a `watch-request`. The first `presence`
   * notify of each active subscription follows the response.
   */
  async subscribe(
    caller: AddressCaller,
    session: IrpSession,
    refs: readonly string[],
  ): Promise<SubscribeResult> {
    return this.audit.action(
      { actor: caller.actor, action: 'subscribe', target: refs.length === 1 ? refs[0] : undefined },
      async (action) => {
        const targets: DirectoryUser[] = [];
        for (const ref of refs) {
          const target = await this.resolve(ref);
          if ('referral' in target) throw notFound(`${ref} is not a user of ${this.config.domain}`);
          if (!targets.some((t) => t.userKey === target.userKey)) targets.push(target);
        }
        action.note.details = { users: targets.map((t) => this.addressOf(t.userId)) };
        if (targets.length === 1) action.note.target = this.addressOf(targets[0]!.userId);
        const existing = this.hub.subscriptionsOf(session);
        const added = targets.filter((t) => !existing.has(t.userKey)).length;
        if (existing.size + added > this.config.maxSubscriptions) {
          throw new DomainError(
            DomainErrorCode.Policy,
            `Parameter value policy error: at most ${this.config.maxSubscriptions} subscriptions per session`,
            { field: 'user' },
          );
        }
        const statuses = await action.commit(async (m) => {
          await this.repository.lockUsers(
            m,
            targets.map((t) => t.userKey),
          );
          const result: Subscription['status'][] = [];
          for (const target of targets) result.push(await this.admit(m, caller, target));
          return result;
        });
        const subscriptions = targets.map((target, i) => ({
          user: this.addressOf(target.userId),
          status: statuses[i]!,
        }));
        targets.forEach((target, i) => {
          this.hub.add(session, {
            ownerKey: target.userKey,
            ownerAddress: subscriptions[i]!.user,
            status: statuses[i]!,
          });
          this.hub.start(session, target.userKey);
        });
        return { subscriptions, pending: statuses.includes('pending') };
      },
    );
  }

  /** Decides one subscription in the transaction of `subscribe` (spec §8.1). */
  private async admit(
    m: EntityManager,
    caller: AddressCaller,
    target: DirectoryUser,
  ): Promise<Subscription['status']> {
    if (target.userKey === caller.userKey) return 'active';
    const { visibility, watcher } = await this.repository.accessOf(
      m,
      target.userKey,
      caller.userKey,
    );
    switch (visibility) {
      case 'domain':
        return 'active';
      case 'nobody':
        throw forbidden();
      case 'watchers':
        if (watcher === 'approved') return 'active';
        if (await this.repository.addRequest(m, target.userKey, caller.userKey)) {
          await this.publish(m, { k: 'request', o: target.userKey, w: caller.userId });
        }
        return 'pending';
    }
  }

  /**
   * `unsubscribe`: ends the named subscriptions of this session (all with no user).
   * Decision: naming a user without a subscription is not an error; a pending watch
   * request stays recorded for the owner.
   */
  unsubscribe(session: IrpSession, refs: readonly string[]): void {
    const subscriptions = this.hub.subscriptionsOf(session);
    if (refs.length === 0) {
      this.hub.dropSession(session);
      return;
    }
    for (const ref of refs) {
      let userId: string | undefined;
      try {
        userId = resolveUserRef(ref, this.config.domain);
      } catch {
        continue; // cannot name a subscription
      }
      if (userId === undefined) continue;
      const address = this.addressOf(userId);
      for (const sub of [...subscriptions.values()])
        if (sub.ownerAddress === address) this.hub.remove(session, sub.ownerKey);
    }
  }

  // ---- policy and watchers, spec §8.1 --------------------------------------------------

  /**
   * `setAddressPolicy`. Subscriptions the new policy no longer allows end with
   * `watch-removed` on every instance. Moving to `nobody` drops pending requests;
   * moving to `domain` turns them into active subscriptions (Decision: the requests
   * are dropped, not approved — approvals are only ever the owner's explicit act).
   */
  async setPolicy(caller: AddressCaller, visibility: AddressVisibility): Promise<void> {
    await this.audit.transaction(
      {
        actor: caller.actor,
        action: 'setAddressPolicy',
        target: caller.userId,
        details: { visibility },
      },
      async (m) => {
        await this.repository.lockUser(m, caller.userKey);
        await this.repository.setVisibility(m, caller.userKey, visibility);
        if (visibility !== 'watchers') await this.repository.deletePending(m, caller.userKey);
        await this.publish(m, { k: 'access', o: caller.userKey });
      },
    );
    this.cache.invalidate(caller.userKey);
  }

  /** `listWatchers`: approved watchers and pending requests, oldest first (spec §8.1). */
  async listWatchers(caller: AddressCaller): Promise<Watcher[]> {
    const rows = await this.repository.listWatchers(this.dataSource.manager, caller.userKey);
    return rows.map((r) => ({ user: this.addressOf(r.userId), status: r.status, since: r.since }));
  }

  /**
   * `approveWatcher`: approves a pending request — its subscriber's session gets its
   * first `presence` at once — or approves a user ahead of any request (Decision).
   * Unknown user → 2303; oneself → 2004.
   */
  async approveWatcher(caller: AddressCaller, ref: string): Promise<void> {
    await this.audit.action(
      { actor: caller.actor, action: 'approveWatcher', target: ref },
      async (action) => {
        const watcher = await this.watcherOf(caller, ref);
        action.note.target = this.addressOf(watcher.userId);
        await action.commit(async (m) => {
          await this.repository.lockUser(m, caller.userKey);
          await this.repository.approve(m, caller.userKey, watcher.userKey);
          await this.publish(m, { k: 'access', o: caller.userKey });
        });
      },
    );
    this.cache.invalidate(caller.userKey);
  }

  /**
   * `removeWatcher`: withdraws an approval or denies a pending request; the watcher's
   * subscriptions end with `watch-removed` (spec §8.1). Neither → 2303.
   */
  async removeWatcher(caller: AddressCaller, ref: string): Promise<void> {
    await this.audit.action(
      { actor: caller.actor, action: 'removeWatcher', target: ref },
      async (action) => {
        const watcher = await this.watcherOf(caller, ref);
        action.note.target = this.addressOf(watcher.userId);
        await action.commit(async (m) => {
          await this.repository.lockUser(m, caller.userKey);
          const before = await this.repository.removeWatcher(m, caller.userKey, watcher.userKey);
          if (!before) throw notFound(`${this.addressOf(watcher.userId)} is not a watcher`);
          await this.publish(m, { k: 'unwatch', o: caller.userKey, w: watcher.userKey });
          await this.publish(m, { k: 'access', o: caller.userKey });
        });
      },
    );
    this.cache.invalidate(caller.userKey);
  }

  private async watcherOf(caller: AddressCaller, ref: string): Promise<DirectoryUser> {
    const target = await this.resolve(ref, { anyStatus: true });
    if ('referral' in target) throw notFound(`${ref} is not a user of ${this.config.domain}`);
    if (target.userKey === caller.userKey) {
      throw new DomainError(
        DomainErrorCode.ValueRange,
        'Parameter value range error: you always see your own addresses',
        {
          field: 'user',
        },
      );
    }
    return target;
  }

  // ---- for other features -------------------------------------------------------------

  /**
   * Spec §8: when a certificate is revoked, the bindings registered in sessions
   * authenticated with it go at once and watchers are told. For the PKI feature, to
   * call inside its revocation transaction. Returns the owners affected.
   */
  async removeBindingsOfCertificate(m: EntityManager, serial: string): Promise<string[]> {
    const owners = await this.repository.deleteByCertificate(m, serial.toLowerCase());
    for (const owner of owners) await this.publish(m, { k: 'presence', o: owner });
    return owners;
  }

  /** Removes every binding of a user (an operator action, a deleted account) inside `m`'s transaction. */
  async removeAllBindings(m: EntityManager, userKey: string): Promise<number> {
    await this.repository.lockUser(m, userKey);
    const live = await this.repository.deleteAllOfUser(m, userKey);
    await this.publish(m, { k: 'presence', o: userKey });
    return live;
  }

  /**
   * The user's certificates changed (issued, revoked): bindings carry their
   * fingerprints, so every instance drops the fingerprints it cached and watchers get
   * a fresh `presence`. For the PKI feature, inside its transaction — in EVERY
   * transaction that changes which of the user's certificates are valid (a binding
   * change never reloads them).
   */
  async certificatesChanged(m: EntityManager, userKey: string): Promise<void> {
    await this.publish(m, { k: 'presence', o: userKey, certificates: true });
  }

  // ---- helpers ------------------------------------------------------------------------

  private publish(m: EntityManager, event: AddressEvent): Promise<void> {
    return this.bus.publish(m, ADDRESS_TOPIC, encodeAddressEvent(event));
  }

  private addressOf(userId: string): string {
    return `${userId}@${this.config.domain}`;
  }

  /**
   * A `user` parameter (user id or IRP address, spec §8) as a directory user; a user
   * of another domain as a referral. Unknown → 2303; not active → 2304 unless
   * `anyStatus` (Decision: a disabled or pending user's addresses are not handed out).
   */
  private async resolve(
    ref: string,
    options: { anyStatus?: boolean } = {},
  ): Promise<DirectoryUser | { referral: string }> {
    const at = ref.lastIndexOf('@');
    const domain = at >= 0 ? ref.slice(at + 1).toLowerCase() : this.config.domain;
    if (domain !== this.config.domain) {
      if (at === 0 || !DNS_NAME.test(domain)) throw notFound();
      return { referral: domain };
    }
    let userId: string | undefined;
    try {
      userId = resolveUserRef(ref, this.config.domain);
    } catch {
      // a user id that cannot exist does not exist
      throw notFound();
    }
    if (userId === undefined) throw notFound();
    const user = await this.cache.user(userId);
    if (!user) throw notFound();
    if (!options.anyStatus && user.status !== 'active') {
      throw new DomainError(
        DomainErrorCode.StatusProhibits,
        'Object status prohibits operation: the user is not active',
        {
          field: 'user',
        },
      );
    }
    return user;
  }
}
