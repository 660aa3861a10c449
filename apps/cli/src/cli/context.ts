import { type ProfileStore } from '../store/profile-store.js';
import { type OptionName, type OptionValues } from './options.js';
import { type Output } from './output.js';
import { type Env } from './secrets.js';

/** What a command runs with. */
export interface CliContext {
  /** Parsed options (global and the command's). */
  values: OptionValues;
  /** Positional arguments after the command words. */
  args: string[];
  out: Output;
  store: ProfileStore;
  env: Env;
  /** Connect and request timeout in ms. */
  timeoutMs: number;
}

/** A command of `irp`. */
export interface CommandSpec {
  /** Command words, e.g. `['cert', 'request']`. */
  path: readonly string[];
  /** Arguments and options after the words, for help. */
  usage: string;
  summary: string;
  /** Options of this command (the global ones are always accepted). */
  options?: readonly OptionName[];
  /** Number of positional arguments allowed. */
  args?: readonly [min: number, max: number];
  /** Runs it; resolves with the exit code (default 0). */
  run(ctx: CliContext): Promise<number | void>;
}
