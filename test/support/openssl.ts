import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Runs `openssl` with `args`; resolves with stdout+stderr and the exit code (never rejects). */
export async function openssl(
  args: string[],
  input?: string,
): Promise<{ code: number; output: string }> {
  if (input === undefined) {
    try {
      const { stdout, stderr } = await run('openssl', args, {
        timeout: 20_000,
        maxBuffer: 16 * 1024 * 1024,
      });
      return { code: 0, output: stdout + stderr };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      return {
        code: typeof e.code === 'number' ? e.code : 1,
        output: (e.stdout ?? '') + (e.stderr ?? ''),
      };
    }
  }
  return new Promise((resolve) => {
    const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, output });
    });
    child.stdin.end(input);
  });
}

/**
 * Drives `openssl s_client` against a TLS endpoint: `ok` is whether the handshake
 * completed (a session was negotiated with a cipher), with the full transcript.
 */
export async function sClient(
  port: number,
  extra: string[],
): Promise<{ ok: boolean; output: string }> {
  const { output } = await openssl(
    ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', ...extra],
    '',
  );
  const cipher = /Cipher (?:is|:)\s*(\S+)/.exec(output)?.[1];
  const ok =
    cipher !== undefined &&
    cipher !== '(NONE)' &&
    cipher !== '0000' &&
    !/alert|handshake failure/i.test(output.split('---')[0] ?? '');
  return { ok, output };
}
