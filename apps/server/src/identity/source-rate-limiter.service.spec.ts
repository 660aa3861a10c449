import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError, DomainErrorCode } from '../common/domain.error.js';
import { SourceRateLimiter, rateSourceKey } from './source-rate-limiter.service.js';
import { startIdentityServices, type IdentityTestContext } from './testing/identity-testing.js';

describe('rateSourceKey', () => {
  it.each([
    ['192.0.2.7', '192.0.2.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:DB8:1:2::9', '2001:db8:1:2::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
  ])('%s → %s', (address, key) => {
    expect(rateSourceKey(address)).toBe(key);
  });
});

/** Per source address limits (spec §6.3) in the database (PostgreSQL or embedded). */
describe('SourceRateLimiter', () => {
  let t: IdentityTestContext;
  let limiter: SourceRateLimiter;

  beforeAll(async () => {
    t = await startIdentityServices();
    limiter = t.moduleRef.get(SourceRateLimiter);
  });
  afterAll(async () => {
    await t?.close();
  });

  async function hit(
    source: string,
    at: number,
    perMinute = 3,
    bucket: 'login' | 'register' = 'login',
  ): Promise<string> {
    try {
      await limiter.hit(t.dataSource.manager, bucket, source, perMinute, new Date(at));
      return 'ok';
    } catch (error) {
      if (error instanceof DomainError && error.code === DomainErrorCode.RateLimited) {
        return `2503+${error.options.retryAfter}`;
      }
      throw error;
    }
  }

  it('allows N per minute, then 2503 with the seconds left in the window', async () => {
    const t0 = Date.parse('2030-02-01T00:00:00Z');
    expect([
      await hit('198.51.100.1', t0),
      await hit('198.51.100.1', t0 + 1000),
      await hit('198.51.100.1', t0 + 2000),
    ]).toEqual(['ok', 'ok', 'ok']);
    expect(await hit('198.51.100.1', t0 + 20_000)).toBe('2503+40');
    expect(await hit('198.51.100.1', t0 + 59_001)).toBe('2503+1');
    expect(await hit('198.51.100.1', t0 + 60_000)).toBe('ok'); // a new window
  });

  it('keeps buckets and sources apart; an IPv6 /64 is one source', async () => {
    const t0 = Date.parse('2030-02-02T00:00:00Z');
    expect(await hit('2001:db8:5:6::1', t0, 1)).toBe('ok');
    expect(await hit('2001:db8:5:6::2', t0, 1)).toBe('2503+60');
    expect(await hit('2001:db8:5:7::1', t0, 1)).toBe('ok');
    expect(await hit('2001:db8:5:6::1', t0, 1, 'register')).toBe('ok');
  });

  it('counts concurrent attempts exactly (one atomic upsert)', async () => {
    const t0 = Date.parse('2030-02-03T00:00:00Z');
    const results = await Promise.all(Array.from({ length: 10 }, () => hit('203.0.113.9', t0, 4)));
    expect(results.filter((r) => r === 'ok')).toHaveLength(4);
  });
});
