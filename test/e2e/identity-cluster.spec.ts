import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IrpClient } from '@irp/client';
import { type IrpNotify, ResultCode } from '@irp/protocol';
import { UsersService } from '../../apps/server/src/identity/users.service.js';
import { UserStateCache } from '../../apps/server/src/identity/user-state.cache.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { OPERATOR } from './identity-support.js';

const PASSWORD = 'Cluster-e2e-password-1';
const ENV = { IRP_RATE_LOGIN_PER_MIN: '100000', IRP_RATE_REGISTER_PER_MIN: '100000' };

/**
 * Spec §6.3, §12 across two server instances (two Nest apps, two ports) on ONE
 * PostgreSQL database: a change made through instance B reaches a session on A at its
 * next command, although A answers the per-command session check from its cache.
 * The embedded database is one process's, so this needs TEST_DATABASE_URL.
 */
describe.skipIf(!process.env.TEST_DATABASE_URL)('identity across two instances', () => {
  let database: TestDatabase;
  let dataDir: string;
  let a: TestServer;
  let b: TestServer;
  let counter = 0;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = await mkdtemp(join(tmpdir(), 'irp-identity-cluster-'));
    a = await startTestServer(ENV, { database, dataDir });
    b = await startTestServer(ENV, { database, dataDir });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** A new user, created through B's identity service. */
  async function newUser(prefix: string): Promise<string> {
    const userId = `${prefix}${++counter}-${process.pid}`;
    await b.app
      .get(UsersService)
      .createUser(OPERATOR, { userId, password: PASSWORD, profile: { displayName: userId } });
    return userId;
  }

  /** A client of `server` logged in as `userId`, recording its notifies. */
  async function login(
    server: TestServer,
    userId: string,
  ): Promise<{ client: IrpClient; notifies: IrpNotify[] }> {
    const client = await server.connect();
    const notifies: IrpNotify[] = [];
    client.on('notify', (n) => notifies.push(n));
    await client.call({ cmd: 'login', method: 'upa', user: userId, password: PASSWORD });
    return { client, notifies };
  }

  /** Commands that pass the session check, so that A's cache holds the user. */
  async function warm(client: IrpClient): Promise<void> {
    for (let i = 0; i < 3; i++) await client.call({ cmd: 'info' });
  }

  /**
   * Sends `info` until it is refused (the change's event has to reach A first) and
   * returns the refusal's code and how long after `since` it came.
   */
  async function nextRefusal(client: IrpClient, since: number): Promise<[number, number]> {
    for (;;) {
      const res = await client.request({ cmd: 'info' });
      if (res.result.code !== ResultCode.Success) return [res.result.code, Date.now() - since];
      if (Date.now() - since > 2000) return [res.result.code, Date.now() - since];
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  it('runs two instances on different ports, each with its own user cache', () => {
    expect(a.irpPort).not.toBe(b.irpPort);
    expect(a.app.get(UserStateCache)).not.toBe(b.app.get(UserStateCache));
  });

  it('a session on A of a user disabled through B gets 2304 and a session notify within 1 s', async () => {
    const userId = await newUser('dis');
    const onA = await login(a, userId);
    await warm(onA.client);
    expect(a.app.get(UserStateCache).size).toBeGreaterThan(0);

    const disabled = Date.now();
    await b.app.get(UsersService).disableUser(OPERATOR, userId);
    const [code, after] = await nextRefusal(onA.client, disabled);
    expect(code).toBe(ResultCode.StatusProhibits);
    expect(after).toBeLessThan(1000);
    const closed = await onA.client.closed;
    expect(closed.byClient).toBe(false);
    expect(onA.notifies).toEqual([{ event: 'session', reason: 'disabled' }]);
  });

  it('a password change on B (changePassword) closes the session on A at its next command', async () => {
    const userId = await newUser('pw');
    const onA = await login(a, userId);
    const onB = await login(b, userId);
    await warm(onA.client);

    const changed = Date.now();
    await onB.client.call({
      cmd: 'changePassword',
      oldPassword: PASSWORD,
      newPassword: 'Cluster-e2e-password-2',
    });
    const [code, after] = await nextRefusal(onA.client, changed);
    expect(code).toBe(ResultCode.AuthenticationError);
    expect(after).toBeLessThan(1000);
    await onA.client.closed;
    expect(onA.notifies).toEqual([{ event: 'session', reason: 'password-changed' }]);
    // the session that changed it goes on
    expect((await onB.client.request({ cmd: 'info' })).result.code).toBe(ResultCode.Success);
  });

  it('an operator password reset through B closes the session on A at its next command', async () => {
    const userId = await newUser('reset');
    const onA = await login(a, userId);
    await warm(onA.client);

    const reset = Date.now();
    await b.app.get(UsersService).resetPassword(OPERATOR, userId, 'Cluster-e2e-password-3');
    const [code, after] = await nextRefusal(onA.client, reset);
    expect(code).toBe(ResultCode.AuthenticationError);
    expect(after).toBeLessThan(1000);
    await onA.client.closed;
    expect(onA.notifies).toEqual([{ event: 'session', reason: 'password-changed' }]);
  });

  it('a user re-enabled through B logs in on A and works at once (no cached "disabled")', async () => {
    const userId = await newUser('back');
    const first = await login(a, userId);
    await warm(first.client);
    await b.app.get(UsersService).disableUser(OPERATOR, userId);
    expect((await nextRefusal(first.client, Date.now()))[0]).toBe(ResultCode.StatusProhibits);
    await first.client.closed;

    await b.app.get(UsersService).enableUser(OPERATOR, userId);
    const again = await login(a, userId);
    expect((await again.client.request({ cmd: 'info' })).result.code).toBe(ResultCode.Success);
    await again.client.close();
  });

  it('a profile update on B shows in info on A at once (profiles are never cached)', async () => {
    const userId = await newUser('prof');
    const onA = await login(a, userId);
    const onB = await login(b, userId);
    await warm(onA.client);
    await onB.client.call({
      cmd: 'update',
      profile: { title: 'Changed on B' },
      namesUserId: false,
      namesStatus: false,
    });
    const info = await onA.client.call({ cmd: 'info' });
    expect(info.user?.title).toBe('Changed on B');
    await onA.client.close();
    await onB.client.close();
  });
});
