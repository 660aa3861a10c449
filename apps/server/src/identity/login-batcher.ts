import { type BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  AUDIT_COLUMNS,
  type AuditColumnValues,
  auditColumnsFromText,
} from '../audit/audit.service.js';
import {
  CommitOutcomeUnknown,
  GroupCommitQueue,
  type Queued,
} from '../database/group-commit-queue.js';
import { type PreparedStatement, preparedQuery } from '../database/prepared-query.js';
import { RATE_WINDOW_MS, type RateWindow, rateSourceKey } from './source-rate-limiter.service.js';

/** The write of one SCA login that passed its checks (spec §6.2, §6.3, §13). */
export interface AdmittedScaLogin {
  /** The client's address: the attempt counts against its login rate limit. */
  sourceAddress: string;
  /** Its login rate limit per minute. */
  perMinute: number;
  /** The user id whose failure count a successful login resets. */
  subject: string;
  /** The success audit row, written only if the attempt is within the rate limit. */
  audit: AuditColumnValues;
  /** When the attempt was made (the rate-limit window). */
  now: Date;
}

type Pending = Queued<AdmittedScaLogin, RateWindow>;

/** Logins per batch at most (one statement: every login is a row of its arrays). */
export const MAX_LOGIN_BATCH = 256;
/**
 * Batches in flight at once: one. Logins from one source share its rate-limit row, whose
 * lock a second batch would wait for anyway; meanwhile the next batch gathers (figure
 * 2: 0.78× with one, 0.74× with two).
 */
export const MAX_LOGIN_BATCHES_IN_FLIGHT = 1;

/**
 * The statement of a batch: counts, resets and audit rows of every login, in arrival
 * order (a prepared statement: its text is the same for every batch).
 */
const WRITE_LOGINS: PreparedStatement = {
  name: 'irp_write_sca_logins',
  text: `WITH req AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::int[], ${AUDIT_COLUMNS.map(
           (_, j) => `$${6 + j}::text[]`,
         ).join(', ')})
           WITH ORDINALITY AS r(source, subject, per_minute, ${AUDIT_COLUMNS.map(
             (c) => `a_${c}`,
           ).join(', ')}, idx)
       ), per_source AS (
         SELECT source, count(*)::int AS k FROM req GROUP BY source
       ), counted AS (
         INSERT INTO irp_rate_limit AS r (bucket, source, window_start, hits)
         SELECT 'login', source, $4::timestamptz, k FROM per_source ORDER BY source
         ON CONFLICT (bucket, source) DO UPDATE SET
           window_start = CASE WHEN r.window_start <= $5 THEN EXCLUDED.window_start ELSE r.window_start END,
           hits = CASE WHEN r.window_start <= $5 THEN EXCLUDED.hits ELSE r.hits + EXCLUDED.hits END
         RETURNING r.source, r.window_start, r.hits
       ), ranked AS (
         SELECT req.*, c.window_start,
           (c.hits - ps.k + row_number() OVER (PARTITION BY req.source ORDER BY req.idx))::int AS hit
         FROM req JOIN counted c ON c.source = req.source JOIN per_source ps ON ps.source = req.source
       ), admitted AS (
         SELECT * FROM ranked WHERE hit <= per_minute
       ), reset AS (
         DELETE FROM irp_login_throttle WHERE subject IN (SELECT subject FROM admitted)
       ), audited AS (
         INSERT INTO irp_audit_log (${AUDIT_COLUMNS.join(', ')})
         SELECT ${auditColumnsFromText('a_')} FROM admitted ORDER BY idx
       )
       SELECT idx::int AS idx, window_start, hit AS hits FROM ranked ORDER BY idx`,
};

