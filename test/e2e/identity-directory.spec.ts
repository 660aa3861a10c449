import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IrpClient } from '@irp/client';
import { ResultCode, type UserRecord } from '@irp/protocol';
import { RawIrp, asResponse } from '../support/raw-irp.js';
import {
  OPERATOR,
  loginUpa,
  startIdentityServer,
  type IdentityServer,
} from './identity-support.js';

const IRP = '<irp version="1.0">';
const PW = 'Directory-Pass-001';

/** The identity directory commands of spec §7.2 over real TLS: register, enroll, info, update, listUsers. */
describe('identity: directory over TLS', () => {
  let server: IdentityServer;

  beforeAll(async () => {
    server = await startIdentityServer({ IRP_OPEN_REGISTRATION: 'true' });
  });
  afterAll(async () => {
    await server?.close();
  });

  async function register(
    client: IrpClient,
    userId: string,
    profile: Record<string, string> = {},
    password = PW,
  ): Promise<{ code: number; user?: UserRecord }> {
    const res = await client.request({ cmd: 'register', userId, password, profile });
    return { code: res.result.code, user: res.cmd === 'register' ? res.data.user : undefined };
  }

  async function loggedIn(userId: string, password = PW): Promise<IrpClient> {
    const client = await server.connect();
    expect((await loginUpa(client, userId, password)).result.code).toBe(1000);
    return client;
  }

  describe('register (open registration)', () => {
    it('creates an active user and does not log the session in', async () => {
      const client = await server.connect();
      expect(client.greeting.registration.open).toBe(true);
      const { code, user } = await register(client, 'Nina', {
        displayName: 'Nina N',
        email: 'Nina@Example.org',
      });
      expect(code).toBe(1000);
      expect(user).toMatchObject({
        userId: 'nina',
        address: 'nina@example.com',
        status: 'active',
        email: 'Nina@Example.org',
      });
      expect((await client.request({ cmd: 'info' })).result.code).toBe(2002);
      expect((await loginUpa(client, 'nina', PW)).result.code).toBe(1000);
      await client.close();
      const rows = await server.auditOf('nina', 'register');
      expect(rows.map((r) => [r.resultCode, r.actorId, r.sourceAddress])).toEqual([
        [1000, 'nina', '127.0.0.1'],
      ]);
    });

    it('answers 2302 for a taken user id or email, in any case, and creates nothing', async () => {
      const client = await server.connect();
      expect((await register(client, 'NINA')).code).toBe(2302);
      expect((await register(client, 'nina@example.com')).code).toBe(2302);
      expect((await register(client, 'otto', { email: 'nina@EXAMPLE.ORG' })).code).toBe(2302);
      expect(
        (await client.request({ cmd: 'login', method: 'upa', user: 'otto', password: PW })).result
          .code,
      ).toBe(2200);
      await client.close();
    });

    it.each([
      ['a user id of 2 characters', 'ab', {}, PW, 2004],
      ['a user id with a space', 'bad id', {}, PW, 2005],
      ['a user id starting with a dot', '.dot', {}, PW, 2005],
      ['a user of another domain', 'x@other.org', {}, PW, 2005],
      ['a bad email', 'good.one', { email: 'no-at-sign' }, PW, 2005],
      [
        'a 255-character email',
        'good.one',
        { email: `${'a'.repeat(64)}@${'b'.repeat(190)}` },
        PW,
        2004,
      ],
      ['a 257-character display name', 'good.one', { displayName: 'x'.repeat(257) }, PW, 2004],
      ['a 9-character password', 'good.one', {}, '123456789', 2306],
      ['the user id as password', 'good.one', {}, 'Good.One@example.com', 2306],
    ])('refuses %s with its exact code', async (_what, userId, profile, password, code) => {
      const client = await server.connect();
      expect((await register(client, userId, profile, password)).code).toBe(code);
      await client.close();
    });

    it('answers 2003 for a missing parameter (decoded before the service) and 2004 for 33 attributes', async () => {
      const raw = await RawIrp.open(server.irpPort, server.serverCa);
      await raw.waitFor(1);
      raw.send(`${IRP}<register id="r1"><userId>nopass</userId></register></irp>`);
      const attrs = Array.from(
        { length: 33 },
        (_, i) => `<attribute name="a${i}">v</attribute>`,
      ).join('');
      raw.send(
        `${IRP}<register id="r2"><userId>many.attrs</userId><password>${PW}</password>${attrs}</register></irp>`,
      );
      const [, missing, tooMany] = await raw.waitFor(3);
      expect(asResponse(missing).result.code).toBe(ResultCode.MissingParameter);
      expect(asResponse(tooMany).result.code).toBe(ResultCode.ValueRange);
      raw.close();
    });

    it('answers 2101 while open registration is off', async () => {
      server.config.openRegistration = false; // the injected config object: read at every command
      try {
        const client = await server.connect();
        expect((await register(client, 'closed.door')).code).toBe(ResultCode.UnimplementedOption);
        await client.close();
      } finally {
        server.config.openRegistration = true;
      }
    });

    it('limits register attempts per source address: 2503 + retryAfter', async () => {
      server.config.rateRegisterPerMin = 2;
      server.advanceClock(120_000);
      try {
        const client = await server.connect();
        expect((await register(client, 'rate.one')).code).toBe(1000);
        expect((await register(client, 'x')).code).toBe(2004);
        const res = await client.request({
          cmd: 'register',
          userId: 'rate.three',
          password: PW,
          profile: {},
        });
        expect(res.result.code).toBe(2503);
        expect(res.result.retryAfter).toBeGreaterThanOrEqual(1);
        await client.close();
      } finally {
        server.config.rateRegisterPerMin = 100_000;
      }
    });
  });

  describe('info, update, listUsers', () => {
    beforeAll(async () => {
      const client = await server.connect();
      for (const [userId, displayName, email] of [
        ['paula', 'Paula Pink', 'paula@example.org'],
        ['quinn', 'Quinn Q', 'q.uinn@corp.test'],
        ['ralph', 'Ralph R', 'ralph@example.org'],
        ['sara-1', 'Sara One', 'sara1@example.org'],
        ['sara.2', 'Sara Two', 'sara2@example.org'],
        ['sara_3', 'Sara Three', 'sara3@example.org'],
      ]) {
        const res = await register(client, userId!, {
          displayName: displayName!,
          email: email!,
          organization: 'Acme',
          title: 'Eng',
          phone: '+1 555 0100',
          givenName: 'G',
          surname: 'S',
        });
        expect(res.code).toBe(1000);
      }
      await client.close();
    });

    it('shows the own full record and another user only the public fields (spec §7.2)', async () => {
      const client = await loggedIn('paula');
      const own = await client.request({ cmd: 'info' });
      if (own.cmd !== 'info') throw new Error('not an info response');
      expect(own.data.user).toMatchObject({
        userId: 'paula',
        phone: '+1 555 0100',
        givenName: 'G',
        surname: 'S',
        upaEnabled: true,
      });
      expect(own.data.user?.createdAt).toBeInstanceOf(Date);
      const other = await client.request({ cmd: 'info', user: 'Quinn@example.com' });
      if (other.cmd !== 'info') throw new Error('not an info response');
      expect(other.data.user).toEqual({
        userId: 'quinn',
        address: 'quinn@example.com',
        displayName: 'Quinn Q',
        email: 'q.uinn@corp.test',
        organization: 'Acme',
        title: 'Eng',
        status: 'active',
      });
      expect((await client.request({ cmd: 'info', user: 'nobody.at.all' })).result.code).toBe(2303);
      expect((await client.request({ cmd: 'info', user: 'quinn@elsewhere.org' })).result.code).toBe(
        2303,
      );
      await client.close();
    });

    it('updates the own profile fields present, clears empty ones, and audits the field names', async () => {
      const client = await loggedIn('quinn');
      const res = await client.request({
        cmd: 'update',
        profile: {
          title: '',
          displayName: 'Quinn Quick',
          attributes: [{ name: 'desk', value: '4.12' }],
        },
        namesUserId: false,
        namesStatus: false,
      });
      expect(res.result.code).toBe(1000);
      if (res.cmd !== 'update') throw new Error('not an update response');
      expect(res.data.user).toMatchObject({
        displayName: 'Quinn Quick',
        attributes: [{ name: 'desk', value: '4.12' }],
      });
      expect(res.data.user?.title).toBeUndefined();
      const again = await client.request({ cmd: 'info' });
      expect(again.cmd === 'info' && again.data.user?.displayName).toBe('Quinn Quick');
      await client.close();
      const rows = await server.auditOf('quinn', 'update');
      expect(rows.map((r) => [r.resultCode, r.details])).toEqual([
        [1000, { fields: ['displayName', 'title', 'attributes'] }],
      ]);
    });

    it('refuses userId or status in update with 2201, a taken email with 2302, and changes nothing', async () => {
      const client = await loggedIn('ralph');
      for (const names of [
        { namesUserId: true, namesStatus: false },
        { namesUserId: false, namesStatus: true },
      ]) {
        const res = await client.request({
          cmd: 'update',
          profile: { displayName: 'Hacked' },
          ...names,
        });
        expect(res.result.code).toBe(ResultCode.AuthorizationError);
      }
      const taken = await client.request({
        cmd: 'update',
        profile: { displayName: 'Hacked', email: 'PAULA@example.org' },
        namesUserId: false,
        namesStatus: false,
      });
      expect(taken.result.code).toBe(ResultCode.ObjectExists);
      const info = await client.request({ cmd: 'info' });
      expect(info.cmd === 'info' && info.data.user).toMatchObject({
        displayName: 'Ralph R',
        email: 'ralph@example.org',
      });
      await client.close();
      expect((await server.auditOf('ralph', 'update')).map((r) => r.resultCode)).toEqual([
        2201, 2201, 2302,
      ]);
    });

    it('lists users in byte order with total, offset, limit and a case-insensitive filter', async () => {
      const client = await loggedIn('paula');
      const list = async (q: { filter?: string; offset?: number; limit?: number }) => {
        const res = await client.request({ cmd: 'listUsers', ...q });
        expect(res.result.code).toBe(1000);
        if (res.cmd !== 'listUsers' || !res.data.users) throw new Error('no <users>');
        return res.data.users;
      };
      const sara = await list({ filter: 'SARA' });
      // byte order: '-' (0x2d) < '.' (0x2e) < '_' (0x5f)
      expect(sara).toMatchObject({ total: 3, offset: 0, limit: 50 });
      expect(sara.users.map((u) => u.userId)).toEqual(['sara-1', 'sara.2', 'sara_3']);
      expect(sara.users[0]).toEqual({
        userId: 'sara-1',
        address: 'sara-1@example.com',
        displayName: 'Sara One',
        email: 'sara1@example.org',
        organization: 'Acme',
        title: 'Eng',
        status: 'active',
      });
      const page = await list({ filter: 'sara', offset: 1, limit: 1 });
      expect(page).toMatchObject({ total: 3, offset: 1, limit: 1 });
      expect(page.users.map((u) => u.userId)).toEqual(['sara.2']);
      expect((await list({ filter: 'corp.TEST' })).users.map((u) => u.userId)).toEqual(['quinn']);
      expect((await list({ filter: 'sara two' })).users.map((u) => u.userId)).toEqual(['sara.2']);
      const all = await list({});
      expect(all.total).toBeGreaterThanOrEqual(8);
      for (const [q, code] of [
        [{ limit: 0 }, 2004],
        [{ limit: 201 }, 2004],
        [{ offset: -1 }, 2004],
      ] as const) {
        expect((await client.request({ cmd: 'listUsers', ...q })).result.code).toBe(code);
      }
      expect((await list({ limit: 200 })).limit).toBe(200);
      await client.close();
    });
  });

  describe('enroll (spec §7.2)', () => {
    it('activates a pending account with its one-time code and logs the session in; the code is single use', async () => {
      await server.users.createUser(OPERATOR, { userId: 'tom', profile: { displayName: 'Tom' } });
      const { code } = await server.users.createEnrollmentCode(OPERATOR, 'tom');
      const pending = await server.connect();
      // a pending account cannot log in yet
      expect((await loginUpa(pending, 'tom', PW)).result.code).toBe(2200);
      expect(
        (await pending.request({ cmd: 'enroll', userId: 'tom', code: 'wxyz-wxyz', password: PW }))
          .result.code,
      ).toBe(2202);
      const res = await pending.request({ cmd: 'enroll', userId: 'Tom', code, password: PW });
      expect(res.result.code).toBe(1000);
      if (res.cmd !== 'enroll') throw new Error('not an enroll response');
      expect(res.data.session).toEqual({
        method: 'upa',
        user: 'tom@example.com',
        expiresIdleSeconds: 600,
      });
      expect(res.data.user).toMatchObject({ userId: 'tom', status: 'active' });
      expect((await pending.request({ cmd: 'info' })).result.code).toBe(1000);
      // enroll (like login) is for an unauthenticated session
      expect(
        (await pending.request({ cmd: 'enroll', userId: 'tom', code, password: PW })).result.code,
      ).toBe(2002);
      await pending.close();

      const reuse = await server.connect();
      expect(
        (await reuse.request({ cmd: 'enroll', userId: 'tom', code, password: 'Another-Pass-123' }))
          .result.code,
      ).toBe(2202);
      expect((await loginUpa(reuse, 'tom', PW)).result.code).toBe(1000);
      await reuse.close();
      expect(
        (await server.auditOf('tom', 'enroll')).map((r) => [r.resultCode, r.authMethod]),
      ).toEqual([
        [2202, 'enrollment-code'],
        [1000, 'enrollment-code'],
        [2202, 'enrollment-code'],
      ]);
    });

    it('refuses an expired code with 2202 and a weak password with 2306 (the code stays usable)', async () => {
      await server.users.createUser(OPERATOR, { userId: 'uma' });
      const { code } = await server.users.createEnrollmentCode(OPERATOR, 'uma', {
        ttlSeconds: 3600,
      });
      const client = await server.connect();
      expect(
        (await client.request({ cmd: 'enroll', userId: 'uma', code, password: 'weak' })).result
          .code,
      ).toBe(2306);
      server.advanceClock(3600_000);
      expect(
        (await client.request({ cmd: 'enroll', userId: 'uma', code, password: PW })).result.code,
      ).toBe(2202);
      // a new code works (and replaced the old one)
      const fresh = await server.users.createEnrollmentCode(OPERATOR, 'uma');
      expect(
        (await client.request({ cmd: 'enroll', userId: 'uma', code: fresh.code, password: PW }))
          .result.code,
      ).toBe(1000);
      await client.close();
    });
  });
});
