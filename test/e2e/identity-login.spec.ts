import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IrpClient } from '@irp/client';
import { ResultCode } from '@irp/protocol';
import { LOCKOUT_POLICY } from '../../apps/server/src/identity/login-throttle.service.js';
import {
  LOGIN_RESULTS,
  OPERATOR,
  loginUpa,
  recordLogs,
  recordNotifies,
  startIdentityServer,
  type IdentityServer,
} from './identity-support.js';

/**
 * UPA login, lockout, per-connection and per-source limits, password changes and
 * session closing (spec §6.3, §6.4, §7.2, §11, §12), over real TLS.
 */
describe('identity: login and lockout over TLS', () => {
  let server: IdentityServer;
  let logs: ReturnType<typeof recordLogs>;
  /** Every password used in this file: none may appear in any log or audit row. */
  const passwords = new Set<string>();
  function pw(value: string): string {
    passwords.add(value);
    return value;
  }
  const PW = pw('Correct-Horse-7781');

  beforeAll(async () => {
    logs = recordLogs();
    server = await startIdentityServer({ IRP_LOG_LEVEL: 'verbose' });
  });
  afterAll(async () => {
    await server?.close();
    logs?.stop();
  });

  async function user(userId: string, password = PW): Promise<void> {
    await server.users.createUser(OPERATOR, { userId, password, profile: { displayName: userId } });
  }

  /** A connection that is closed again after the test. */
  async function connect(): Promise<IrpClient> {
    return server.connect();
  }

  it('announces the identity commands and registration in the greeting', async () => {
    const client = await connect();
    expect(client.greeting.commands).toEqual(
      expect.arrayContaining([
        'changePassword',
        'enroll',
        'info',
        'listUsers',
        'login',
        'register',
        'update',
      ]),
    );
    expect(client.greeting.registration).toEqual({ open: false, enrollment: true });
    await client.close();
  });

  it('logs in with <session> and the full user record (spec §6.4); login twice → 2002', async () => {
    await user('alice');
    const client = await connect();
    const res = await loginUpa(client, 'Alice@EXAMPLE.com', PW);
    expect(res.result.code).toBe(ResultCode.Success);
    if (res.cmd !== 'login') throw new Error('not a login response');
    expect(res.data.session).toEqual({
      method: 'upa',
      user: 'alice@example.com',
      expiresIdleSeconds: 600,
    });
    expect(res.data.user).toMatchObject({
      userId: 'alice',
      address: 'alice@example.com',
      status: 'active',
      upaEnabled: true,
    });
    expect((await client.request({ cmd: 'info' })).result.code).toBe(ResultCode.Success);
    expect((await loginUpa(client, 'alice', PW)).result.code).toBe(ResultCode.UseError);
    await client.close();
    const rows = await server.auditOf('alice', 'login');
    expect(rows.map((r) => [r.resultCode, r.actorId, r.authMethod, r.sourceAddress])).toEqual([
      [1000, 'alice', 'upa', '127.0.0.1'],
    ]);
    expect(rows[0]?.txn).toMatch(/-\d{6}$/);
  });

  it('answers an unknown user and a wrong password with the same code and text (no enumeration)', async () => {
    await user('bob');
    await user('carol.disabled');
    await server.users.disableUser(OPERATOR, 'carol.disabled');
    await user('dave.noupa');
    await server.users.setUpaEnabled(OPERATOR, 'dave.noupa', false);
    const results = [];
    for (const [name, password] of [
      ['nobody.here', PW],
      ['bob', pw('wrong-password-1')],
      ['carol.disabled', PW],
      ['dave.noupa', PW],
    ] as const) {
      const client = await connect();
      results.push((await loginUpa(client, name, password)).result);
      await client.close();
    }
    for (const result of results)
      expect(result).toEqual({ code: 2200, message: 'Authentication error' });
  });

  it('takes about as long for an unknown user as for a wrong password (dummy argon2id)', async () => {
    for (const id of ['timing.a', 'timing.b', 'timing.c']) await user(id);
    const time = async (name: string): Promise<number> => {
      const client = await connect();
      const start = performance.now();
      const res = await loginUpa(client, name, pw('Wrong-Timing-Pass'));
      const ms = performance.now() - start;
      expect(res.result.code).toBe(2200);
      await client.close();
      return ms;
    };
    const unknown: number[] = [];
    const wrong: number[] = [];
    for (let i = 0; i < 6; i++) {
      wrong.push(await time(`timing.${'abc'[i % 3]}`));
      unknown.push(await time(`timing.ghost${i}`));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    // without the dummy hash an unknown user would answer in a fraction of the time
    expect(median(unknown)).toBeGreaterThan(median(wrong) * 0.4);
  });

  it('uses the password exactly as sent: no trimming, no case folding (spec §3)', async () => {
    const spaced = pw('  spaced out password  ');
    await user('spacey', spaced);
    const client = await connect();
    expect((await loginUpa(client, 'spacey', spaced.trim())).result.code).toBe(2200);
    expect((await loginUpa(client, 'spacey', spaced.toUpperCase())).result.code).toBe(2200);
    expect((await loginUpa(client, 'spacey', spaced)).result.code).toBe(1000);
    await client.close();
  });

  it.each([
    ['an existing user id', 'erin', true],
    ['a user id that does not exist', 'no.such.erin', false],
  ])(
    'locks %s after 5 failures across connections: 2204 + retryAfter, even for the right password',
    async (_what, id, exists) => {
      if (exists) await user(id);
      const wrong = pw('Not-The-Password');
      const codes: number[] = [];
      // 2 + 2 + 1 failures on three connections, with the id written three ways
      for (const [count, name] of [
        [2, id],
        [2, id.toUpperCase()],
        [1, `${id}@example.com`],
      ] as const) {
        const client = await connect();
        for (let i = 0; i < count; i++)
          codes.push((await loginUpa(client, name, wrong)).result.code);
        await client.close();
      }
      expect(codes).toEqual([2200, 2200, 2200, 2200, 2200]);

      const client = await connect();
      const locked = (await loginUpa(client, id, PW)).result;
      expect(locked.code).toBe(ResultCode.AccountLocked);
      expect(locked.retryAfter).toBeGreaterThanOrEqual(59);
      expect(locked.retryAfter).toBeLessThanOrEqual(60);
      // attempts during the lock are not failures: no 2501 on this connection either
      for (let i = 0; i < 3; i++)
        expect((await loginUpa(client, id, wrong)).result.code).toBe(2204);
      await client.close();

      // after the lock (the server clock moves 60 s): the right password works again
      server.advanceClock(60_000);
      const again = await connect();
      expect((await loginUpa(again, id, PW)).result.code).toBe(exists ? 1000 : 2200);
      await again.close();
      const rows = await server.auditOf(id, 'login');
      expect(rows.map((r) => r.resultCode)).toEqual([
        2200,
        2200,
        2200,
        2200,
        2200,
        2204,
        2204,
        2204,
        2204,
        exists ? 1000 : 2200,
      ]);
      expect(rows[4]?.details).toMatchObject({ failures: 5, lockSeconds: 60 });
    },
  );

  it('locks for a growing period: the second lock of a streak lasts 120 s', async () => {
    await user('frank');
    const wrong = pw('Frank-Wrong-Pass');
    const fail5 = async () => {
      for (let c = 0; c < 3; c++) {
        const client = await connect();
        for (let i = 0; i < (c < 2 ? 2 : 1); i++) await loginUpa(client, 'frank', wrong);
        await client.close();
      }
    };
    await fail5();
    server.advanceClock(61_000);
    await fail5();
    const client = await connect();
    const result = (await loginUpa(client, 'frank', PW)).result;
    expect(result.code).toBe(2204);
    expect(result.retryAfter).toBeGreaterThan(110);
    expect(result.retryAfter).toBeLessThanOrEqual(120);
    await client.close();
    server.advanceClock(LOCKOUT_POLICY.maxLockSeconds * 1000);
  });

  it('answers the 3rd failed login on one connection with 2501 and closes it', async () => {
    await user('gina');
    const client = await connect();
    const wrong = pw('Gina-Wrong-Pass');
    expect((await loginUpa(client, 'gina', wrong)).result.code).toBe(2200);
    expect((await loginUpa(client, 'ghost.gina', wrong)).result.code).toBe(2200);
    const third = (await loginUpa(client, 'gina', wrong)).result;
    expect(third).toEqual({
      code: 2501,
      message: 'Authentication error; server closing connection',
    });
    const closed = await client.closed;
    expect(closed.closingResult?.code).toBe(2501);
    expect(closed.byClient).toBe(false);
    expect((await server.auditOf('gina', 'login')).map((r) => r.resultCode)).toEqual([2200, 2501]);
  });

  it('changes the password with newPassword; a weak one is 2306, not a failure, nothing changed', async () => {
    await user('hank');
    const next = pw('Hank-New-Password-2');
    const client = await connect();
    expect((await loginUpa(client, 'hank', PW, 'short')).result.code).toBe(2306);
    expect((await loginUpa(client, 'hank', PW, 'HANK')).result.code).toBe(2306);
    // still unauthenticated: info is a use error
    expect((await client.request({ cmd: 'info' })).result.code).toBe(2002);
    // two 2306 and two failures on this connection: the 2306 did not count toward 2501
    expect((await loginUpa(client, 'hank', pw('Hank-Wrong-1'))).result.code).toBe(2200);
    expect((await loginUpa(client, 'hank', PW, next)).result.code).toBe(1000);
    await client.close();
    const other = await connect();
    expect((await loginUpa(other, 'hank', PW)).result.code).toBe(2200);
    expect((await loginUpa(other, 'hank', next)).result.code).toBe(1000);
    await other.close();
  });

  it('closes the other sessions when the password changes (newPassword or changePassword)', async () => {
    await user('ivy');
    const first = await connect();
    const notifies = recordNotifies(first);
    await loginUpa(first, 'ivy', PW);
    const second = await connect();
    const next = pw('Ivy-Second-Password');
    expect((await loginUpa(second, 'ivy', PW, next)).result.code).toBe(1000);
    await first.closed;
    expect(notifies).toEqual([{ event: 'session', reason: 'password-changed' }]);

    const third = await connect();
    const thirdNotifies = recordNotifies(third);
    await loginUpa(third, 'ivy', next);
    const last = pw('Ivy-Third-Password');
    const res = await second.request({
      cmd: 'changePassword',
      oldPassword: next,
      newPassword: last,
    });
    expect(res.result.code).toBe(1000);
    await third.closed;
    expect(thirdNotifies).toEqual([{ event: 'session', reason: 'password-changed' }]);
    // the session that changed it stays usable
    expect((await second.request({ cmd: 'info' })).result.code).toBe(1000);
    await second.close();
    const check = await connect();
    expect((await loginUpa(check, 'ivy', last)).result.code).toBe(1000);
    await check.close();
  });

  it('changePassword: wrong old password → 2200 counted for the lockout, never 2501; weak new → 2306', async () => {
    await user('jack');
    const client = await connect();
    await loginUpa(client, 'jack', PW);
    const wrong = pw('Jack-Wrong-Old-Pass');
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) {
      codes.push(
        (
          await client.request({
            cmd: 'changePassword',
            oldPassword: wrong,
            newPassword: pw('Jack-New-Pass-1'),
          })
        ).result.code,
      );
    }
    expect(codes).toEqual([2200, 2200, 2200, 2200, 2200]);
    // the id is now locked: for changePassword and for login elsewhere
    const locked = await client.request({
      cmd: 'changePassword',
      oldPassword: PW,
      newPassword: pw('Jack-New-Pass-1'),
    });
    expect(locked.result.code).toBe(2204);
    const other = await connect();
    expect((await loginUpa(other, 'jack', PW)).result.code).toBe(2204);
    await other.close();
    server.advanceClock(60_000);
    expect(
      (await client.request({ cmd: 'changePassword', oldPassword: PW, newPassword: 'jack' })).result
        .code,
    ).toBe(2306);
    expect((await client.request({ cmd: 'ping' })).result.code).toBe(1000);
    await client.close();
    expect((await server.auditOf('jack', 'changePassword')).map((r) => r.resultCode)).toEqual([
      2200, 2200, 2200, 2200, 2200, 2204, 2306,
    ]);
  });

  it("closes a disabled user's open session with a session notify (spec §12), and refuses their login", async () => {
    await user('kate');
    const client = await connect();
    const notifies = recordNotifies(client);
    await loginUpa(client, 'kate', PW);
    await server.users.disableUser(OPERATOR, 'kate');
    const closed = await client.closed;
    expect(closed.byClient).toBe(false);
    expect(notifies).toEqual([{ event: 'session', reason: 'disabled' }]);
    const again = await connect();
    expect((await loginUpa(again, 'kate', PW)).result).toEqual({
      code: 2200,
      message: 'Authentication error',
    });
    await again.close();
    expect(
      (await server.auditOf('kate', 'disableUser')).map((r) => [
        r.actorKind,
        r.actorId,
        r.resultCode,
      ]),
    ).toEqual([['operator', 'e2e-operator', 1000]]);
  });

  it('answers SCA without a certificate authenticator with 2200 (until the PKI feature)', async () => {
    const client = await connect();
    expect((await client.request({ cmd: 'login', method: 'sca' })).result).toEqual({
      code: 2200,
      message: 'Authentication error',
    });
    await client.close();
  });

  it('limits login attempts per source address: 2503 + retryAfter, then a new window', async () => {
    server.config.rateLoginPerMin = 3; // the injected config object: read at every attempt
    server.advanceClock(120_000); // a fresh window
    try {
      await user('lena');
      const client = await connect();
      const codes = [];
      for (let i = 0; i < 3; i++)
        codes.push((await loginUpa(client, `rate.ghost${i}`, pw('Rate-Wrong-Pass'))).result.code);
      expect(codes).toEqual([2200, 2200, 2501]);
      const limited = await connect();
      const refused = (await loginUpa(limited, 'lena', PW)).result;
      expect(refused.code).toBe(2503);
      expect(refused.retryAfter).toBeGreaterThanOrEqual(1);
      expect(refused.retryAfter).toBeLessThanOrEqual(60);
      server.advanceClock(61_000);
      expect((await loginUpa(limited, 'lena', PW)).result.code).toBe(1000);
      await limited.close();
    } finally {
      server.config.rateLoginPerMin = 100_000;
    }
  });

  it('wrote exactly one audit row per login attempt (2002 and 2503 refusals excepted)', async () => {
    const audited = LOGIN_RESULTS.filter((code) => code !== 2002 && code !== 2503);
    const rows = await server.audit.list({ action: 'login', limit: 10_000 });
    // + the one SCA attempt, sent without loginUpa
    expect(rows.filter((r) => r.authMethod === 'upa').map((r) => r.resultCode)).toEqual(audited);
    expect(rows.filter((r) => r.authMethod === 'sca').map((r) => r.resultCode)).toEqual([2200]);
  });

  it('never writes a password to the logs or the audit log', async () => {
    const audit = JSON.stringify(await server.audit.list({ limit: 10_000 }));
    const text = logs.text();
    expect(text.length).toBeGreaterThan(0);
    expect(passwords.size).toBeGreaterThan(10);
    for (const password of passwords) {
      expect(text).not.toContain(password);
      expect(audit).not.toContain(password);
    }
  });
});
