import { Injectable } from '@nestjs/common';
import { type EntityManager } from 'typeorm';

/**
 * Spec §6.3 lockout. Decisions where the spec is silent: the window slides (any 5
 * failures within 15 minutes); locks last 60 s, doubling with each further lock of
 * the same streak (60, 120, 240 … s) up to 1 hour; a streak ends when 24 hours pass
 * after its last lock ended, or at a successful login.
 */
export const LOCKOUT_POLICY = Object.freeze({
  maxFailures: 5,
  windowMs: 15 * 60_000,
  firstLockSeconds: 60,
  maxLockSeconds: 3600,
  streakResetMs: 24 * 3600_000,
});

/** What recording a failure did. */
export type FailureOutcome =
  /** Counted; `lockSeconds` is set when this failure started a lock. */
  | { kind: 'counted'; failures: number; lockSeconds?: number }
  /** A lock was already in force: the attempt is not a failure (spec §6.3). */
  | { kind: 'locked'; retryAfter: number };

interface ThrottleRow {
  failures: number[];
  lock_level: number;
  locked_until: Date | null;
}

/** Lock period of the `level`-th lock of a streak (1-based). */
export function lockSeconds(level: number): number {
  const { firstLockSeconds, maxLockSeconds } = LOCKOUT_POLICY;
  return Math.min(firstLockSeconds * 2 ** Math.min(Math.max(level - 1, 0), 30), maxLockSeconds);
}

/** Whole seconds from `now` until `until`, at least 1 (spec §3: durations are whole seconds). */
export function secondsUntil(until: Date, now: Date): number {
  return Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
}

/**
 * Per user id lockout state (spec §6.3), in the database so that every instance and a
 * restarted server see the same locks. Counted per attempted id, whether or not the
 * user exists, so a lock tells nothing about which accounts exist. Every method takes
 * the caller's EntityManager (its transaction, when it has one).
 */
@Injectable()
export class LoginThrottle {
  /** Seconds left of a lock of `subject`, 0 when not locked. `forUpdate` locks the row. */
  async retryAfter(
    manager: EntityManager,
    subject: string,
    now: Date,
    forUpdate = false,
  ): Promise<number> {
    const rows: { locked_until: Date | null }[] = await manager.query(
      `SELECT locked_until FROM irp_login_throttle WHERE subject = $1${forUpdate ? ' FOR UPDATE' : ''}`,
      [subject],
    );
    const until = rows[0]?.locked_until;
    return until && until.getTime() > now.getTime() ? secondsUntil(until, now) : 0;
  }

  /**
   * Counts one failure of `subject` at `now`; the 5th within the window locks it.
   * Call inside a transaction: the row is locked so that concurrent failures on
   * several connections or instances count exactly.
   */
  async recordFailure(manager: EntityManager, subject: string, now: Date): Promise<FailureOutcome> {
    await manager.query(
      `INSERT INTO irp_login_throttle (subject, failures, lock_level, locked_until, updated_at)
       VALUES ($1, '[]'::jsonb, 0, NULL, $2) ON CONFLICT (subject) DO NOTHING`,
      [subject, now],
    );
    const rows: ThrottleRow[] = await manager.query(
      `SELECT failures, lock_level, locked_until FROM irp_login_throttle WHERE subject = $1 FOR UPDATE`,
      [subject],
    );
    const row = rows[0];
    if (!row) throw new Error('irp_login_throttle row vanished inside its transaction');
    const t = now.getTime();
    const lockedUntil = row.locked_until;
    // spec §6.3: attempts during a lock are not failures and do not extend it
    if (lockedUntil && lockedUntil.getTime() > t)
      return { kind: 'locked', retryAfter: secondsUntil(lockedUntil, now) };

    let level = row.lock_level;
    if (lockedUntil && t - lockedUntil.getTime() >= LOCKOUT_POLICY.streakResetMs) level = 0;
    // only failures inside the window and after the last lock ended count toward the next lock
    const windowStart = t - LOCKOUT_POLICY.windowMs;
    const lockEnd = lockedUntil?.getTime() ?? -Infinity;
    const failures = (Array.isArray(row.failures) ? row.failures : []).filter(
      (f) => f > windowStart && f >= lockEnd,
    );
    failures.push(t);

    if (failures.length >= LOCKOUT_POLICY.maxFailures) {
      level += 1;
      const seconds = lockSeconds(level);
      await manager.query(
        `UPDATE irp_login_throttle SET failures = '[]'::jsonb, lock_level = $2, locked_until = $3, updated_at = $4
         WHERE subject = $1`,
        [subject, level, new Date(t + seconds * 1000), now],
      );
      return { kind: 'counted', failures: failures.length, lockSeconds: seconds };
    }
    await manager.query(
      `UPDATE irp_login_throttle SET failures = $2::jsonb, lock_level = $3, updated_at = $4 WHERE subject = $1`,
      [subject, JSON.stringify(failures), level, now],
    );
    return { kind: 'counted', failures: failures.length };
  }

  /** A successful login: forget the failures and the streak of `subject` (spec §6.3). */
  async reset(manager: EntityManager, subject: string): Promise<void> {
    await manager.query(`DELETE FROM irp_login_throttle WHERE subject = $1`, [subject]);
  }

  /** Drops rows that no longer affect anything: no failure in the window, streak over. */
  async purge(manager: EntityManager, now: Date): Promise<void> {
    await manager.query(
      `DELETE FROM irp_login_throttle
       WHERE updated_at < $1 AND (locked_until IS NULL OR locked_until <= $2)`,
      [
        new Date(now.getTime() - LOCKOUT_POLICY.windowMs),
        new Date(now.getTime() - LOCKOUT_POLICY.streakResetMs),
      ],
    );
  }
}
