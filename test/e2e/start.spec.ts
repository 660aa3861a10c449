import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { RawIrp } from '../support/raw-irp.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

async function waitFor<T>(
  what: string,
  ms: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The README's promise: `npm start` (the production build, as `npm ci` leaves it) serves
 * a greeting on the IRP port within 30 s on the embedded database, and SIGTERM ends it
 * cleanly with exit code 0.
 */
describe('npm start', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('greets within 30 s on a new embedded database, and exits 0 on SIGTERM after a shutdown notify', async () => {
    expect(
      existsSync(join(ROOT, 'apps/server/dist/main.js')),
      'run `npm run build` (npm ci does it) first',
    ).toBe(true);
    const dataDir = await mkdtemp(join(tmpdir(), 'irp-start-'));
    dirs.push(dataDir);
    const [irpPort, httpPort] = [await freePort(), await freePort()];
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      IRP_DATA_DIR: dataDir,
      IRP_PORT: String(irpPort),
      HTTP_PORT: String(httpPort),
    };
    const started = Date.now();
    const child = spawn(process.execPath, ['scripts/start.mjs'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    try {
      const ca = await waitFor('the TLS certificate', 30_000, async () => {
        const pem = await readFile(join(dataDir, 'tls', 'server.crt'), 'utf8');
        return pem.includes('BEGIN CERTIFICATE') ? pem : undefined;
      });
      const conn = await waitFor('a TLS connection', 30_000, () => RawIrp.open(irpPort, ca));
      const [greeting] = await conn.waitFor(1);
      expect(greeting?.kind).toBe('greeting');
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(existsSync(join(dataDir, 'pgdata', 'PG_VERSION'))).toBe(true);

      const health = (await (await fetch(`http://127.0.0.1:${httpPort}/healthz`)).json()) as {
        status: string;
      };
      expect(health.status).toBe('ok');
      const page = await (await fetch(`http://127.0.0.1:${httpPort}/`)).text();
      expect(page).toContain('<div id="root">');

      child.kill('SIGTERM');
      await conn.waitClosed(15_000);
      const notify = conn.messages.find((m) => m.kind === 'notify');
      expect(notify?.kind === 'notify' && notify.notify).toMatchObject({
        event: 'session',
        reason: 'shutdown',
      });
      expect(await exited, output).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});
