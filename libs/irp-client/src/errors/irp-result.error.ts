import { type IrpResponse, type IrpResult, type ResultCode } from '@irp/protocol';
import { IrpClientError } from './irp-client.error.js';

/** A response whose result is a failure (2xxx), raised by `IrpClient.call()`. */
export class IrpResultError extends IrpClientError {
  /** The result code (spec §5). */
  readonly code: ResultCode;
  /** The full result (message, retryAfter, reason). */
  readonly result: IrpResult;
  /** The whole response. */
  readonly response: IrpResponse;

  /** @param response the failed response */
  constructor(response: IrpResponse) {
    super(
      `${response.cmd || 'command'} failed with ${response.result.code}: ${response.result.message}`,
    );
    this.name = 'IrpResultError';
    this.code = response.result.code;
    this.result = response.result;
    this.response = response;
  }
}
