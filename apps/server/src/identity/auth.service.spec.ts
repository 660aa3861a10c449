import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { IrpProtocolError, ResultCode } from '@irp/protocol';
import { type Actor } from '../audit/actor.js';
import { DomainError, DomainErrorCode } from '../common/domain.error.js';
import { type SessionPeer } from '../transport/irp-session.js';
import { CREDENTIAL_STAMP } from './auth.service.js';
import { type Authenticated, type LoginContext, type PasswordLogin } from './dto/identity.dto.js';
import { PasswordHasher } from './password-hasher.service.js';
import { type ScaIdentity } from './sca-authenticator.js';
import { fakeSession } from './testing/fake-session.js';
import { startIdentityServices, type IdentityTestContext } from './testing/identity-testing.js';

const operator: Actor = { kind: 'operator', id: 'ops' };
const PW = 'correct horse battery';
const ctx: LoginContext = { sourceAddress: '192.0.2.77', txn: 'T-1' };

type Outcome = 'ok' | number;

/** The result code a call ends with (1000 for success). */
async function resultOf(p: Promise<unknown>): Promise<Outcome> {
  try {
    await p;
    return 'ok';
  } catch (error) {
    if (error instanceof IrpProtocolError) return error.code;
    if (error instanceof DomainError) {
      const map: Partial<Record<DomainErrorCode, number>> = {
        [DomainErrorCode.AuthenticationFailed]: 2200,
        [DomainErrorCode.Locked]: 2204,
        [DomainErrorCode.Policy]: 2306,
        [DomainErrorCode.InvalidAuthorization]: 2202,
        [DomainErrorCode.StatusProhibits]: 2304,
        [DomainErrorCode.RateLimited]: 2503,
        [DomainErrorCode.ValueSyntax]: 2005,
      };
      return map[error.code] ?? -1;
    }
    throw error;
  }
}

