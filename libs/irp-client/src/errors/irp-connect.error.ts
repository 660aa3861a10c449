import { IrpClientError } from './irp-client.error.js';

/** One failed connection attempt of {@link IrpConnectError}. */
export interface IrpConnectAttempt {
  host: string;
  port: number;
  error: Error;
}

/**
 * Could not establish an IRP session: TCP/TLS failure, certificate not trusted,
 * ALPN refused, no greeting, or every SRV target failed (`attempts`, spec §1).
 */
export class IrpConnectError extends IrpClientError {
  /** Every target tried, in order, with its error. */
  readonly attempts: readonly IrpConnectAttempt[];

  /**
   * @param message summary
   * @param attempts the targets tried
   * @param cause the underlying error; defaults to the last attempt's
   */
  constructor(message: string, attempts: readonly IrpConnectAttempt[], cause?: unknown) {
    const c = cause ?? attempts[attempts.length - 1]?.error;
    super(message, c === undefined ? undefined : { cause: c });
    this.name = 'IrpConnectError';
    this.attempts = attempts;
  }
}
