import { Injectable } from '@nestjs/common';
import { type EntityManager } from 'typeorm';
import { DomainError, DomainErrorCode } from '../common/domain.error.js';
import { RESULT_MESSAGES, ResultCode } from '@irp/protocol';
import { secondsUntil } from './login-throttle.service.js';

/** The attempts that are limited per source address (spec §6.3). */
export type RateBucket = 'login' | 'register';

/** Length of a rate-limit window: the limits are "per minute". */
export const RATE_WINDOW_MS = 60_000;

function expandIpv6(address: string): number[] | undefined {
  let a = address.split('%')[0]?.toLowerCase() ?? '';
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(a);
  if (v4) {
    const [b1, b2, b3, b4] = v4.slice(1).map(Number) as [number, number, number, number];
    a = `${a.slice(0, v4.index)}${((b1 << 8) | b2).toString(16)}:${((b3 << 8) | b4).toString(16)}`;
  }
  const halves = a.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 1 && fill !== 0) || fill < 0) return undefined;
  const groups = [...head, ...Array<string>(fill).fill('0'), ...tail].map((g) =>
    /^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN,
  );
  return groups.some(Number.isNaN) ? undefined : groups;
}

/**
 * The key a source address is limited under: an IPv4 address as is, an IPv6 address
 * by its /64 prefix (one subscriber usually holds a whole /64).
 */
export function rateSourceKey(address: string): string {
  if (!address.includes(':')) return address;
  const groups = expandIpv6(address);
  if (!groups) return address.toLowerCase();
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** A window's count after an attempt was counted. */
export interface RateWindow {
  window_start: Date;
  hits: number;
}

/** 2503 with `retryAfter` when `window` counts more than `perMinute` attempts. */
export function checkRateWindow(
  window: RateWindow | undefined,
  perMinute: number,
  now: Date,
): void {
  if (window && window.hits > perMinute) {
    throw new DomainError(
      DomainErrorCode.RateLimited,
      RESULT_MESSAGES[ResultCode.RateLimitExceeded],
      {
        retryAfter: secondsUntil(new Date(window.window_start.getTime() + RATE_WINDOW_MS), now),
      },
    );
  }
}

/**
 * Per source address limits on `login` and `register` attempts (spec §6.3), as
 * fixed one-minute windows in the database: every instance sharing the database
 * enforces one limit, and a restart does not reset it. One atomic UPSERT per attempt.
 */
@Injectable()
export class SourceRateLimiter {
  /**
   * Counts an attempt of `source` in `bucket`; beyond `perMinute` attempts in the
   * current window throws 2503 with `retryAfter` = seconds until the window ends.
   */
  async hit(
    manager: EntityManager,
    bucket: RateBucket,
    source: string,
    perMinute: number,
    now: Date,
  ): Promise<void> {
    const rows: RateWindow[] = await manager.query(
      `INSERT INTO irp_rate_limit AS r (bucket, source, window_start, hits) VALUES ($1, $2, $3, 1)
       ON CONFLICT (bucket, source) DO UPDATE SET
         window_start = CASE WHEN r.window_start <= $4 THEN EXCLUDED.window_start ELSE r.window_start END,
         hits = CASE WHEN r.window_start <= $4 THEN 1 ELSE r.hits + 1 END
       RETURNING window_start, hits`,
      [bucket, rateSourceKey(source), now, new Date(now.getTime() - RATE_WINDOW_MS)],
    );
    checkRateWindow(rows[0], perMinute, now);
  }

  /** Drops windows that ended. */
  async purge(manager: EntityManager, now: Date): Promise<void> {
    await manager.query(`DELETE FROM irp_rate_limit WHERE window_start < $1`, [
      new Date(now.getTime() - RATE_WINDOW_MS),
    ]);
  }
}
