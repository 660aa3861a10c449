import { spawn } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertCliBuilt, CLI_MAIN, Machine, ROOT, startCliTestServer } from './cli-support.js';

/** The README's "Five minutes with irp" section: from its heading to the next `## ` heading. */
function walkthrough(readme: string): string {
  const start = readme.indexOf('\n## Five minutes with irp\n');
  if (start < 0) throw new Error('README.md has no "## Five minutes with irp" section');
  const end = readme.indexOf('\n## ', start + 5);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** The fenced ```sh blocks of a markdown text, in order. */
export function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '');
}

/** True when this machine has an address `irp addr register --auto` can use. */
function hasUsableAddress(): boolean {
  return Object.values(networkInterfaces()).some((infos) =>
    (infos ?? []).some(
      (i) => !i.internal && !i.address.startsWith('fe80') && !i.address.startsWith('169.254.'),
    ),
  );
}

/**
 * the README's "Five minutes with irp" works as written: every ```sh block runs, in order, in one
 * directory, with `irp` on the PATH, against a fresh server. The test sets only what
 * the text says a reader sets or scripts use instead of prompts: IRP_SERVER (the
 * documented variable, here with the test server's port), IRP_CONFIG_DIR, IRP_YES,
 * IRP_PASSWORD and IRP_PASSPHRASE.
 */
describe('README: Five minutes with irp', () => {
  let server: Awaited<ReturnType<typeof startCliTestServer>>;
  let machine: Machine;

  beforeAll(async () => {
    await assertCliBuilt();
    server = await startCliTestServer();
    machine = await Machine.create('walkthrough');
  });
  afterAll(async () => {
    await server?.close();
    await machine?.dispose();
  });

  it('has the walkthrough blocks', async () => {
    const blocks = shellBlocks(walkthrough(await readFile(join(ROOT, 'README.md'), 'utf8')));
    expect(blocks.length).toBeGreaterThanOrEqual(6);
    expect(blocks.join('\n')).toContain('irp --user alice peer connect bob');
  });

  it.skipIf(!hasUsableAddress())(
    'runs every shell block as written',
    async () => {
      const blocks = shellBlocks(walkthrough(await readFile(join(ROOT, 'README.md'), 'utf8')));
      // `irp` on the PATH, as `npm i -g ./apps/cli` would put it
      const bin = join(machine.dir, 'bin');
      await mkdir(bin, { recursive: true });
      await writeFile(
        join(bin, 'irp'),
        `#!/bin/sh\nexec "${process.execPath}" "${CLI_MAIN}" "$@"\n`,
      );
      await chmod(join(bin, 'irp'), 0o755);
      const env = {
        ...machine.env,
        PATH: `${bin}:${machine.env.PATH ?? ''}`,
        IRP_SERVER: server.serverArg,
        IRP_YES: '1',
        IRP_PASSWORD: 'walkthrough-Password-1',
        IRP_PASSPHRASE: 'walkthrough passphrase',
      };
      const outputs: string[] = [];
      for (const [index, block] of blocks.entries()) {
        const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
          (resolve) => {
            const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', block], {
              cwd: machine.dir,
              env,
              stdio: 'pipe',
            });
            let stdout = '';
            let stderr = '';
            child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
            child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
            const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
            child.on('close', (code) => {
              clearTimeout(timer);
              resolve({ code, stdout, stderr });
            });
          },
        );
        expect(
          result.code,
          `block ${index + 1} failed:\n${block}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`,
        ).toBe(0);
        outputs.push(result.stdout);
      }
      const all = outputs.join('\n');
      expect(all).toContain('registered alice@example.com');
      expect(all).toContain('sca (certificate)');
      expect(all).toContain('password login is now OFF');
      expect(all).toContain('attestation verified');
      expect(all).toContain("hello bob, it's alice"); // printed by bob's listener
      expect(all).toMatch(/busy — in a meeting/); // the change the watch saw
    },
    120_000,
  );
});
