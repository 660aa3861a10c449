/**
 * Helpers of the PKI end-to-end tests (test/e2e/certificates*.spec.ts,
 * backups*.spec.ts): a real server with users, a scratch directory, and `openssl` as
 * the independent judge of everything the server produces.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { type IrpClient } from '@irp/client';
import { type Actor } from '../../apps/server/src/audit/actor.js';
import { UsersService } from '../../apps/server/src/identity/users.service.js';
import { openssl } from '../support/openssl.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/** The operator of these tests (the operator API will build it from its login). */
export const OPERATOR: Actor = { kind: 'operator', id: 'e2e-operator', authMethod: 'test' };

/** A password every test user gets. */
export const PASSWORD = 'correct horse battery';

/** A scratch directory for openssl's files. */
export interface Scratch {
  path: string;
  file(name: string): string;
  write(name: string, data: string | Uint8Array): Promise<string>;
  read(name: string): Promise<Buffer>;
  remove(): Promise<void>;
}

export async function scratch(): Promise<Scratch> {
  const path = await mkdtemp(join(tmpdir(), 'irp-pki-e2e-'));
  return {
    path,
    file: (name) => join(path, name),
    write: async (name, data) => {
      await writeFile(join(path, name), data);
      return join(path, name);
    },
    read: (name) => readFile(join(path, name)),
    remove: () => rm(path, { recursive: true, force: true }),
  };
}

/** Runs openssl and expects success; returns its output. */
export async function ok(args: string[], input?: string): Promise<string> {
  const result = await openssl(args, input);
  expect(result.code, `openssl ${args.join(' ')}\n${result.output}`).toBe(0);
  return result.output;
}

/** Starts the real server with generous rate limits. */
export async function startPkiServer(
  env: Record<string, string> = {},
  shared?: Parameters<typeof startTestServer>[1],
): Promise<TestServer> {
  return startTestServer(
    { IRP_RATE_LOGIN_PER_MIN: '100000', IRP_RATE_REGISTER_PER_MIN: '100000', ...env },
    shared,
  );
}

/** Creates an active user through the directory service, as an operator would. */
export async function createUser(
  server: TestServer,
  userId: string,
  profile: { displayName?: string; email?: string } = {},
): Promise<void> {
  await server.app.get(UsersService).createUser(OPERATOR, { userId, password: PASSWORD, profile });
}

/** Connects and logs in with UPA. */
export async function loginUpa(server: TestServer, userId: string): Promise<IrpClient> {
  const client = await server.connect();
  await client.call({ cmd: 'login', method: 'upa', user: userId, password: PASSWORD });
  return client;
}

/** GETs a URL and returns status, content type and body. */
export async function httpGet(
  url: string,
): Promise<{ status: number; type: string | null; body: Buffer }> {
  const response = await fetch(url);
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: Buffer.from(await response.arrayBuffer()),
  };
}

/** An openssl-made key and CSR (PEM) with `subject`, in `dir`. */
export async function opensslCsr(
  dir: Scratch,
  name: string,
  keyArgs: string[],
  subject = '/CN=Mallory/O=Evil Corp',
): Promise<{ keyPath: string; csrPem: string }> {
  const keyPath = dir.file(`${name}.key`);
  const csrPath = dir.file(`${name}.csr`);
  await ok([
    'req',
    '-new',
    '-nodes',
    ...keyArgs,
    '-keyout',
    keyPath,
    '-out',
    csrPath,
    '-subj',
    subject,
    '-addext',
    'subjectAltName=email:mallory@evil.example,URI:irp:mallory@example.com',
    '-addext',
    'extendedKeyUsage=serverAuth,codeSigning',
  ]);
  return { keyPath, csrPem: (await dir.read(`${name}.csr`)).toString('utf8') };
}

/** openssl key options: EC P-256. */
export const P256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
