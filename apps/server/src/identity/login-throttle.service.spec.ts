import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LOCKOUT_POLICY,
  LoginThrottle,
  lockSeconds,
  type FailureOutcome,
} from './login-throttle.service.js';
import { startIdentityServices, type IdentityTestContext } from './testing/identity-testing.js';

/** Spec §6.3 lockout state in the database (PostgreSQL or embedded). */
describe('LoginThrottle', () => {
  let t: IdentityTestContext;
  let throttle: LoginThrottle;
  const MIN = 60_000;

  beforeAll(async () => {
    t = await startIdentityServices();
    throttle = t.moduleRef.get(LoginThrottle);
  });
  afterAll(async () => {
    await t?.close();
  });

  function fail(subject: string, at: number): Promise<FailureOutcome> {
    return t.dataSource.transaction((m) => throttle.recordFailure(m, subject, new Date(at)));
  }
  function retryAfter(subject: string, at: number): Promise<number> {
    return throttle.retryAfter(t.dataSource.manager, subject, new Date(at));
  }

  it('grows the lock period: 60 s, doubling, at most an hour', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(lockSeconds)).toEqual([
      60, 120, 240, 480, 960, 1920, 3600, 3600,
    ]);
  });

  it('locks at the 5th failure within 15 minutes, for 60 s', async () => {
    const t0 = Date.parse('2030-01-01T00:00:00Z');
    for (let i = 0; i < 4; i++)
      expect(await fail('five', t0 + i * MIN)).toEqual({ kind: 'counted', failures: i + 1 });
    expect(await retryAfter('five', t0 + 4 * MIN)).toBe(0);
    expect(await fail('five', t0 + 4 * MIN)).toEqual({
      kind: 'counted',
      failures: 5,
      lockSeconds: 60,
    });
    expect(await retryAfter('five', t0 + 4 * MIN)).toBe(60);
    expect(await retryAfter('five', t0 + 4 * MIN + 59_500)).toBe(1);
    expect(await retryAfter('five', t0 + 5 * MIN)).toBe(0);
  });

  it('slides the window: failures older than 15 minutes no longer count', async () => {
    const t0 = Date.parse('2030-01-02T00:00:00Z');
    for (let i = 0; i < 4; i++) await fail('slide', t0 + i * 1000);
    // 15 min after the first failure it has left the window: this is the 4th, not the 5th
    const outcome = await fail('slide', t0 + LOCKOUT_POLICY.windowMs);
    expect(outcome).toEqual({ kind: 'counted', failures: 4 });
    expect(await fail('slide', t0 + LOCKOUT_POLICY.windowMs + 1)).toMatchObject({
      failures: 5,
      lockSeconds: 60,
    });
  });

  it('does not count or extend during a lock; the next lock of the streak lasts twice as long', async () => {
    const t0 = Date.parse('2030-01-03T00:00:00Z');
    for (let i = 0; i < 5; i++) await fail('streak', t0);
    expect(await fail('streak', t0 + 30_000)).toEqual({ kind: 'locked', retryAfter: 30 });
    expect(await retryAfter('streak', t0 + 30_000)).toBe(30); // not extended
    // after the lock: counting starts from zero
    const after = t0 + MIN;
    for (let i = 0; i < 4; i++)
      expect(await fail('streak', after + i)).toMatchObject({ failures: i + 1 });
    expect(await fail('streak', after + 4)).toMatchObject({ failures: 5, lockSeconds: 120 });
    expect(await retryAfter('streak', after + 4)).toBe(120);
  });

  it('ends a streak 24 hours after its last lock', async () => {
    const t0 = Date.parse('2030-01-04T00:00:00Z');
    for (let i = 0; i < 5; i++) await fail('decay', t0);
    const later = t0 + MIN + LOCKOUT_POLICY.streakResetMs;
    for (let i = 0; i < 4; i++) await fail('decay', later);
    expect(await fail('decay', later)).toMatchObject({ lockSeconds: 60 });
  });

  it('forgets everything at reset (a successful login)', async () => {
    const t0 = Date.parse('2030-01-05T00:00:00Z');
    for (let i = 0; i < 5; i++) await fail('reset', t0);
    await t.dataSource.transaction((m) => throttle.reset(m, 'reset'));
    expect(await retryAfter('reset', t0)).toBe(0);
    for (let i = 0; i < 4; i++) await fail('reset', t0 + MIN);
    expect(await fail('reset', t0 + MIN)).toMatchObject({ lockSeconds: 60 });
  });

  it('counts concurrent failures exactly (row lock)', async () => {
    const t0 = Date.parse('2030-01-06T00:00:00Z');
    const outcomes = await Promise.all(Array.from({ length: 7 }, () => fail('race', t0)));
    const counted = outcomes.filter((o) => o.kind === 'counted');
    expect(counted.map((o) => (o.kind === 'counted' ? o.failures : 0)).sort()).toEqual([
      1, 2, 3, 4, 5,
    ]);
    expect(outcomes.filter((o) => o.kind === 'locked')).toHaveLength(2);
  });

  it('purges rows that no longer matter and keeps those that do', async () => {
    const t0 = Date.parse('2030-01-07T00:00:00Z');
    await fail('old-failure', t0);
    for (let i = 0; i < 5; i++) await fail('recent-lock', t0);
    await throttle.purge(t.dataSource.manager, new Date(t0 + LOCKOUT_POLICY.windowMs + 1000));
    const rows = await t.dataSource.query<{ subject: string }[]>(
      `SELECT subject FROM irp_login_throttle WHERE subject IN ('old-failure', 'recent-lock')`,
    );
    expect(rows.map((r) => r.subject)).toEqual(['recent-lock']);
  });
});
