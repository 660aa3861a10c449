import { formatTime, RESULT_MESSAGES, isResultCode } from '@irp/protocol';
import { type CliError } from './cli.error.js';

/** Where the CLI writes: stdout for results, stderr for progress and errors. */
export interface OutputStreams {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/**
 * Turns a value into plain JSON data: dates as RFC 3339 UTC (spec §3), octets as
 * base64, undefined fields dropped.
 */
export function toJsonValue(value: unknown): unknown {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : formatTime(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJsonValue(v);
    return out;
  }
  return value;
}

/**
 * Human output by default (results on stdout, progress on stderr), or JSON for
 * scripts (`--json`: one document per command, one line per event of a stream).
 */
export class Output {
  constructor(
    readonly json: boolean,
    private readonly quiet: boolean,
    private readonly streams: OutputStreams = { stdout: process.stdout, stderr: process.stderr },
  ) {}

  /** A progress line for a slow step (stderr; suppressed by --quiet). */
  progress(message: string): void {
    if (!this.quiet) this.streams.stderr.write(`… ${message}\n`);
  }

  /** A note for the human (stderr, also in JSON mode; suppressed by --quiet). */
  note(message: string): void {
    if (!this.quiet) this.streams.stderr.write(`${message}\n`);
  }

  /** A warning (stderr, always). */
  warn(message: string): void {
    this.streams.stderr.write(`irp: warning: ${message}\n`);
  }

  /** Text that must reach the user even in --quiet mode (stderr), e.g. a prompt's context. */
  tell(message: string): void {
    this.streams.stderr.write(`${message}\n`);
  }

  /** The result of a command: `data` as JSON, or the human lines. */
  result(data: unknown, human: () => string | readonly string[]): void {
    if (this.json) {
      this.streams.stdout.write(`${JSON.stringify(toJsonValue(data), null, 2)}\n`);
      return;
    }
    const lines = human();
    const text = typeof lines === 'string' ? lines : lines.join('\n');
    if (text !== '') this.streams.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** One event of a stream (watch, peer): a JSON line, or human lines. */
  event(data: unknown, human: () => string): void {
    if (this.json) this.streams.stdout.write(`${JSON.stringify(toJsonValue(data))}\n`);
    else {
      const text = human();
      this.streams.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    }
  }

  /** Raw text on stdout (chat lines, raw XML). */
  raw(text: string): void {
    this.streams.stdout.write(text);
  }

  /** Reports an error: always a human line on stderr; in JSON mode also `{error}` on stdout. */
  error(error: CliError): void {
    const lines = [`irp: ${error.message}`, ...error.hints.map((h) => `  ${h}`)];
    this.streams.stderr.write(`${lines.join('\n')}\n`);
    if (this.json) {
      const result = error.result;
      this.streams.stdout.write(
        `${JSON.stringify(
          toJsonValue({
            error: {
              exitCode: error.exitCode,
              message: error.message,
              ...(result
                ? {
                    code: result.code,
                    meaning: isResultCode(result.code) ? RESULT_MESSAGES[result.code] : undefined,
                    serverMessage: result.message,
                    reason: result.reason,
                    retryAfter: result.retryAfter,
                  }
                : {}),
              hints: error.hints.length > 0 ? error.hints : undefined,
            },
          }),
          null,
          2,
        )}\n`,
      );
    }
  }
}
