/**
 * Why a PKI operation failed. The server maps every code to an IRP result
 * exhaustively (`switch` + `assertUnreachable`); the mapping depends on the
 * command, so it lives in the server, not here.
 *
 * | code | meaning | typical IRP result |
 * |---|---|---|
 * | `syntax` | input cannot be parsed (PEM/DER/base64/CSR/PFX/text) or a CSR's proof-of-possession signature fails | 2005 |
 * | `policy` | parseable but not allowed: weak or unsupported key, weak signature hash, certificate not naming the caller | 2306 |
 * | `validity` | outside the validity period at the time of the check | 2304 |
 * | `chain` | does not chain to the expected issuer / trust anchor, or an issuer is not a CA | 2306 (upload) / 2200 (SCA) |
 * | `mismatch` | two things that must belong together do not (key vs. certificate, algorithm vs. key type) | 2306 |
 * | `decrypt` | decryption or integrity check failed: wrong master key, wrong passphrase, or tampered data | 2200/2306 or fatal at start-up |
 * | `unsupported` | well-formed but uses an algorithm or feature this library does not implement | 2101 / 2306 |
 * | `argument` | an option passed by the caller is invalid (programming or configuration error) | 2400 / 2004 |
 */
export type PkiErrorCode =
  'syntax' | 'policy' | 'validity' | 'chain' | 'mismatch' | 'decrypt' | 'unsupported' | 'argument';

/** Every {@link PkiErrorCode}, for exhaustive tables and tests. */
export const PKI_ERROR_CODES: readonly PkiErrorCode[] = [
  'syntax',
  'policy',
  'validity',
  'chain',
  'mismatch',
  'decrypt',
  'unsupported',
  'argument',
];

/**
 * The one error class thrown by `@irp/pki` for expected failures. Messages never
 * contain key material or passphrases.
 */
export class PkiError extends Error {
  override readonly name = 'PkiError';

  /**
   * @param code machine-readable reason, see {@link PkiErrorCode}
   * @param message human-readable explanation (safe to log)
   * @param options standard `ErrorOptions` (`cause`)
   */
  constructor(
    readonly code: PkiErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  /** True when `error` is a {@link PkiError}, optionally with the given code. */
  static is(error: unknown, code?: PkiErrorCode): error is PkiError {
    return error instanceof PkiError && (code === undefined || error.code === code);
  }
}
