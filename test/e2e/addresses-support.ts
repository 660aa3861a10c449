/**
 * Helpers of the address-registry end-to-end tests (test/e2e/addresses*.spec.ts):
 * users made through the identity service, logged-in clients over real TLS, and
 * waiting for notifies.
 */
import { type IrpClient } from '@irp/client';
import { type IrpNotify } from '@irp/protocol';
import { type Actor } from '../../apps/server/src/audit/actor.js';
import { UsersService } from '../../apps/server/src/identity/users.service.js';
import { type TestServer } from '../support/test-server.js';

export const OPERATOR: Actor = { kind: 'operator', id: 'e2e-operator', authMethod: 'test' };
export const PASSWORD = 'Addresses-e2e-password-1';

/** Env of every address e2e server: generous login limits, a short purge interval. */
export const ADDRESS_ENV = {
  IRP_RATE_LOGIN_PER_MIN: '100000',
  IRP_RATE_REGISTER_PER_MIN: '100000',
  IRP_ADDRESS_PURGE_INTERVAL_MS: '200',
} as const;

/** A client logged in as a new user, recording every notify it gets. */
export interface UserClient {
  client: IrpClient;
  userId: string;
  address: string;
  notifies: IrpNotify[];
  /** Resolves with the `index`-th notify (0-based) once it has arrived. */
  notify(index: number, ms?: number): Promise<IrpNotify>;
}

let counter = 0;

/** Creates a user (through the identity service of `server`) and logs a new client in. */
export async function newUser(
  server: TestServer,
  prefix = 'user',
  loginOn: TestServer = server,
): Promise<UserClient> {
  const userId = `${prefix}${++counter}-${process.pid}`;
  await server.app
    .get(UsersService)
    .createUser(OPERATOR, { userId, password: PASSWORD, profile: {} });
  return login(loginOn, userId);
}

/** Logs a new client of `server` in as `userId`. */
export async function login(server: TestServer, userId: string): Promise<UserClient> {
  const client = await server.connect();
  await client.call({ cmd: 'login', method: 'upa', user: userId, password: PASSWORD });
  const notifies: IrpNotify[] = [];
  const waiters: (() => void)[] = [];
  client.on('notify', (n) => {
    notifies.push(n);
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    client,
    userId,
    address: `${userId}@example.com`,
    notifies,
    async notify(index, ms = 3000) {
      const deadline = Date.now() + ms;
      while (notifies.length <= index) {
        const left = deadline - Date.now();
        if (left <= 0)
          throw new Error(`${userId}: ${notifies.length} notifies, waited for #${index + 1}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return notifies[index]!;
    },
  };
}

/** Gives in-flight notifies a moment to arrive (for asserting that none came). */
export function settle(ms = 150): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Calls `probe` until `done` holds of its result or `ms` passed (changes made on another
 * instance arrive asynchronously); returns the last result.
 */
export async function within<T>(
  ms: number,
  probe: () => Promise<T>,
  done: (value: T) => boolean,
): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await probe();
  while (!done(value) && Date.now() < deadline) {
    await settle(10);
    value = await probe();
  }
  return value;
}
