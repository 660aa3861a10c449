/**
 * IRP result codes, spec §5, as one typed table.
 *
 * 1xxx codes are successes, 2xxx are failures. The four codes 1500, 2500, 2501
 * and 2502 mean the server closes the connection after sending the response.
 */
export const ResultCode = {
  Success: 1000,
  SuccessPending: 1001,
  SuccessEnding: 1500,
  UnknownCommand: 2000,
  SyntaxError: 2001,
  UseError: 2002,
  MissingParameter: 2003,
  ValueRange: 2004,
  ValueSyntax: 2005,
  UnimplementedVersion: 2100,
  UnimplementedOption: 2101,
  AuthenticationError: 2200,
  AuthorizationError: 2201,
  InvalidAuthorization: 2202,
  AccountLocked: 2204,
  ObjectExists: 2302,
  ObjectDoesNotExist: 2303,
  StatusProhibits: 2304,
  PolicyError: 2306,
  CommandFailed: 2400,
  ServiceUnavailable: 2401,
  CommandFailedClosing: 2500,
  AuthenticationErrorClosing: 2501,
  SessionLimitExceeded: 2502,
  RateLimitExceeded: 2503,
} as const;

/** One of the numeric IRP result codes of spec §5. */
export type ResultCode = (typeof ResultCode)[keyof typeof ResultCode];

/** The human readable meaning of every result code, verbatim from spec §5. */
export const RESULT_MESSAGES: Readonly<Record<ResultCode, string>> = Object.freeze({
  1000: 'Command completed successfully',
  1001: 'Command completed successfully; action pending',
  1500: 'Command completed successfully; ending session',
  2000: 'Unknown command',
  2001: 'Command syntax error',
  2002: 'Command use error',
  2003: 'Required parameter missing',
  2004: 'Parameter value range error',
  2005: 'Parameter value syntax error',
  2100: 'Unimplemented protocol version',
  2101: 'Unimplemented option',
  2200: 'Authentication error',
  2201: 'Authorization error',
  2202: 'Invalid authorization information',
  2204: 'Account temporarily locked',
  2302: 'Object exists',
  2303: 'Object does not exist',
  2304: 'Object status prohibits operation',
  2306: 'Parameter value policy error',
  2400: 'Command failed',
  2401: 'Service temporarily unavailable',
  2500: 'Command failed; server closing connection',
  2501: 'Authentication error; server closing connection',
  2502: 'Session limit exceeded; server closing connection',
  2503: 'Rate limit exceeded',
});

/** Every result code of spec §5, in ascending order. */
export const RESULT_CODES: readonly ResultCode[] = Object.freeze(
  (Object.values(ResultCode) as ResultCode[]).slice().sort((a, b) => a - b),
);

const RESULT_CODE_SET: ReadonlySet<number> = new Set<number>(RESULT_CODES);

/** True when `code` is one of the result codes of spec §5 (narrows the type). */
export function isResultCode(code: number): code is ResultCode {
  return RESULT_CODE_SET.has(code);
}

/** True for the 1xxx success codes (1000, 1001, 1500) — spec §5. */
export function isSuccessCode(code: ResultCode): boolean {
  return code < 2000;
}

/**
 * True for the codes after which the server closes the connection:
 * 1500 (logout), 2500 (framing/fatal), 2501 (too many auth failures),
 * 2502 (session limit) — spec §5, §6.1.
 */
export function closesConnection(code: ResultCode): boolean {
  return (
    code === ResultCode.SuccessEnding ||
    code === ResultCode.CommandFailedClosing ||
    code === ResultCode.AuthenticationErrorClosing ||
    code === ResultCode.SessionLimitExceeded
  );
}
