import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Result of one openssl run. */
export interface OpensslResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the openssl CLI (the independent judge of these tests); never throws on a non-zero exit. */
export function openssl(args: readonly string[], cwd?: string): Promise<OpensslResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'openssl',
      [...args],
      { cwd, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`cannot run openssl: ${error.message}`, { cause: error }));
          return;
        }
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
  });
}

/** A temporary directory for one test file, removed by `cleanup()`. */
export interface TempDir {
  readonly path: string;
  file(name: string): string;
  write(name: string, data: string | Uint8Array): Promise<string>;
  read(name: string): Promise<Buffer>;
  cleanup(): Promise<void>;
}

/** Creates a temporary directory under the OS temp dir. */
export async function makeTempDir(prefix = 'irp-pki-'): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return {
    path,
    file: (name) => join(path, name),
    write: async (name, data) => {
      const p = join(path, name);
      await writeFile(p, data);
      return p;
    },
    read: (name) => readFile(join(path, name)),
    cleanup: () => rm(path, { recursive: true, force: true }),
  };
}

/** Throws with openssl's stderr when a run failed. */
export function ok(result: OpensslResult): OpensslResult {
  if (result.code !== 0) throw new Error(`openssl failed (${result.code}): ${result.stderr}`);
  return result;
}
