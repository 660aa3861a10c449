import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { type ReadStream } from 'node:tty';
import { CliError } from './cli.error.js';
import { ExitCode } from './exit-codes.js';

/**
 * Where a secret (password, passphrase, enrollment code) comes from. Secrets are
 * never taken from the command line (they would show in `ps` and shell history):
 * a file named by an option, then an environment variable, then a prompt on the
 * terminal without echo.
 */
export interface SecretSource {
  /** What it is, for prompts and errors: `password`, `new password`, `passphrase`. */
  what: string;
  /** Path given by the `--…-file` option, if any. */
  file: string | undefined;
  /** Name of the `--…-file` option (for the error message). */
  fileOption: string;
  /** Environment variable that may hold it. */
  envVar: string;
  /** Ask twice and compare (new secrets). */
  confirm?: boolean;
  /** Prompt text (default `<What>: `). */
  prompt?: string;
}

/** The environment the CLI reads secrets from (process.env; injectable for tests). */
export type Env = Readonly<Record<string, string | undefined>>;

/** True when prompts can be shown: stdin is a terminal. */
export function canPrompt(): boolean {
  return process.stdin.isTTY === true;
}

/** The first line of a file, without its line ending; everything else is used exactly (spec §3). */
export async function readSecretFile(path: string, what: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw CliError.local(`cannot read the ${what} file ${path}: ${(e as Error).message}`);
  }
  const line = text.split('\n')[0] ?? '';
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/**
 * Reads a secret from its file, its environment variable, or a prompt.
 * @throws CliError (local state, exit 5) when none is available
 */
export async function readSecret(source: SecretSource, env: Env): Promise<string> {
  if (source.file !== undefined) return readSecretFile(source.file, source.what);
  const fromEnv = env[source.envVar];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!canPrompt()) {
    throw CliError.local(`no ${source.what} given`, [
      `set ${source.envVar}, use --${source.fileOption} FILE, or run irp on a terminal to be asked`,
    ]);
  }
  const label = source.prompt ?? `${source.what[0]?.toUpperCase() ?? ''}${source.what.slice(1)}: `;
  for (;;) {
    const first = await readHidden(label);
    if (!source.confirm) return first;
    const second = await readHidden(`Repeat ${source.what}: `);
    if (first === second) return first;
    process.stderr.write(`The two ${source.what}s differ; again.\n`);
  }
}

/** Reads one line from the terminal without echo. */
export function readHidden(prompt: string): Promise<string> {
  const stdin = process.stdin as ReadStream;
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let value: string[] = [];
    const finish = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: Buffer | string): void => {
      for (const ch of typeof chunk === 'string' ? chunk : chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          finish();
          resolve(value.join(''));
          return;
        }
        if (ch === '\u0003' || (ch === '\u0004' && value.length === 0)) {
          finish();
          reject(new CliError(ExitCode.Interrupted, 'interrupted'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch === '\u0015') value = [];
        else value.push(ch);
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}

/** Asks a yes/no question on the terminal; undefined when there is no terminal. */
export async function askYesNo(question: string): Promise<boolean | undefined> {
  if (!canPrompt()) return undefined;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    rl.close();
  }
}
