/**
 * Helpers of the `irp` end-to-end tests (test/e2e/cli*.spec.ts): the BUILT command
 * line client (apps/cli/dist/main.js) run as child processes, each "machine" with
 * its own configuration directory, against a real server started in this process.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '../support/test-server.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The built CLI: `npx tsc -b apps/cli/tsconfig.build.json` makes it. */
export const CLI_MAIN = join(ROOT, 'apps/cli/dist/main.js');

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, await newestMtime(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts'))
      newest = Math.max(newest, (await stat(path)).mtimeMs);
  }
  return newest;
}

/** Fails with a clear message when the CLI is not built, or older than its sources. */
export async function assertCliBuilt(): Promise<void> {
  const hint = 'build the CLI first: npx tsc -b apps/cli/tsconfig.build.json';
  if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: ${hint}`);
  const info = join(ROOT, 'apps/cli/dist/.tsbuildinfo');
  const built = statSync(existsSync(info) ? info : CLI_MAIN).mtimeMs;
  if ((await newestMtime(join(ROOT, 'apps/cli/src'))) > built + 1000)
    throw new Error(`apps/cli/dist is older than apps/cli/src: ${hint}`);
}

/** The server the CLI tests talk to: open registration, loopback addresses allowed. */
export async function startCliTestServer(
  env: Record<string, string> = {},
): Promise<TestServer & { caFile: string; serverArg: string }> {
  const server = await startTestServer({
    IRP_ALLOW_LOCAL_ADDRESSES: 'true',
    IRP_OPEN_REGISTRATION: 'true',
    IRP_RATE_LOGIN_PER_MIN: '100000',
    IRP_RATE_REGISTER_PER_MIN: '100000',
    ...env,
  });
  const caFile = join(server.dataDir, 'ca', 'root.pem');
  if (!existsSync(caFile)) await writeFile(caFile, server.serverCa);
  return Object.assign(server, { caFile, serverArg: `localhost:${server.irpPort}` });
}

/** The outcome of one CLI run. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One "machine": its own configuration directory and home, and the environment of its runs. */
export class Machine {
  private constructor(
    readonly dir: string,
    readonly env: Record<string, string>,
  ) {}

  /** A machine with a fresh configuration directory; `env` is added to every run. */
  static async create(name: string, env: Record<string, string> = {}): Promise<Machine> {
    const dir = await mkdtemp(join(tmpdir(), `irp-cli-${name}-`));
    return new Machine(dir, {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      IRP_CONFIG_DIR: join(dir, 'config'),
      ...env,
    });
  }

  /** Path of a file in this machine's configuration directory. */
  configPath(...parts: string[]): string {
    return join(this.dir, 'config', ...parts);
  }

  /** Runs `irp ARGS` to completion. */
  run(
    args: readonly string[],
    opts: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
  ): Promise<CliResult> {
    const child = this.spawn(args, opts.env);
    child.write(opts.input ?? '');
    child.end();
    return child.result(opts.timeoutMs ?? 20_000);
  }

  /** Runs `irp --json ARGS` and parses stdout (expecting exit 0). */
  async json<T = Record<string, unknown>>(
    args: readonly string[],
    opts: { env?: Record<string, string> } = {},
  ): Promise<T> {
    const r = await this.run(['--json', ...args], opts);
    if (r.code !== 0)
      throw new Error(`irp ${args.join(' ')} exited ${r.code}\n${r.stderr}\n${r.stdout}`);
    return JSON.parse(r.stdout) as T;
  }

  /** Starts `irp ARGS` and leaves it running (stdin open). */
  spawn(args: readonly string[], env: Record<string, string> = {}): CliProcess {
    return new CliProcess(
      spawn(process.execPath, [CLI_MAIN, ...args], { env: { ...this.env, ...env }, stdio: 'pipe' }),
      args,
    );
  }

  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A running `irp`, with what it printed so far. */
export class CliProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly child: ChildProcessWithoutNullStreams,
    readonly args: readonly string[],
  ) {
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (t: string) => {
      this.stdout += t;
      this.wake();
    });
    child.stderr.on('data', (t: string) => {
      this.stderr += t;
      this.wake();
    });
    child.stdin.on('error', () => undefined);
    this.exited = new Promise((resolve) =>
      child.once('close', (code) => {
        this.wake();
        resolve(code);
      }),
    );
  }

  private wake(): void {
    for (const w of this.waiters) w();
  }

  /** Writes to its stdin. */
  write(text: string): void {
    if (text !== '') this.child.stdin.write(text);
  }

  /** Closes its stdin (Ctrl-D). */
  end(): void {
    this.child.stdin.end();
  }

  /** Waits until stdout or stderr matches; returns the match. */
  waitFor(
    stream: 'stdout' | 'stderr',
    pattern: RegExp,
    timeoutMs = 15_000,
  ): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const m = this[stream].match(pattern);
        if (m) {
          cleanup();
          resolve(m);
          return true;
        }
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          cleanup();
          reject(
            new Error(
              `irp ${this.args.join(' ')} exited (${this.child.exitCode}) before ${stream} matched ${pattern}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`,
            ),
          );
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `timed out waiting for ${pattern} on ${stream} of irp ${this.args.join(' ')}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`,
          ),
        );
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters.delete(onWake);
      };
      const onWake = (): void => void check();
      this.waiters.add(onWake);
      check();
    });
  }

  /** Waits for the exit; kills it after `timeoutMs`. */
  async result(timeoutMs = 20_000): Promise<CliResult> {
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      this.exited,
      new Promise<null>((resolve) => {
        timer = setTimeout(() => {
          this.child.kill('SIGKILL');
          resolve(null);
        }, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (code === null && this.child.exitCode === null)
      throw new Error(
        `irp ${this.args.join(' ')} did not exit within ${timeoutMs} ms\nstdout: ${this.stdout}\nstderr: ${this.stderr}`,
      );
    return { code: this.child.exitCode ?? code, stdout: this.stdout, stderr: this.stderr };
  }

  /** Stops it (SIGTERM) if still running. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      await Promise.race([this.exited, new Promise((r) => setTimeout(r, 3000))]);
      if (this.child.exitCode === null) this.child.kill('SIGKILL');
    }
  }
}
