/** Base class of the errors the IRP client raises itself (not protocol results). */
export class IrpClientError extends Error {
  /** @param message what went wrong @param options the underlying cause, if any */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IrpClientError';
  }
}
