import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ResultCode } from '@irp/protocol';
import { type Actor } from '../audit/actor.js';
import { auditColumnValues } from '../audit/audit.service.js';
import { CommitOutcomeUnknown } from '../database/group-commit-queue.js';
import { settle } from '../database/testing/settle.js';
import { type SessionPeer } from '../transport/irp-session.js';
import {
  type AdmittedScaLogin,
  LoginBatcher,
  MAX_LOGIN_BATCH,
  outcomeKnown,
} from './login-batcher.js';
import { RATE_WINDOW_MS } from './source-rate-limiter.service.js';
import { type ScaIdentity } from './sca-authenticator.js';
import { startIdentityServices, type IdentityTestContext } from './testing/identity-testing.js';

const operator: Actor = { kind: 'operator', id: 'ops' };

/**
 * Group commit of SCA logins (figure 2) on the test database (PostgreSQL or embedded):
 * many logins' rate-limit counts, failure-count resets and audit rows in one statement,
 * each with the outcome it would have had alone in arrival order.
 */
describe('LoginBatcher (SCA login group commit)', () => {
  let t: IdentityTestContext;
  let batcher: LoginBatcher;
  const scaUsers = new Map<string, ScaIdentity>();
  let n = 0;

  beforeAll(async () => {
    t = await startIdentityServices(
      {},
      {
        sca: {
          authenticate: (peer: SessionPeer) =>
            Promise.resolve(scaUsers.get(peer.certificate?.toString('hex') ?? '')),
        },
      },
    );
    batcher = t.moduleRef.get(LoginBatcher);
  });
  afterAll(async () => {
    await t?.close();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  function attempt(subject: string, sourceAddress: string, perMinute: number): AdmittedScaLogin {
    return {
      sourceAddress,
      perMinute,
      subject,
      now: t.clock.now(),
      audit: auditColumnValues({
        actor: { kind: 'user', id: subject, authMethod: 'sca', sourceAddress, txn: `T-${subject}` },
        action: 'login',
        target: subject,
        resultCode: ResultCode.Success,
      }),
    };
  }

  /** `count` subjects, each with a failure count row to be reset. */
  async function subjectsWithFailures(prefix: string, count: number): Promise<string[]> {
    const subjects = Array.from({ length: count }, (_, i) => `${prefix}${++n}.${i}`);
    await t.dataSource.query(
      `INSERT INTO irp_login_throttle (subject, failures, updated_at)
       SELECT s, '["2026-11-26T00:00:00Z"]'::jsonb, now() FROM unnest($1::text[]) AS s`,
      [subjects],
    );
    return subjects;
  }

  async function auditedTargets(subjects: string[]): Promise<string[]> {
    const rows: { target: string }[] = await t.dataSource.query(
      `SELECT target FROM irp_audit_log WHERE action = 'login' AND target = ANY($1) ORDER BY id`,
      [subjects],
    );
    return rows.map((r) => r.target);
  }

  async function throttled(subjects: string[]): Promise<string[]> {
    const rows: { subject: string }[] = await t.dataSource.query(
      `SELECT subject FROM irp_login_throttle WHERE subject = ANY($1) ORDER BY subject`,
      [subjects],
    );
    return rows.map((r) => r.subject);
  }

  /** The pool the batcher's prepared statements run on (TypeORM's `master`). */
  function pool(): { query: (config: { name?: string }) => Promise<unknown> } {
    return (t.dataSource.driver as unknown as { master: ReturnType<typeof pool> }).master;
  }

  /** Statements of the batcher (by its prepared statement's name). */
  function batchStatements(): { calls: () => number } {
    const query = vi.spyOn(pool(), 'query');
    return {
      calls: () =>
        query.mock.calls.filter(([config]) => config?.name === 'irp_write_sca_logins').length,
    };
  }

  it('counts a burst from one source in arrival order: the first within the limit are admitted, reset and audited; the rest only counted', async () => {
    const source = '198.51.100.31';
    const subjects = await subjectsWithFailures('burst', 40);
    // two earlier attempts of this source in the current minute
    await batcher.submit(attempt('burst.before.1', source, 100));
    await batcher.submit(attempt('burst.before.2', source, 100));
    const statements = batchStatements();
    const results = await Promise.all(subjects.map((s) => batcher.submit(attempt(s, source, 25))));

    expect(statements.calls()).toBe(1);
    expect(results.map((w) => w.hits)).toEqual(subjects.map((_, i) => 3 + i));
    const admitted = subjects.slice(0, 23);
    const refused = subjects.slice(23);
    expect(await auditedTargets(subjects)).toEqual(admitted);
    expect(await throttled(subjects)).toEqual([...refused].sort());
    // the window's count holds every attempt, admitted or not
    const [row] = await t.dataSource.query<{ hits: number }[]>(
      `SELECT hits FROM irp_rate_limit WHERE bucket = 'login' AND source = $1`,
      [source],
    );
    expect(row?.hits).toBe(42);
  });

  it('counts several sources in one batch: an IPv6 /64 as one source, an ended window starts again', async () => {
    const stale = '203.0.113.9';
    await t.dataSource.query(
      `INSERT INTO irp_rate_limit (bucket, source, window_start, hits) VALUES ('login', $1, $2, 500)`,
      [stale, new Date(t.clock.now().getTime() - RATE_WINDOW_MS - 1000)],
    );
    const items = [
      attempt(`multi${++n}.a`, '2001:db8:7::1', 2),
      attempt(`multi${n}.b`, stale, 2),
      attempt(`multi${n}.c`, '2001:db8:7::ffff', 2),
      attempt(`multi${n}.d`, '2001:db8:7:0:1::2', 2),
      attempt(`multi${n}.e`, stale, 2),
    ];
    const statements = batchStatements();
    const results = await Promise.all(items.map((i) => batcher.submit(i)));
    expect(statements.calls()).toBe(1);
    expect(results.map((w) => w.hits)).toEqual([1, 1, 2, 3, 2]);
    expect(results[1]!.window_start.getTime()).toBe(items[1]!.now.getTime());
    // the third of the /64 is beyond its limit of 2
    expect(await auditedTargets(items.map((i) => i.subject))).toEqual(
      [0, 1, 2, 4].map((i) => items[i]!.subject),
    );
  });

  it('runs each login alone when its batch fails: one bad login fails no other', async () => {
    const subjects = await subjectsWithFailures('alone', 6);
    const items = subjects.map((s) => attempt(s, '198.51.100.32', 100));
    items[2]!.audit = { ...items[2]!.audit, details: '{not json' };
    const statements = batchStatements();
    const results = await Promise.all(items.map((i) => settle(batcher.submit(i))));
    expect(results.map((r) => r.ok)).toEqual([true, true, false, true, true, true]);
    expect(outcomeKnown((results[2] as { error: unknown }).error)).toBe(true);
    // the batch, then one statement per login, in arrival order
    expect(statements.calls()).toBe(1 + 6);
    const good = subjects.filter((_, i) => i !== 2);
    expect(await auditedTargets(subjects)).toEqual(good);
    expect(await throttled(subjects)).toEqual([subjects[2]]);
  });

  it('does not run a batch again when its outcome is unknown: each caller gets CommitOutcomeUnknown', async () => {
    const subjects = await subjectsWithFailures('unknown', 5);
    const real = pool().query.bind(pool());
    const query = vi.spyOn(pool(), 'query');
    // the statement commits, then the connection breaks before its answer arrives
    query.mockImplementationOnce(async (config) => {
      await real(config);
      throw new Error('Connection terminated unexpectedly');
    });
    const results = await Promise.all(
      subjects.map((s) => settle(batcher.submit(attempt(s, '198.51.100.33', 100)))),
    );
    for (const r of results) expect(!r.ok && r.error).toBeInstanceOf(CommitOutcomeUnknown);
    expect(query).toHaveBeenCalledTimes(1);
    // it did commit, once
    expect(await auditedTargets(subjects)).toEqual(subjects);
  });

  it(`caps a batch at ${MAX_LOGIN_BATCH} logins`, async () => {
    const statements = batchStatements();
    const count = MAX_LOGIN_BATCH * 2 + 3;
    const results = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        batcher.submit(attempt(`cap${++n}.${i}`, '198.51.100.34', 100_000)),
      ),
    );
    // every attempt counted once, in arrival order: one batch after another
    expect(results.map((w) => w.hits)).toEqual(results.map((_, i) => i + 1));
    expect(statements.calls()).toBe(3);
  });

  it('groups concurrent SCA logins through AuthService: every one logged in and audited once', async () => {
    const logins = 30;
    const peers: SessionPeer[] = [];
    for (let i = 0; i < logins; i++) {
      const userId = `grouped${++n}`;
      await t.users.createUser(operator, { userId, password: 'correct horse battery' });
      const entity = await t.users.findByUserId(userId);
      const cert = Buffer.from(`3082${(0x1000 + n).toString(16)}`, 'hex');
      scaUsers.set(cert.toString('hex'), {
        userKey: entity!.id,
        certificateSerial: 'ab'.repeat(16),
        user: entity!,
      });
      peers.push({ address: '198.51.100.35', family: 'ipv4', port: i + 1, certificate: cert });
    }
    const statements = batchStatements();
    const results = await Promise.all(
      peers.map((peer, i) =>
        t.auth.loginWithCertificate(peer, { sourceAddress: peer.address, txn: `G-${i}` }),
      ),
    );
    expect(results.every((r) => r.principal.method === 'sca')).toBe(true);
    const users = results.map((r) => r.principal.userId);
    expect(new Set(users).size).toBe(logins);
    expect((await auditedTargets(users)).sort()).toEqual([...users].sort());
    // through the batcher, in fewer statements than logins: they were grouped
    expect(statements.calls()).toBeGreaterThan(0);
    expect(statements.calls()).toBeLessThan(logins);
  });

  it('tells a database error (not committed) from a broken connection (unknown)', () => {
    expect(outcomeKnown({ code: '22P02' })).toBe(true);
    expect(outcomeKnown({ driverError: { code: '40P01' } })).toBe(true);
    expect(outcomeKnown({ code: '08006' })).toBe(false);
    expect(outcomeKnown({ code: '57P01' })).toBe(false);
    expect(outcomeKnown(new Error('Connection terminated unexpectedly'))).toBe(false);
    expect(outcomeKnown({ code: 'ECONNRESET' })).toBe(false);
  });
});
