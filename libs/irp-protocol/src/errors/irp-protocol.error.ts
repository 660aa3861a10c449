import { type IrpResult } from '../messages/result.js';
import { RESULT_MESSAGES, type ResultCode } from '../result-codes.js';

/** Optional details of an {@link IrpProtocolError}. */
export interface IrpProtocolErrorOptions {
  /** Client transaction id of the refused command, `""` when not identified (spec §4). */
  id?: string;
  /** Name of the refused command element, `""` when not identified (spec §4). */
  cmd?: string;
  /** Seconds after which the client may retry (spec §4 `retryAfter`). */
  retryAfter?: number;
  /** Detail rendered as the `<reason>` child of `<result>`. */
  reason?: string;
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * A protocol-level refusal that carries its IRP result code (spec §5) and can
 * render itself as the `<result>` of a response.
 *
 * `id` and `cmd` are filled in as far as the decoder identified the command
 * (spec §4: a frame refused before a command was identified has `id=""` and
 * `cmd=""`). For an unknown command `cmd` holds the element name that was sent
 * (for logs); see `errorResponse()` for what goes on the wire.
 */
export class IrpProtocolError extends Error {
  /** The IRP result code (spec §5). */
  readonly code: ResultCode;
  /** Client transaction id, `""` when not identified. */
  id: string;
  /** Command element name, `""` when not identified. */
  cmd: string;
  /** Seconds after which the client may retry. */
  readonly retryAfter?: number;
  /** Detail for the `<reason>` child of `<result>`. */
  readonly reason?: string;

  /**
   * @param code the IRP result code
   * @param message the human readable result text; defaults to the spec §5 meaning
   * @param opts id/cmd as far as identified, retryAfter, reason, cause
   */
  constructor(code: ResultCode, message?: string, opts: IrpProtocolErrorOptions = {}) {
    super(
      message ?? RESULT_MESSAGES[code],
      opts.cause === undefined ? undefined : { cause: opts.cause },
    );
    this.name = 'IrpProtocolError';
    this.code = code;
    this.id = opts.id ?? '';
    this.cmd = opts.cmd ?? '';
    if (opts.retryAfter !== undefined) this.retryAfter = opts.retryAfter;
    if (opts.reason !== undefined) this.reason = opts.reason;
  }

  /** Renders the error as the `<result>` of a response (spec §4). */
  toResult(): IrpResult {
    const result: IrpResult = { code: this.code, message: this.message };
    if (this.retryAfter !== undefined) result.retryAfter = this.retryAfter;
    if (this.reason !== undefined) result.reason = this.reason;
    return result;
  }
}
