/**
 * Helpers of the identity end-to-end tests (test/e2e/identity*.spec.ts): a server
 * with the identity feature, operator actions through its services, a movable clock,
 * and a recorder of everything the process logs.
 */
import { vi } from 'vitest';
import { type IrpClient, type ResponseFor } from '@irp/client';
import { type IrpNotify } from '@irp/protocol';
import { type Actor } from '../../apps/server/src/audit/actor.js';
import { type AuditEntryEntity } from '../../apps/server/src/audit/audit-entry.entity.js';
import { AuditService } from '../../apps/server/src/audit/audit.service.js';
import { Clock } from '../../apps/server/src/identity/clock.js';
import { UsersService } from '../../apps/server/src/identity/users.service.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/** The operator of these tests (the operator API will build it from its login). */
export const OPERATOR: Actor = { kind: 'operator', id: 'e2e-operator', authMethod: 'test' };

/** A started server plus handles on the identity services. */
export interface IdentityServer extends TestServer {
  users: UsersService;
  audit: AuditService;
  /** Moves the server's identity clock forward (lock periods, code expiry, rate windows). */
  advanceClock(ms: number): void;
  /** Audit rows about `target`, oldest first. */
  auditOf(target: string, action?: string): Promise<AuditEntryEntity[]>;
}

/** Starts the real server (TLS, Nest, database) with generous rate limits unless `env` says otherwise. */
export async function startIdentityServer(
  env: Record<string, string> = {},
): Promise<IdentityServer> {
  const server = await startTestServer({
    IRP_RATE_LOGIN_PER_MIN: '100000',
    IRP_RATE_REGISTER_PER_MIN: '100000',
    ...env,
  });
  const clock = server.app.get(Clock);
  let offset = 0;
  vi.spyOn(clock, 'now').mockImplementation(() => new Date(Date.now() + offset));
  const audit = server.app.get(AuditService);
  return Object.assign(server, {
    users: server.app.get(UsersService),
    audit,
    advanceClock: (ms: number) => {
      offset += ms;
    },
    auditOf: (target: string, action?: string) =>
      audit.list(action === undefined ? { target } : { target, action }),
  });
}

/** Result codes of every `loginUpa` of this test file, in order (for audit row counts). */
export const LOGIN_RESULTS: number[] = [];

/** `login method="upa"`; its result code is recorded in {@link LOGIN_RESULTS}. */
export async function loginUpa(
  client: IrpClient,
  user: string,
  password: string,
  newPassword?: string,
): Promise<ResponseFor<'login'>> {
  const response = await client.request(
    newPassword === undefined
      ? { cmd: 'login', method: 'upa', user, password }
      : { cmd: 'login', method: 'upa', user, password, newPassword },
  );
  LOGIN_RESULTS.push(response.result.code);
  return response;
}

/** Every notify the client receives from now on. */
export function recordNotifies(client: IrpClient): IrpNotify[] {
  const notifies: IrpNotify[] = [];
  client.on('notify', (n) => notifies.push(n));
  return notifies;
}

/**
 * Records everything written to stdout/stderr and the console (Nest's logger writes
 * to the streams, TypeORM's to the console) while still passing it through.
 */
export function recordLogs(): { text(): string; stop(): void } {
  const chunks: string[] = [];
  const restore: (() => void)[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = (chunk: unknown, ...rest: unknown[]) => {
      chunks.push(
        typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'),
      );
      return original(chunk, ...rest);
    };
    restore.push(() => {
      stream.write = original;
    });
  }
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[method].bind(console);
    const spy = vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      chunks.push(
        args.map((a) => (a instanceof Error ? (a.stack ?? a.message) : String(a))).join(' '),
      );
      original(...args);
    });
    restore.push(() => spy.mockRestore());
  }
  return {
    text: () => chunks.join('\n'),
    stop: () => restore.forEach((r) => r()),
  };
}