/** Authentication on the test database (PostgreSQL or embedded), with a manual clock. */
describe('AuthService', () => {
  let t: IdentityTestContext;
  const scaUsers = new Map<string, ScaIdentity>();

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
  });
  afterAll(async () => {
    await t?.close();
  });

  async function user(userId: string, password = PW): Promise<void> {
    await t.users.createUser(operator, { userId, password });
  }
  function login(
    request: PasswordLogin,
    extra: Partial<LoginContext> = {},
  ): Promise<Authenticated> {
    return t.auth.loginWithPassword(request, { ...ctx, ...extra });
  }

  describe('UPA login (spec §6.3)', () => {
    it('logs a user in by id or address in any case, and audits it', async () => {
      await user('alice');
      for (const name of ['alice', 'ALICE', 'Alice@Example.COM']) {
        const result = await login({ user: name, password: PW });
        expect(result.principal).toMatchObject({
          userId: 'alice',
          address: 'alice@example.com',
          method: 'upa',
        });
        expect(result.user).toMatchObject({ userId: 'alice', status: 'active' });
      }
      const rows = await t.audit.list({ action: 'login', target: 'alice' });
      expect(
        rows.map((r) => [r.resultCode, r.actorId, r.authMethod, r.sourceAddress, r.txn]),
      ).toEqual(Array.from({ length: 3 }, () => [1000, 'alice', 'upa', '192.0.2.77', 'T-1']));
    });

    it('answers unknown user, wrong password, pending, disabled and UPA-disabled alike, one argon2 check each', async () => {
      await user('wrong.pw');
      await t.users.createUser(operator, { userId: 'pending.u' });
      await user('disabled.u');
      await t.users.disableUser(operator, 'disabled.u');
      await user('no.upa');
      await t.users.setUpaEnabled(operator, 'no.upa', false);
      const verify = vi.spyOn(t.moduleRef.get(PasswordHasher), 'verify');
      const errors: unknown[] = [];
      for (const [name, password] of [
        ['no.such.user', PW],
        ['wrong.pw', 'not the password'],
        ['pending.u', PW],
        ['disabled.u', PW],
        ['no.upa', PW],
        ['x', PW],
        ['bob@elsewhere.org', PW],
      ] as const) {
        errors.push(await login({ user: name, password }).catch((e: unknown) => e));
      }
      expect(verify).toHaveBeenCalledTimes(7);
      verify.mockRestore();
      for (const error of errors) {
        expect(error).toBeInstanceOf(DomainError);
        expect(error).toMatchObject({
          code: DomainErrorCode.AuthenticationFailed,
          message: 'Authentication error',
        });
      }
      const reasons = (await t.audit.list({ action: 'login' }))
        .filter((r) => r.resultCode === 2200)
        .map((r) => [r.target, r.details?.reason]);
      expect(reasons).toEqual(
        expect.arrayContaining([
          ['no.such.user', 'unknown-user'],
          ['wrong.pw', 'wrong-password'],
          ['pending.u', 'pending'],
          ['disabled.u', 'disabled'],
          ['no.upa', 'upa-disabled'],
        ]),
      );
    });

    it('uses the password exactly as sent (no trimming, no case folding)', async () => {
      await user('exact', '  Spaced Password  ');
      expect(await resultOf(login({ user: 'exact', password: 'Spaced Password' }))).toBe(2200);
      expect(await resultOf(login({ user: 'exact', password: '  spaced password  ' }))).toBe(2200);
      expect(await resultOf(login({ user: 'exact', password: '  Spaced Password  ' }))).toBe('ok');
    });

    it('locks an id after 5 failures in 15 minutes, also for the right password, for existing and unknown ids', async () => {
      await user('locked.user');
      for (const name of ['locked.user', 'ghost.user']) {
        const t0 = t.clock.now().getTime();
        for (let i = 0; i < 5; i++) {
          t.clock.set(t0 + i * 60_000);
          // the 5th failure is still a failure (2200); the lock applies from the next attempt
          expect(
            await resultOf(
              login({ user: i % 2 ? name.toUpperCase() : name, password: 'wrong password!' }),
            ),
          ).toBe(2200);
        }
        const locked = await login({ user: `${name}@example.com`, password: PW }).catch(
          (e: unknown) => e,
        );
        expect(locked).toMatchObject({ code: DomainErrorCode.Locked, options: { retryAfter: 60 } });
        // attempts during the lock neither count nor extend it
        t.clock.set(t0 + 4 * 60_000 + 59_000);
        expect(
          await login({ user: name, password: 'x' }).catch(
            (e: DomainError) => e.options.retryAfter,
          ),
        ).toBe(1);
        t.clock.set(t0 + 5 * 60_000);
      }
      expect(await resultOf(login({ user: 'locked.user', password: PW }))).toBe('ok');
      const rows = await t.audit.list({ action: 'login', target: 'ghost.user' });
      expect(rows.map((r) => r.resultCode)).toEqual([2200, 2200, 2200, 2200, 2200, 2204, 2204]);
      expect(rows[4]?.details).toMatchObject({ failures: 5, lockSeconds: 60 });
    });

    it('resets the count on success', async () => {
      await user('resets');
      for (let i = 0; i < 4; i++)
        await resultOf(login({ user: 'resets', password: 'wrong password!' }));
      await login({ user: 'resets', password: PW });
      for (let i = 0; i < 4; i++)
        expect(await resultOf(login({ user: 'resets', password: 'wrong password!' }))).toBe(2200);
      expect(await resultOf(login({ user: 'resets', password: PW }))).toBe('ok');
    });

    it('answers the 3rd failure on a connection with 2501 (IRP only), audited as 2501', async () => {
      await user('conn.user');
      expect(
        await resultOf(
          login({ user: 'conn.user', password: 'nope nope' }, { failuresOnConnection: 2 }),
        ),
      ).toBe(2501);
      expect(await resultOf(login({ user: 'conn.user', password: 'nope nope' }))).toBe(2200);
      const rows = await t.audit.list({ action: 'login', target: 'conn.user' });
      expect(rows.map((r) => r.resultCode)).toEqual([2501, 2200]);
    });

    it('changes the password with newPassword and closes the other sessions', async () => {
      await user('np.user');
      const { principal } = await login({ user: 'np.user', password: PW });
      const other = fakeSession(principal);
      t.sessions.authenticated(other);
      const result = await login({
        user: 'np.user',
        password: PW,
        newPassword: 'a brand new password',
      });
      expect(other.close).toHaveBeenCalledWith('password-changed');
      expect(result.credentialStamp).toMatch(/^[0-9a-f]{32}$/);
      expect(await resultOf(login({ user: 'np.user', password: PW }))).toBe(2200);
      expect(await resultOf(login({ user: 'np.user', password: 'a brand new password' }))).toBe(
        'ok',
      );
    });

    it('refuses a bad newPassword with 2306: not a failure, nothing changed', async () => {
      await user('np.bad');
      for (let i = 0; i < 4; i++)
        await resultOf(login({ user: 'np.bad', password: 'wrong password!' }));
      expect(await resultOf(login({ user: 'np.bad', password: PW, newPassword: 'short' }))).toBe(
        2306,
      );
      expect(await resultOf(login({ user: 'np.bad', password: PW, newPassword: 'NP.BAD' }))).toBe(
        2306,
      );
      // still 4 failures: the next right password succeeds and resets
      expect(await resultOf(login({ user: 'np.bad', password: PW }))).toBe('ok');
    });

    it('refuses beyond the per-source login rate with 2503 + retryAfter, unaudited', async () => {
      t.config.rateLoginPerMin = 2;
      try {
        const source = { sourceAddress: '198.51.100.200' };
        expect(await resultOf(login({ user: 'rate.x', password: 'whatever!!' }, source))).toBe(
          2200,
        );
        expect(await resultOf(login({ user: 'rate.x', password: 'whatever!!' }, source))).toBe(
          2200,
        );
        const refused = await login({ user: 'rate.x', password: 'whatever!!' }, source).catch(
          (e: unknown) => e,
        );
        expect(refused).toMatchObject({ code: DomainErrorCode.RateLimited });
        expect((refused as DomainError).options.retryAfter).toBeGreaterThan(0);
        expect((await t.audit.list({ target: 'rate.x' })).map((r) => r.resultCode)).toEqual([
          2200, 2200,
        ]);
      } finally {
        t.config.rateLoginPerMin = 100_000;
      }
    });
  });

  describe('SCA login (spec §6.2)', () => {
    it('logs in the active user the certificate belongs to; anything else is 2200', async () => {
      await user('sca.user');
      const entity = await t.users.findByUserId('sca.user');
      const cert = Buffer.from('30820001', 'hex');
      scaUsers.set(cert.toString('hex'), {
        userKey: entity!.id,
        certificateSerial: 'ab'.repeat(16),
      });
      const peer: SessionPeer = {
        address: '192.0.2.5',
        family: 'ipv4',
        port: 1,
        certificate: cert,
      };
      const result = await t.auth.loginWithCertificate(peer, ctx);
      expect(result.principal).toMatchObject({
        userId: 'sca.user',
        method: 'sca',
        certificateSerial: 'ab'.repeat(16),
      });
      expect(
        await resultOf(t.auth.loginWithCertificate({ ...peer, certificate: undefined }, ctx)),
      ).toBe(2200);
      expect(
        await resultOf(
          t.auth.loginWithCertificate({ ...peer, certificate: Buffer.from('00', 'hex') }, ctx),
        ),
      ).toBe(2200);
      await t.users.disableUser(operator, 'sca.user');
      expect(await resultOf(t.auth.loginWithCertificate(peer, ctx))).toBe(2200);
      const rows = await t.audit.list({ action: 'login' });
      expect(
        rows
          .filter((r) => r.authMethod === 'sca')
          .map((r) => [r.actorId.split(':')[0], r.resultCode]),
      ).toEqual([
        ['sca.user', 1000],
        ['anonymous', 2200],
        ['cert', 2200],
        ['cert', 2200],
      ]);
    });
    it('counts SCA attempts, successful or not, against the source’s login rate: 2503 beyond it, unaudited, no reset', async () => {
      await user('sca.rate');
      const entity = await t.users.findByUserId('sca.rate');
      const cert = Buffer.from('30820003', 'hex');
      scaUsers.set(cert.toString('hex'), {
        userKey: entity!.id,
        certificateSerial: 'ef'.repeat(16),
        user: entity!,
      });
      const peer: SessionPeer = {
        address: '198.51.100.201',
        family: 'ipv4',
        port: 1,
        certificate: cert,
      };
      const source = { ...ctx, sourceAddress: '198.51.100.201' };
      t.config.rateLoginPerMin = 3;
      try {
        // a failure and a success count alike
        expect(
          await resultOf(t.auth.loginWithCertificate({ ...peer, certificate: undefined }, source)),
        ).toBe(2200);
        expect(await resultOf(t.auth.loginWithCertificate(peer, source))).toBe('ok');
        expect(
          await resultOf(login({ user: 'sca.rate', password: 'not the password' }, source)),
        ).toBe(2200);
        // the 4th attempt of the minute: refused although the certificate is good
        const refused = await t.auth.loginWithCertificate(peer, source).catch((e: unknown) => e);
        expect(refused).toMatchObject({ code: DomainErrorCode.RateLimited });
        expect((refused as DomainError).options.retryAfter).toBeGreaterThan(0);
        // ... and wrote nothing: no audit row, the failure count not reset
        const rows = await t.audit.list({ action: 'login', target: 'sca.rate' });
        expect(rows.map((r) => [r.authMethod, r.resultCode])).toEqual([
          ['sca', 1000],
          ['upa', 2200],
        ]);
        const failures = await t.dataSource.query<{ n: string }[]>(
          `SELECT count(*) AS n FROM irp_login_throttle WHERE subject = 'sca.rate'`,
        );
        expect(Number(failures[0]?.n)).toBe(1);
      } finally {
        t.config.rateLoginPerMin = 100_000;
      }
    });

    it('a successful SCA login resets the id’s failure count and audits the user (spec §6.3, §13)', async () => {
      await user('sca.reset');
      const entity = await t.users.findByUserId('sca.reset');
      const cert = Buffer.from('30820002', 'hex');
      scaUsers.set(cert.toString('hex'), {
        userKey: entity!.id,
        certificateSerial: 'cd'.repeat(16),
        user: entity!,
      });
      for (let i = 0; i < 2; i++)
        expect(await resultOf(login({ user: 'sca.reset', password: 'not the password' }))).toBe(
          2200,
        );
      const failures = () =>
        t.dataSource.query<{ n: string }[]>(
          `SELECT count(*) AS n FROM irp_login_throttle WHERE subject = 'sca.reset'`,
        );
      expect(Number((await failures())[0]?.n)).toBe(1);
      const peer: SessionPeer = {
        address: '192.0.2.6',
        family: 'ipv4',
        port: 1,
        certificate: cert,
      };
      const result = await t.auth.loginWithCertificate(peer, ctx);
      expect(result.user).toMatchObject({ userId: 'sca.reset', status: 'active' });
      expect(Number((await failures())[0]?.n)).toBe(0);
      const rows = await t.audit.list({ action: 'login', target: 'sca.reset' });
      expect(
        rows.map((r) => [r.resultCode, r.actorId, r.authMethod, r.sourceAddress, r.txn]),
      ).toEqual([
        [2200, 'sca.reset', 'upa', '192.0.2.77', 'T-1'],
        [2200, 'sca.reset', 'upa', '192.0.2.77', 'T-1'],
        [1000, 'sca.reset', 'sca', '192.0.2.77', 'T-1'],
      ]);
    });
  });

  describe('enroll (spec §7.2)', () => {
    it('activates a pending user once, with a code that expires', async () => {
      await t.users.createUser(operator, { userId: 'enrollee' });
      const { code } = await t.users.createEnrollmentCode(operator, 'enrollee', {
        ttlSeconds: 600,
      });
      expect(
        await resultOf(t.auth.enroll({ userId: 'enrollee', code: 'aaaa-bbbb', password: PW }, ctx)),
      ).toBe(2202);
      expect(
        await resultOf(t.auth.enroll({ userId: 'someone.else', code, password: PW }, ctx)),
      ).toBe(2202);
      // a weak password does not use the code up
      expect(
        await resultOf(t.auth.enroll({ userId: 'enrollee', code, password: 'short' }, ctx)),
      ).toBe(2306);
      const result = await t.auth.enroll(
        { userId: 'Enrollee', code: code.toUpperCase(), password: PW },
        ctx,
      );
      expect(result.user.status).toBe('active');
      expect(result.principal.userId).toBe('enrollee');
      expect(await resultOf(t.auth.enroll({ userId: 'enrollee', code, password: PW }, ctx))).toBe(
        2202,
      );
      expect(await resultOf(login({ user: 'enrollee', password: PW }))).toBe('ok');

      await t.users.createUser(operator, { userId: 'late.enrollee' });
      const late = await t.users.createEnrollmentCode(operator, 'late.enrollee', {
        ttlSeconds: 60,
      });
      t.clock.advance(60_000);
      expect(
        await resultOf(
          t.auth.enroll({ userId: 'late.enrollee', code: late.code, password: PW }, ctx),
        ),
      ).toBe(2202);
      const rows = await t.audit.list({ action: 'enroll' });
      expect(rows.map((r) => r.resultCode)).toEqual([2202, 2202, 2306, 1000, 2202, 2202]);
    });

    it('lets only one of two concurrent enrollments with one code succeed', async () => {
      await t.users.createUser(operator, { userId: 'race.enrollee' });
      const { code } = await t.users.createEnrollmentCode(operator, 'race.enrollee');
      const results = await Promise.all(
        [PW, `${PW}!`].map((password) =>
          resultOf(t.auth.enroll({ userId: 'race.enrollee', code, password }, ctx)),
        ),
      );
      expect(results.sort()).toEqual([2202, 'ok'].sort());
    });
  });

  describe('changePassword and stale sessions', () => {
    it('counts a wrong oldPassword for the id (lock → 2204 for login too), refuses weak ones with 2306', async () => {
      await user('cp.user');
      const me = { entity: (await t.users.findByUserId('cp.user'))!, method: 'upa' as const };
      for (let i = 0; i < 5; i++) {
        expect(
          await resultOf(t.auth.changePassword(me, 'wrong old password', 'new password 123', ctx)),
        ).toBe(2200);
      }
      expect(await resultOf(t.auth.changePassword(me, PW, 'new password 123', ctx))).toBe(2204);
      expect(await resultOf(login({ user: 'cp.user', password: PW }))).toBe(2204);
      t.clock.advance(60_000);
      expect(await resultOf(t.auth.changePassword(me, PW, 'short', ctx))).toBe(2306);
    });

    it('changes the password, keeps this session and closes the others', async () => {
      await user('cp.ok');
      const login1 = await login({ user: 'cp.ok', password: PW });
      const mine = fakeSession(login1.principal);
      mine.attributes.set(CREDENTIAL_STAMP, login1.credentialStamp);
      const other = fakeSession(login1.principal);
      other.attributes.set(CREDENTIAL_STAMP, login1.credentialStamp);
      t.sessions.authenticated(mine);
      t.sessions.authenticated(other);
      const me = await t.auth.sessionUser(mine);
      await t.auth.changePassword(me, PW, 'the next password', { ...ctx, keepSession: mine });
      expect(other.close).toHaveBeenCalledWith('password-changed');
      expect(mine.close).not.toHaveBeenCalled();
      // this session stays valid; a session elsewhere (another instance) notices at its next command
      await expect(t.auth.sessionUser(mine)).resolves.toMatchObject({
        entity: { userId: 'cp.ok' },
      });
      const elsewhere = fakeSession(login1.principal);
      elsewhere.attributes.set(CREDENTIAL_STAMP, login1.credentialStamp);
      expect(await resultOf(t.auth.sessionUser(elsewhere))).toBe(2200);
      expect(elsewhere.close).toHaveBeenCalledWith('password-changed');
    });

    it('closes a session of a user disabled elsewhere at its next command (2304)', async () => {
      await user('dis.elsewhere');
      const { principal, credentialStamp } = await login({ user: 'dis.elsewhere', password: PW });
      const s = fakeSession(principal);
      s.attributes.set(CREDENTIAL_STAMP, credentialStamp);
      await t.dataSource.query(
        `UPDATE irp_user SET status = 'disabled' WHERE user_id = 'dis.elsewhere'`,
      );
      expect(await resultOf(t.auth.sessionUser(s))).toBe(2304);
      expect(s.close).toHaveBeenCalledWith('disabled');
      expect(ResultCode.StatusProhibits).toBe(2304);
    });
  });
});