/**
 * Group commit of the write of `login method="sca"` (benchmark figure 2). An SCA login
 * whose certificate and user passed writes three things, atomically: it counts the
 * attempt against its source's login rate limit, and — within the limit — resets the
 * user id's failure count and writes the success audit row. Many sessions' logins go
 * as ONE statement (one round trip, one commit, one WAL flush), each with the outcome
 * it would have had alone in arrival order:
 *
 * - the attempts of one source are counted together (`hits + k`), and the i-th of them
 *   gets the window's count as it stood after it: admitted while that is within the
 *   limit — the same admissions as k single counts in arrival order; batches run one
 *   at a time, in arrival order too.
 * - only the admitted reset their user's failure count and get an audit row; the
 *   others' callers answer 2503 from the returned count;
 * - a statement is atomic: when it fails with an error from the database, nothing of
 *   it was written, and each login runs again alone (in arrival order), so that one
 *   bad login fails no other; when the connection failed instead, whether it
 *   committed is unknown, so it is not run again ({@link CommitOutcomeUnknown}; each
 *   caller answers 2400).
 *
 * A batch's attempts count in the window of its first login's `now`: they were made
 * within the batch's few milliseconds.
 */
@Injectable()
export class LoginBatcher
  extends GroupCommitQueue<AdmittedScaLogin, RateWindow>
  implements BeforeApplicationShutdown
{
  private readonly log = new Logger('LoginBatcher');

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    super(MAX_LOGIN_BATCHES_IN_FLIGHT);
  }

  /** Lets the batches in flight finish (before the database closes). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.settled();
  }

  protected take(): Pending[] {
    // in arrival order
    return this.queue.splice(0, MAX_LOGIN_BATCH);
  }

  protected async run(batch: Pending[]): Promise<void> {
    let windows: RateWindow[];
    try {
      windows = await this.write(batch.map((p) => p.item));
    } catch (error) {
      if (!outcomeKnown(error)) {
        this.log.error(
          `the statement of a batch of ${batch.length} SCA login(s) failed with an unknown outcome: ${
            error instanceof Error ? error.message : String(error)
          }`,
        );
        const unknown = new CommitOutcomeUnknown(error);
        for (const p of batch) p.reject(unknown);
        return;
      }
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      this.log.warn(
        `a batch of ${batch.length} SCA login(s) failed (${
          error instanceof Error ? error.message : String(error)
        }); running each alone`,
      );
      // one after another: the rate limit counts them in arrival order
      for (const p of batch) await this.run([p]);
      return;
    }
    batch.forEach((p, i) => p.resolve(windows[i]!));
  }

  /** The batch's statement: counts, resets and audit rows of every login, in arrival order. */
  private async write(items: AdmittedScaLogin[]): Promise<RateWindow[]> {
    const column = <T>(f: (item: AdmittedScaLogin) => T): T[] => items.map(f);
    const now = items[0]!.now;
    const rows = await preparedQuery<{ idx: number; window_start: Date; hits: number }>(
      this.dataSource,
      WRITE_LOGINS,
      [
        column((l) => rateSourceKey(l.sourceAddress)),
        column((l) => l.subject),
        column((l) => l.perMinute),
        now,
        new Date(now.getTime() - RATE_WINDOW_MS),
        ...AUDIT_COLUMNS.map((c) => column((l) => auditText(l.audit[c]))),
      ],
    );
    const windows: RateWindow[] = [];
    for (const row of rows)
      windows[row.idx - 1] = { window_start: row.window_start, hits: row.hits };
    return windows;
  }
}

function auditText(value: string | number | null): string | null {
  return value === null ? null : String(value);
}

/**
 * Whether a failed statement certainly did not commit: the database answered it with
 * an error (a SQLSTATE), other than a broken connection or a server shutting down —
 * after those the commit may have happened before the answer was lost.
 */
export function outcomeKnown(error: unknown): boolean {
  const e = error as { code?: unknown; driverError?: { code?: unknown } } | null;
  const code = e?.driverError?.code ?? e?.code;
  return (
    typeof code === 'string' &&
    /^[0-9A-Z]{5}$/.test(code) &&
    !code.startsWith('08') &&
    !code.startsWith('57P')
  );
}
