#!/usr/bin/env node
/**
 * `irp`: the command-line client of the Identity Registration Protocol (IRP 1.0)
 * and of End2End Direct. See `irp --help` and the README's "Five minutes with irp".
 */
import { readFileSync } from 'node:fs';
import { COMMANDS, findCommand } from './commands/index.js';
import { CliError } from './cli/cli.error.js';
import { type CliContext } from './cli/context.js';
import { toCliError } from './cli/error-mapping.js';
import { ExitCode } from './cli/exit-codes.js';
import { commandHelp, mainHelp } from './cli/help.js';
import { flag, int, parseCommandLine, scanPositionals } from './cli/options.js';
import { Output } from './cli/output.js';
import { defaultConfigDir, ProfileStore } from './store/profile-store.js';

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Runs one command line; resolves with the exit code. Never throws. */
export async function main(argv: readonly string[]): Promise<number> {
  let out = new Output(argv.includes('--json'), argv.includes('--quiet') || argv.includes('-q'));
  try {
    const positionals = scanPositionals(argv);
    const found = findCommand(positionals);
    if (!found) {
      if (argv.includes('--version')) {
        process.stdout.write(`irp ${version()}\n`);
        return ExitCode.Ok;
      }
      if (argv.includes('--help') || argv.includes('-h')) {
        process.stdout.write(`${mainHelp(COMMANDS)}\n`);
        return ExitCode.Ok;
      }
      if (positionals.length === 0) {
        process.stderr.write(`${mainHelp(COMMANDS)}\n`);
        return ExitCode.Usage;
      }
      const group = COMMANDS.filter((c) => c.path[0] === positionals[0]);
      throw CliError.usage(
        `unknown command: ${positionals.slice(0, 2).join(' ')}`,
        group.length > 0
          ? group.map((c) => `irp ${c.path.join(' ')} ${c.usage}`.trimEnd())
          : ['irp --help lists the commands'],
      );
    }
    const { command } = found;
    const { values, positionals: all } = parseCommandLine(argv, command.options ?? []);
    out = new Output(flag(values, 'json'), flag(values, 'quiet'));
    if (flag(values, 'help')) {
      process.stdout.write(`${commandHelp(command)}\n`);
      return ExitCode.Ok;
    }
    const args = all.slice(command.path.length);
    const [min, max] = command.args ?? [0, 0];
    if (args.length < min || args.length > max) {
      throw CliError.usage(
        args.length < min ? 'missing argument' : `unexpected argument: ${args[max] ?? ''}`,
        [`usage: irp ${command.path.join(' ')} ${command.usage}`.trimEnd()],
      );
    }
    const ctx: CliContext = {
      values,
      args,
      out,
      store: new ProfileStore(defaultConfigDir(process.env)),
      env: process.env,
      timeoutMs: (int(values, 'timeout', 1, 3600) ?? 15) * 1000,
    };
    return (await command.run(ctx)) ?? ExitCode.Ok;
  } catch (e) {
    const error = toCliError(e);
    out.error(error);
    return error.exitCode;
  }
}

const code = await main(process.argv.slice(2));
// Let stdout drain (pipes may be asynchronous), then exit even if stdin or timers are still open.
process.stdout.write('', () => process.exit(code));
