/**
 * Errors of the feature services, shared by IRP handlers, REST controllers and GraphQL
 * resolvers. Each code maps to exactly one IRP result and one HTTP status, in
 * `domain-error.mapping.ts` (house rule 5).
 */
export enum DomainErrorCode {
  MissingParameter = 'missing-parameter',
  ValueRange = 'value-range',
  ValueSyntax = 'value-syntax',
  UseError = 'use-error',
  NotImplemented = 'not-implemented',
  AuthenticationFailed = 'authentication-failed',
  Forbidden = 'forbidden',
  InvalidAuthorization = 'invalid-authorization',
  Locked = 'locked',
  Exists = 'exists',
  NotFound = 'not-found',
  StatusProhibits = 'status-prohibits',
  Policy = 'policy',
  RateLimited = 'rate-limited',
  Unavailable = 'unavailable',
}

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly options: { retryAfter?: number; field?: string } = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
