import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type DataSource } from 'typeorm';
import { type Actor } from '../audit/actor.js';
import { DomainError, DomainErrorCode } from '../common/domain.error.js';
import { EVENT_BUS, type EventBus, type Unsubscribe } from '../events/event-bus.js';
import { PostgresEventBus } from '../events/postgres-event-bus.js';
import { type SessionPrincipal } from '../transport/irp-session.js';
import { CREDENTIAL_STAMP } from './auth.service.js';
import { fakeSession } from './testing/fake-session.js';
import { startIdentityServices, type IdentityTestContext } from './testing/identity-testing.js';
import { USER_CHANGED_TOPIC, UserStateCache, credentialStamp } from './user-state.cache.js';

const KEY_A = '00000000-0000-4000-8000-00000000000a';
const KEY_B = '00000000-0000-4000-8000-00000000000b';
const KEY_C = '00000000-0000-4000-8000-00000000000c';

/** An in-memory bus: `emit` plays an event from any instance, `reset` a reconnect. */
class FakeBus implements EventBus {
  healthy = true;
  private readonly handlers = new Set<(payload: string) => void>();
  private readonly resets = new Set<() => void>();
  publish(): Promise<void> {
    return Promise.resolve();
  }
  subscribe(topic: string, handler: (payload: string) => void): Promise<Unsubscribe> {
    expect(topic).toBe(USER_CHANGED_TOPIC);
    this.handlers.add(handler);
    return Promise.resolve(() => this.handlers.delete(handler));
  }
  onReset(handler: () => void): Unsubscribe {
    this.resets.add(handler);
    return () => this.resets.delete(handler);
  }
  emit(payload: string): void {
    for (const handler of this.handlers) handler(payload);
  }
  reset(): void {
    for (const handler of this.resets) handler();
  }
}

