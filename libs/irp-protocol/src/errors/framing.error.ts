import { ResultCode } from '../result-codes.js';
import { IrpProtocolError } from './irp-protocol.error.js';

/**
 * A framing error (spec §2): a frame length of 0 or above the receiver's
 * `maxFrameBytes`. Always code 2500: the server answers once (if it can) and
 * closes the connection. `id` and `cmd` are always `""`.
 */
export class FramingError extends IrpProtocolError {
  /** @param message what was wrong with the frame */
  constructor(message = 'Framing error') {
    super(ResultCode.CommandFailedClosing, message);
    this.name = 'FramingError';
  }
}
