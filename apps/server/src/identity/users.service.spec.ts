import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultCode } from '@irp/protocol';
import { type Actor } from '../audit/actor.js';
import { DomainError, DomainErrorCode } from '../common/domain.error.js';
import { type UserEntity } from './entities/user.entity.js';
import { fakeSession } from './testing/fake-session.js';
import { startIdentityServices, type IdentityTestContext } from './testing/identity-testing.js';

const operator: Actor = {
  kind: 'operator',
  id: 'ops',
  authMethod: 'password',
  sourceAddress: '192.0.2.1',
};
const origin = { sourceAddress: '192.0.2.50', txn: 'T-9' };
const PW = 'a long enough password';

async function codeOf(p: Promise<unknown>): Promise<DomainErrorCode | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

/** The directory service on the test database (PostgreSQL or embedded). */
describe('UsersService', () => {
  let t: IdentityTestContext;

  beforeAll(async () => {
    t = await startIdentityServices({ IRP_OPEN_REGISTRATION: 'true' });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function entity(userId: string): Promise<UserEntity> {
    const user = await t.users.findByUserId(userId);
    if (!user) throw new Error(`no user ${userId}`);
    return user;
  }

  async function userCount(): Promise<number> {
    const [row] = await t.dataSource.query<
      {
        n: number;
      }[]
    >('SELECT count(*)::int AS n FROM irp_user');
    return row?.n ?? 0;
  }

  describe('register and createUser', () => {
    it('registers an active user with a lower-case id and an argon2id hash', async () => {
      const record = await t.users.register(
        {
          userId: 'Reg.One',
          password: PW,
          profile: { displayName: 'Reg One', email: 'Reg.One@Example.com' },
        },
        origin,
      );
      expect(record).toMatchObject({
        userId: 'reg.one',
        address: 'reg.one@example.com',
        status: 'active',
        upaEnabled: true,
        email: 'Reg.One@Example.com',
      });
      const stored = await entity('reg.one');
      expect(stored.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      const rows = await t.audit.list({ action: 'register', target: 'reg.one' });
      expect(rows.map((r) => [r.resultCode, r.actorId, r.sourceAddress, r.txn])).toEqual([
        [1000, 'reg.one', '192.0.2.50', 'T-9'],
      ]);
    });

    it('answers 2302 for an existing id or email in any case, and changes nothing', async () => {
      const before = await userCount();
      expect(
        await codeOf(t.users.register({ userId: 'REG.ONE', password: PW, profile: {} }, origin)),
      ).toBe(DomainErrorCode.Exists);
      expect(
        await codeOf(
          t.users.register(
            { userId: 'reg.two', password: PW, profile: { email: 'reg.one@EXAMPLE.COM' } },
            origin,
          ),
        ),
      ).toBe(DomainErrorCode.Exists);
      expect(await userCount()).toBe(before);
      const codes = (await t.audit.list({ action: 'register' })).map((r) => r.resultCode);
      expect(codes.filter((c) => c === ResultCode.ObjectExists)).toHaveLength(2);
    });

    it('lets exactly one of concurrent registrations of one id win; the others get 2302', async () => {
      const results = await Promise.all(
        Array.from({ length: 4 }, (_, i) =>
          codeOf(
            t.users.register(
              { userId: i % 2 ? 'Racer' : 'racer', password: PW, profile: {} },
              origin,
            ),
          ),
        ),
      );
      expect(results.filter((r) => r === 'ok')).toHaveLength(1);
      expect(results.filter((r) => r === DomainErrorCode.Exists)).toHaveLength(3);
    });

    it('lets exactly one of concurrent registrations of one email win (unique lower(email))', async () => {
      const results = await Promise.all(
        ['mail.a', 'mail.b', 'mail.c'].map((userId, i) =>
          codeOf(
            t.users.register(
              { userId, password: PW, profile: { email: i ? 'Same@Mail.test' : 'same@mail.test' } },
              origin,
            ),
          ),
        ),
      );
      expect(results.sort()).toEqual([DomainErrorCode.Exists, DomainErrorCode.Exists, 'ok'].sort());
    });

    it('refuses a bad field with its exact code and creates nothing', async () => {
      const before = await userCount();
      const cases: [Parameters<typeof t.users.register>[0], DomainErrorCode][] = [
        [{ userId: 'ab', password: PW, profile: {} }, DomainErrorCode.ValueRange],
        [{ userId: 'bad id', password: PW, profile: {} }, DomainErrorCode.ValueSyntax],
        [{ userId: 'fine.id', password: 'short', profile: {} }, DomainErrorCode.Policy],
        [
          { userId: 'fine.id', password: 'fine.id@example.com', profile: {} },
          DomainErrorCode.Policy,
        ],
        [
          { userId: 'fine.id', password: PW, profile: { email: 'no-at-sign' } },
          DomainErrorCode.ValueSyntax,
        ],
        [
          {
            userId: 'fine.id',
            password: PW,
            profile: { attributes: [{ name: 'x y', value: '1' }] },
          },
          DomainErrorCode.ValueSyntax,
        ],
      ];
      for (const [input, code] of cases)
        expect(await codeOf(t.users.register(input, origin))).toBe(code);
      expect(await userCount()).toBe(before);
    });

    it('answers 2101 when open registration is off, without an audit row', async () => {
      t.config.openRegistration = false; // the injected config object, read at each call
      try {
        expect(
          await codeOf(t.users.register({ userId: 'nobody', password: PW, profile: {} }, origin)),
        ).toBe(DomainErrorCode.NotImplemented);
        expect(await t.audit.list({ target: 'nobody' })).toEqual([]);
      } finally {
        t.config.openRegistration = true;
      }
    });

    it('creates a pending user without a password (operator), audited as the operator', async () => {
      const record = await t.users.createUser(operator, {
        userId: 'pending.one',
        profile: { displayName: 'P' },
      });
      expect(record.status).toBe('pending');
      expect((await entity('pending.one')).passwordHash).toBeNull();
      const [row] = await t.audit.list({ action: 'createUser', target: 'pending.one' });
      expect(row).toMatchObject({ actorKind: 'operator', actorId: 'ops', resultCode: 1000 });
    });
  });

  describe('info, update, listUsers', () => {
    beforeAll(async () => {
      await t.users.createUser(operator, {
        userId: 'viewer',
        password: PW,
        profile: {
          displayName: 'Viewer',
          email: 'viewer@example.com',
          phone: '+1 555',
          givenName: 'V',
        },
      });
      await t.users.createUser(operator, {
        userId: 'shown',
        password: PW,
        profile: {
          displayName: 'Shown Person',
          email: 'shown@example.com',
          organization: 'Org',
          title: 'Dr',
          phone: '+1 999',
          givenName: 'S',
          surname: 'P',
          attributes: [{ name: 'team', value: 'blue' }],
        },
      });
    });

    it('shows the owner everything and another user only the public fields (spec §7.2)', async () => {
      const viewer = await entity('viewer');
      const own = await t.users.info(viewer);
      expect(own).toMatchObject({
        userId: 'viewer',
        phone: '+1 555',
        givenName: 'V',
        upaEnabled: true,
      });
      expect(own.createdAt).toBeInstanceOf(Date);
      const other = await t.users.info(viewer, 'Shown@example.com');
      expect(Object.keys(other).sort()).toEqual(
        ['address', 'displayName', 'email', 'organization', 'status', 'title', 'userId'].sort(),
      );
      expect(await codeOf(t.users.info(viewer, 'ghost'))).toBe(DomainErrorCode.NotFound);
      expect(await codeOf(t.users.info(viewer, 'shown@other.org'))).toBe(DomainErrorCode.NotFound);
    });

    it('updates present fields only, clears empty ones, merges attributes by name', async () => {
      const shown = await entity('shown');
      const record = await t.users.updateProfile({ kind: 'user', id: 'shown' }, shown, {
        profile: {
          title: '',
          organization: 'New Org',
          attributes: [
            { name: 'team', value: '' },
            { name: 'room', value: '7' },
          ],
        },
      });
      expect(record).toMatchObject({
        organization: 'New Org',
        displayName: 'Shown Person',
        attributes: [{ name: 'room', value: '7' }],
      });
      expect(record.title).toBeUndefined();
      const [row] = await t.audit.list({ action: 'update', target: 'shown' });
      expect(row?.details).toEqual({ fields: ['organization', 'title', 'attributes'] });
    });

    it('refuses userId/status with 2201, a taken email with 2302, and nothing changes', async () => {
      const shown = await entity('shown');
      const actor: Actor = { kind: 'user', id: 'shown' };
      expect(
        await codeOf(
          t.users.updateProfile(actor, shown, { profile: { displayName: 'X' }, namesStatus: true }),
        ),
      ).toBe(DomainErrorCode.Forbidden);
      expect(
        await codeOf(
          t.users.updateProfile(actor, shown, {
            profile: { displayName: 'X', email: 'VIEWER@example.com' },
          }),
        ),
      ).toBe(DomainErrorCode.Exists);
      expect(await codeOf(t.users.updateProfile(actor, shown, { profile: {} }))).toBe(
        DomainErrorCode.MissingParameter,
      );
      expect((await entity('shown')).displayName).toBe('Shown Person');
    });

    it('lists public records in byte order with total, filter, offset and limit', async () => {
      const all = await t.users.listUsers({});
      expect(all.limit).toBe(50);
      expect(all.offset).toBe(0);
      expect(all.total).toBe(all.users.length);
      const ids = all.users.map((u) => u.userId);
      expect(ids).toEqual([...ids].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
      expect(all.users.every((u) => u.phone === undefined && u.upaEnabled === undefined)).toBe(
        true,
      );

      const byName = await t.users.listUsers({ filter: 'SHOWN PER' });
      expect(byName.users.map((u) => u.userId)).toEqual(['shown']);
      const byMail = await t.users.listUsers({ filter: 'VIEWER@' });
      expect(byMail.users.map((u) => u.userId)).toEqual(['viewer']);
      expect((await t.users.listUsers({ filter: '%' })).total).toBe(0);

      const page = await t.users.listUsers({ offset: 1, limit: 2 });
      expect(page).toMatchObject({ total: all.total, offset: 1, limit: 2 });
      expect(page.users.map((u) => u.userId)).toEqual(ids.slice(1, 3));
    });

    it.each([{ limit: 0 }, { limit: 201 }, { offset: -1 }])(
      'refuses %j with 2004',
      async (query) => {
        expect(await codeOf(t.users.listUsers(query))).toBe(DomainErrorCode.ValueRange);
      },
    );
  });

  describe('operator actions', () => {
    it('disables a user and closes their sessions with a session notify (spec §12)', async () => {
      await t.users.createUser(operator, { userId: 'to.disable', password: PW });
      const user = await entity('to.disable');
      const principal = {
        userKey: user.id,
        userId: user.userId,
        address: 'to.disable@example.com',
        method: 'upa' as const,
      };
      const a = fakeSession(principal);
      const b = fakeSession(principal);
      t.sessions.authenticated(a);
      t.sessions.authenticated(b);
      const record = await t.users.disableUser(operator, 'TO.DISABLE');
      expect(record.status).toBe('disabled');
      expect(a.close).toHaveBeenCalledWith('disabled');
      expect(b.close).toHaveBeenCalledWith('disabled');
      expect((await entity('to.disable')).status).toBe('disabled');
      expect((await t.users.enableUser(operator, 'to.disable')).status).toBe('active');
    });

    it('resets a password: policy 2306, then all sessions closed with password-changed', async () => {
      await t.users.createUser(operator, { userId: 'to.reset', password: PW });
      const user = await entity('to.reset');
      const s = fakeSession({
        userKey: user.id,
        userId: user.userId,
        address: 'to.reset@example.com',
        method: 'sca',
      });
      t.sessions.authenticated(s);
      expect(await codeOf(t.users.resetPassword(operator, 'to.reset', 'short'))).toBe(
        DomainErrorCode.Policy,
      );
      expect(s.close).not.toHaveBeenCalled();
      await t.users.resetPassword(operator, 'to.reset', 'another long password');
      expect(s.close).toHaveBeenCalledWith('password-changed');
      const after = await entity('to.reset');
      expect(after.passwordHash).not.toBe(user.passwordHash);
      expect(after.passwordChangedAt).toBeInstanceOf(Date);
    });

    it('sets upaEnabled', async () => {
      await t.users.createUser(operator, { userId: 'upa.user', password: PW });
      expect((await t.users.setUpaEnabled(operator, 'upa.user', false)).upaEnabled).toBe(false);
      expect((await entity('upa.user')).upaEnabled).toBe(false);
    });

    it('issues enrollment codes only for pending users; a new code replaces the old one', async () => {
      await t.users.createUser(operator, { userId: 'enr.user' });
      const first = await t.users.createEnrollmentCode(operator, 'enr.user');
      expect(first.expiresAt.getTime() - t.clock.now().getTime()).toBe(7 * 24 * 3600 * 1000);
      const second = await t.users.createEnrollmentCode(operator, 'enr.user', { ttlSeconds: 60 });
      expect(second.code).not.toBe(first.code);
      const rows = await t.dataSource.query<
        { revoked: boolean }[]
      >(`SELECT c.revoked_at IS NOT NULL AS revoked FROM irp_enrollment_code c JOIN irp_user u ON u.id = c.user_key
         WHERE u.user_id = 'enr.user' ORDER BY c.created_at, c.expires_at DESC`);
      expect(rows.map((r) => r.revoked).sort()).toEqual([false, true]);
      expect(await codeOf(t.users.createEnrollmentCode(operator, 'viewer'))).toBe(
        DomainErrorCode.StatusProhibits,
      );
      expect(await codeOf(t.users.createEnrollmentCode(operator, 'ghost.user'))).toBe(
        DomainErrorCode.NotFound,
      );
      expect(
        await codeOf(t.users.createEnrollmentCode(operator, 'enr.user', { ttlSeconds: 0 })),
      ).toBe(DomainErrorCode.ValueRange);
      // the code itself is stored nowhere, not even in the audit log
      const dump = JSON.stringify(await t.dataSource.query('SELECT * FROM irp_enrollment_code'));
      const audit = JSON.stringify(await t.audit.list());
      for (const code of [first.code, second.code]) {
        expect(dump).not.toContain(code);
        expect(audit).not.toContain(code);
        expect(audit).not.toContain(code.replace(/-/g, ''));
      }
    });
  });
});
