import { IrpClientError } from './irp-client.error.js';

/** A connect (TCP + TLS + greeting) or a request took longer than its timeout. */
export class IrpTimeoutError extends IrpClientError {
  /** The timeout that elapsed, in milliseconds. */
  readonly timeoutMs: number;

  /** @param what what timed out @param timeoutMs the limit */
  constructor(what: string, timeoutMs: number) {
    super(`${what} timed out after ${timeoutMs} ms`);
    this.name = 'IrpTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}
