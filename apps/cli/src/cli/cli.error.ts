import { type IrpResult } from '@irp/protocol';
import { ExitCode } from './exit-codes.js';

/**
 * An error the CLI reports and exits with: a message for humans, the exit code
 * of its class, optional hint lines and, for IRP failures, the result itself.
 */
export class CliError extends Error {
  /** Process exit code (see exit-codes.ts). */
  readonly exitCode: number;
  /** Extra lines shown under the message (what to do next). */
  readonly hints: readonly string[];
  /** The IRP result, when the server refused a command. */
  readonly result: IrpResult | undefined;

  /**
   * @param exitCode the exit code of this class of failure
   * @param message one line saying what went wrong
   * @param options hints, the IRP result and the cause
   */
  constructor(
    exitCode: number,
    message: string,
    options: { hints?: readonly string[]; result?: IrpResult; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.hints = options.hints ?? [];
    this.result = options.result;
  }

  /** A usage error (exit 2). */
  static usage(message: string, hints: readonly string[] = []): CliError {
    return new CliError(ExitCode.Usage, message, { hints });
  }

  /** A local state error (exit 5). */
  static local(message: string, hints: readonly string[] = [], cause?: unknown): CliError {
    return new CliError(ExitCode.LocalState, message, { hints, cause });
  }
}