/** A table of user rows behind `dataSource.query`; `hold()` makes the next read wait. */
function fakeTable() {
  const rows = new Map<string, { status: string; hash: string }>();
  let gate: Promise<void> | undefined;
  const query = vi.fn(async (_sql: string, params: unknown[]) => {
    const key = params[0] as string;
    const snapshot = rows.get(key);
    const row = snapshot && { ...snapshot };
    if (gate) await gate;
    return row
      ? [{ id: key, user_id: `u-${key.slice(-1)}`, status: row.status, password_hash: row.hash }]
      : [];
  });
  return {
    rows,
    query,
    dataSource: { query } as unknown as DataSource,
    hold(): () => void {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

async function cacheWith(
  limits = { maxEntries: 100, ttlMs: 60_000 },
): Promise<{ cache: UserStateCache; bus: FakeBus; table: ReturnType<typeof fakeTable> }> {
  const table = fakeTable();
  const bus = new FakeBus();
  const cache = new UserStateCache(table.dataSource, bus, limits);
  await cache.onModuleInit();
  for (const key of [KEY_A, KEY_B, KEY_C]) table.rows.set(key, { status: 'active', hash: 'h1' });
  return { cache, bus, table };
}

describe('UserStateCache (in memory)', () => {
  it('reads a user once, then answers from memory, without the password hash', async () => {
    const { cache, table } = await cacheWith();
    const first = await cache.get(KEY_A);
    expect(first).toEqual({
      id: KEY_A,
      userId: 'u-a',
      status: 'active',
      stamp: credentialStamp('h1'),
    });
    expect(await cache.get(KEY_A)).toBe(first);
    expect(table.query).toHaveBeenCalledTimes(1);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('does not cache a user that does not exist', async () => {
    const { cache, table } = await cacheWith();
    table.rows.delete(KEY_A);
    expect(await cache.get(KEY_A)).toBeUndefined();
    table.rows.set(KEY_A, { status: 'active', hash: 'h1' });
    expect((await cache.get(KEY_A))?.status).toBe('active');
  });

  it('drops a user on its event and on a local invalidation', async () => {
    const { cache, bus, table } = await cacheWith();
    await cache.get(KEY_A);
    await cache.get(KEY_B);
    table.rows.set(KEY_A, { status: 'disabled', hash: 'h1' });
    table.rows.set(KEY_B, { status: 'disabled', hash: 'h1' });
    expect((await cache.get(KEY_A))?.status).toBe('active'); // cached: no event yet
    bus.emit(KEY_A);
    cache.invalidate(KEY_B);
    expect((await cache.get(KEY_A))?.status).toBe('disabled');
    expect((await cache.get(KEY_B))?.status).toBe('disabled');
  });

  it('shares one read between concurrent callers', async () => {
    const { cache, table } = await cacheWith();
    const release = table.hold();
    const all = Promise.all([cache.get(KEY_A), cache.get(KEY_A), cache.get(KEY_A)]);
    release();
    const [x, y, z] = await all;
    expect(x).toBe(y);
    expect(y).toBe(z);
    expect(table.query).toHaveBeenCalledTimes(1);
  });

  it('returns but does not keep a read that overlapped an invalidation', async () => {
    const { cache, bus, table } = await cacheWith();
    const release = table.hold();
    const before = cache.get(KEY_A); // reads the row as it was
    table.rows.set(KEY_A, { status: 'disabled', hash: 'h1' });
    bus.emit(KEY_A); // ...and the change commits meanwhile
    // a caller after the event does not join the stale read
    const after = cache.get(KEY_A);
    release();
    expect((await before)?.status).toBe('active');
    expect((await after)?.status).toBe('disabled');
    expect((await cache.get(KEY_A))?.status).toBe('disabled');
    expect(table.query).toHaveBeenCalledTimes(2);
  });

  it('keeps nothing while the bus is unhealthy, and forgets everything on a reset', async () => {
    const { cache, bus, table } = await cacheWith();
    await cache.get(KEY_A);
    bus.healthy = false;
    table.rows.set(KEY_A, { status: 'disabled', hash: 'h1' });
    expect((await cache.get(KEY_A))?.status).toBe('disabled');
    table.rows.set(KEY_A, { status: 'active', hash: 'h2' });
    expect((await cache.get(KEY_A))?.stamp).toBe(credentialStamp('h2'));
    expect(table.query).toHaveBeenCalledTimes(3);
    bus.healthy = true;
    // the entry from before the outage is still there, possibly stale: the reset drops it
    bus.reset();
    expect(cache.size).toBe(0);
    expect((await cache.get(KEY_A))?.stamp).toBe(credentialStamp('h2'));
  });

  it('caches nothing before it listens for events', async () => {
    const table = fakeTable();
    table.rows.set(KEY_A, { status: 'active', hash: 'h1' });
    const cache = new UserStateCache(table.dataSource, new FakeBus(), {
      maxEntries: 10,
      ttlMs: 60_000,
    });
    await cache.get(KEY_A);
    await cache.get(KEY_A);
    expect(table.query).toHaveBeenCalledTimes(2);
    expect(cache.size).toBe(0);
  });

  it('forgets everything on a payload that is not a user key', async () => {
    const { cache, bus } = await cacheWith();
    await cache.get(KEY_A);
    await cache.get(KEY_B);
    bus.emit('not-a-key');
    expect(cache.size).toBe(0);
  });

  it('evicts the least recently used user beyond maxEntries', async () => {
    const { cache, table } = await cacheWith({ maxEntries: 2, ttlMs: 60_000 });
    await cache.get(KEY_A);
    await cache.get(KEY_B);
    await cache.get(KEY_A); // A is now the most recently used
    await cache.get(KEY_C); // evicts B
    expect(cache.size).toBe(2);
    table.query.mockClear();
    await cache.get(KEY_A);
    await cache.get(KEY_C);
    expect(table.query).not.toHaveBeenCalled();
    await cache.get(KEY_B);
    expect(table.query).toHaveBeenCalledTimes(1);
  });

  it('reads a user again once its entry is older than ttlMs (± 25 %)', async () => {
    const { cache, table } = await cacheWith({ maxEntries: 10, ttlMs: 40 });
    await cache.get(KEY_A);
    await cache.get(KEY_A);
    expect(table.query).toHaveBeenCalledTimes(1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    await cache.get(KEY_A);
    expect(table.query).toHaveBeenCalledTimes(2);
  });

  it('track() invalidates the users a unit of work named, also when it failed', async () => {
    const { cache, table } = await cacheWith();
    await cache.get(KEY_A);
    await cache.get(KEY_B);
    const manager = {} as Parameters<UserStateCache['publishChange']>[0];
    await cache.track(async (changed) => changed(manager, KEY_A));
    await expect(
      cache.track(async (changed) => {
        await changed(manager, KEY_B);
        throw new Error('commit outcome unknown');
      }),
    ).rejects.toThrow('unknown');
    table.query.mockClear();
    await cache.get(KEY_A);
    await cache.get(KEY_B);
    expect(table.query).toHaveBeenCalledTimes(2);
  });
});

/**
 * The session check (AuthService.sessionUser) over the cache, on the test database
 * (PostgreSQL or embedded) and its real event bus. "Another instance" is played by
 * what one does: change the row and publish `user_changed` in one transaction.
 */
describe('UserStateCache behind AuthService.sessionUser', () => {
  const operator: Actor = { kind: 'operator', id: 'ops' };
  const PW = 'correct horse battery';
  let t: IdentityTestContext;
  let bus: EventBus;

  beforeAll(async () => {
    t = await startIdentityServices();
    bus = t.moduleRef.get(EVENT_BUS);
  });
  afterAll(async () => {
    await t?.close();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** A new active user, and a logged-in (fake) session of theirs. */
  async function loggedIn(userId: string) {
    await t.users.createUser(operator, { userId, password: PW });
    const login = await t.auth.loginWithPassword(
      { user: userId, password: PW },
      { sourceAddress: '192.0.2.1' },
    );
    const principal: SessionPrincipal = login.principal;
    const session = fakeSession(principal);
    session.attributes.set(CREDENTIAL_STAMP, login.credentialStamp);
    return { session, userKey: principal.userKey };
  }

  /** Counts the cache's reads of user rows from now on. */
  function countReads(): () => number {
    const reads = vi.spyOn(t.dataSource, 'query');
    return () =>
      reads.mock.calls.filter((c) => String(c[0]).includes('FROM irp_user WHERE id')).length;
  }

  /** The error code a session check ends with, or 'ok'. */
  async function check(session: ReturnType<typeof fakeSession>): Promise<string> {
    try {
      await t.auth.sessionUser(session);
      return 'ok';
    } catch (error) {
      if (error instanceof DomainError) return error.code;
      throw error;
    }
  }

  /** What another instance does: change the row and announce it, in one transaction. */
  async function changeElsewhere(userKey: string, set: string, announce = true): Promise<void> {
    await t.dataSource.transaction(async (m) => {
      await m.query(`UPDATE irp_user SET ${set} WHERE id = $1`, [userKey]);
      if (announce) await bus.publish(m, USER_CHANGED_TOPIC, userKey);
    });
  }

  /** Polls `probe` until it returns `want` (the event's delay), at most `ms`. */
  async function eventually(probe: () => Promise<string>, want: string, ms = 1000) {
    const deadline = Date.now() + ms;
    let got = await probe();
    while (got !== want && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      got = await probe();
    }
    return got;
  }

  /** Stops events from reaching this instance's handlers (they are delivered late, or never). */
  function muteEvents(): void {
    vi.spyOn(bus as unknown as { dispatch(): void }, 'dispatch').mockImplementation(
      () => undefined,
    );
  }

  it('answers repeated checks of a session from memory: one read of the user', async () => {
    const { session } = await loggedIn('cache.hit');
    const readCount = countReads();
    for (let i = 0; i < 5; i++) expect(await check(session)).toBe('ok');
    expect(readCount()).toBe(1);
  });

  it('sees a disable made on this instance at the very next check, before its event arrives', async () => {
    const { session } = await loggedIn('local.disable');
    expect(await check(session)).toBe('ok');
    muteEvents();
    await t.users.disableUser(operator, 'local.disable');
    expect(await check(session)).toBe(DomainErrorCode.StatusProhibits);
    expect(session.close).toHaveBeenCalledWith('disabled');
  });

  it('sees a password reset made on this instance at the very next check, before its event arrives', async () => {
    const { session } = await loggedIn('local.reset');
    expect(await check(session)).toBe('ok');
    muteEvents();
    await t.users.resetPassword(operator, 'local.reset', 'another long password');
    expect(await check(session)).toBe(DomainErrorCode.AuthenticationFailed);
    expect(session.close).toHaveBeenCalledWith('password-changed');
  });

  it('keeps a cached "disabled" no longer than enableUser on this instance', async () => {
    const { session } = await loggedIn('local.enable');
    await t.users.disableUser(operator, 'local.enable');
    muteEvents();
    expect(await check(session)).toBe(DomainErrorCode.StatusProhibits); // now cached
    await t.users.enableUser(operator, 'local.enable');
    const next = fakeSession(session.principal!);
    next.attributes.set(CREDENTIAL_STAMP, session.attributes.get(CREDENTIAL_STAMP));
    expect(await check(next)).toBe('ok');
  });

  it('drops a user when another instance announces a change (disable, then password)', async () => {
    const { session, userKey } = await loggedIn('remote.change');
    expect(await check(session)).toBe('ok');
    // a change nobody announces is not seen: the state really is cached
    await changeElsewhere(userKey, `status = 'disabled'`, false);
    expect(await check(session)).toBe('ok');
    // the announcement of any later change drops it
    await changeElsewhere(userKey, `updated_at = now()`);
    expect(await eventually(() => check(session), DomainErrorCode.StatusProhibits)).toBe(
      DomainErrorCode.StatusProhibits,
    );
    expect(session.close).toHaveBeenCalledWith('disabled');

    const second = await loggedIn('remote.password');
    expect(await check(second.session)).toBe('ok');
    await changeElsewhere(second.userKey, `password_hash = 'elsewhere'`);
    expect(
      await eventually(() => check(second.session), DomainErrorCode.AuthenticationFailed),
    ).toBe(DomainErrorCode.AuthenticationFailed);
    expect(second.session.close).toHaveBeenCalledWith('password-changed');
  });

  it('never closes a session on a cached refusal the row no longer confirms (re-enabled elsewhere)', async () => {
    const { session, userKey } = await loggedIn('stale.refusal');
    await t.users.disableUser(operator, 'stale.refusal');
    expect(await check(session)).toBe(DomainErrorCode.StatusProhibits); // "disabled" now cached
    await changeElsewhere(userKey, `status = 'active'`, false); // its event not here yet
    const next = fakeSession(session.principal!);
    next.attributes.set(CREDENTIAL_STAMP, session.attributes.get(CREDENTIAL_STAMP));
    expect(await check(next)).toBe('ok');
    expect(next.close).not.toHaveBeenCalled();
  });

  it('never closes a session logged in with a password newer than the cached one', async () => {
    const { session, userKey } = await loggedIn('stale.stamp');
    expect(await check(session)).toBe('ok'); // the old stamp is cached
    await changeElsewhere(userKey, `password_hash = 'changed elsewhere'`, false);
    const newer = fakeSession(session.principal!);
    newer.attributes.set(CREDENTIAL_STAMP, credentialStamp('changed elsewhere'));
    expect(await check(newer)).toBe('ok');
    expect(newer.close).not.toHaveBeenCalled();
    // while the session of the old password is closed
    expect(await check(session)).toBe(DomainErrorCode.AuthenticationFailed);
  });

  it('reads the database at every check while the bus is unhealthy', async () => {
    const { session, userKey } = await loggedIn('bus.down');
    expect(await check(session)).toBe('ok');
    vi.spyOn(bus, 'healthy', 'get').mockReturnValue(false);
    const readCount = countReads();
    expect(await check(session)).toBe('ok');
    expect(await check(session)).toBe('ok');
    expect(readCount()).toBe(2);
    // a change whose event is lost is seen at once
    await changeElsewhere(userKey, `status = 'disabled'`, false);
    expect(await check(session)).toBe(DomainErrorCode.StatusProhibits);
  });

  it('forgets everything when the bus reports that events may have been lost', async () => {
    const { session, userKey } = await loggedIn('bus.reset');
    expect(await check(session)).toBe('ok');
    await changeElsewhere(userKey, `status = 'disabled'`, false); // its event was "lost"
    expect(await check(session)).toBe('ok');
    // what NotifyEventBus does when its LISTEN connection comes back
    const notify = bus as unknown as { setHealthy(healthy: boolean): void };
    notify.setHealthy(false);
    notify.setHealthy(true);
    expect(await check(session)).toBe(DomainErrorCode.StatusProhibits);
  });

  it.runIf(process.env.TEST_DATABASE_URL)(
    'forgets everything after the LISTEN connection really broke and came back',
    async () => {
      const { session, userKey } = await loggedIn('bus.broken');
      expect(await check(session)).toBe('ok');
      expect(bus).toBeInstanceOf(PostgresEventBus);
      const reset = new Promise<void>((resolve) => {
        const stop = bus.onReset(() => {
          stop();
          resolve();
        });
      });
      await changeElsewhere(userKey, `status = 'disabled'`, false);
      await (bus as PostgresEventBus).breakConnectionForTest();
      await reset;
      expect(bus.healthy).toBe(true);
      expect(await check(session)).toBe(DomainErrorCode.StatusProhibits);
    },
  );

  it('never serves profile data from the cache: info shows a change made elsewhere at once', async () => {
    const { session, userKey } = await loggedIn('profile.fresh');
    const me = await t.auth.sessionUser(session);
    expect(me.entity).toMatchObject({ id: userKey, userId: 'profile.fresh' });
    expect(me.entity).not.toHaveProperty('passwordHash');
    await changeElsewhere(userKey, `display_name = 'Changed Elsewhere'`, false);
    const again = await t.auth.sessionUser(session);
    expect((await t.users.info(again.entity)).displayName).toBe('Changed Elsewhere');
  });

  it('changePassword re-checks the row it reads: a password changed elsewhere closes the session, uncounted', async () => {
    const { session, userKey } = await loggedIn('cp.elsewhere');
    const me = await t.auth.sessionUser(session);
    await changeElsewhere(userKey, `password_hash = 'elsewhere'`, false); // event not yet here
    expect(await check(session)).toBe('ok'); // cached
    await expect(
      t.auth.changePassword(me, PW, 'a brand new password', {
        sourceAddress: '192.0.2.1',
        keepSession: session,
      }),
    ).rejects.toMatchObject({ code: DomainErrorCode.AuthenticationFailed });
    expect(session.close).toHaveBeenCalledWith('password-changed');
    expect(await t.audit.list({ target: 'cp.elsewhere', action: 'changePassword' })).toEqual([]);
  });

  it('announces every change of a user row made by the identity services', async () => {
    const all: string[] = [];
    const stop = await bus.subscribe(USER_CHANGED_TOPIC, (key) => all.push(key));
    const { userKey, session } = await loggedIn('announced'); // createUser
    const keys = (): string[] => all.filter((key) => key === userKey);
    const me = await t.auth.sessionUser(session);
    await t.users.updateProfile({ kind: 'user', id: 'announced' }, me.entity, {
      profile: { title: 'T' },
    });
    await t.users.setUpaEnabled(operator, 'announced', false);
    await t.users.setUpaEnabled(operator, 'announced', true);
    await t.auth.changePassword(me, PW, 'second long password', {
      sourceAddress: '192.0.2.1',
      keepSession: session,
    });
    await t.auth.loginWithPassword(
      { user: 'announced', password: 'second long password', newPassword: 'third long password' },
      { sourceAddress: '192.0.2.1' },
    );
    await t.users.resetPassword(operator, 'announced', 'fourth long password');
    await t.users.disableUser(operator, 'announced');
    await t.users.enableUser(operator, 'announced');
    // createUser, update, setUpaEnabled ×2, changePassword, login newPassword, reset, disable, enable
    const deadline = Date.now() + 2000;
    while (keys().length < 9 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 50));
    stop();
    expect(keys()).toHaveLength(9);
  });

  it('announces enroll, and nothing for a refused change', async () => {
    await t.users.createUser(operator, { userId: 'enr.cache' });
    const { code } = await t.users.createEnrollmentCode(operator, 'enr.cache');
    const userKey = (await t.users.findByUserId('enr.cache'))!.id;
    const all: string[] = [];
    const stop = await bus.subscribe(USER_CHANGED_TOPIC, (key) => all.push(key));
    const keys = (): string[] => all.filter((key) => key === userKey);
    await expect(
      t.users.resetPassword(operator, 'enr.cache', 'a long enough password'),
    ).rejects.toMatchObject({ code: DomainErrorCode.StatusProhibits }); // pending: rolled back
    const enrolled = await t.auth.enroll(
      { userId: 'enr.cache', code, password: 'a long enough password' },
      { sourceAddress: '192.0.2.1' },
    );
    expect(enrolled.principal.userKey).toBe(userKey);
    const deadline = Date.now() + 2000;
    while (keys().length < 1 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 50));
    stop();
    expect(keys()).toEqual([userKey]);
  });
});
