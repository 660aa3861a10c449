import { IrpClientError } from './irp-client.error.js';

/**
 * The connection closed while a request was in flight (or before it was sent):
 * by `close()`, by the server (after 1500/25xx, spec §5), or by a network error
 * (then `cause` holds it).
 */
export class IrpConnectionClosedError extends IrpClientError {
  /** True when the client itself closed the connection. */
  readonly byClient: boolean;

  /**
   * @param message why the connection closed
   * @param byClient whether `close()` caused it
   * @param cause the underlying error, if any
   */
  constructor(message: string, byClient: boolean, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'IrpConnectionClosedError';
    this.byClient = byClient;
  }
}
