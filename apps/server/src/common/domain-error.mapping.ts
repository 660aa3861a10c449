import { ResultCode } from '@irp/protocol';
import { assertUnreachable } from './assert-unreachable.js';
import { DomainErrorCode } from './domain.error.js';

/** The one mapping from feature error codes to IRP results (spec §5). */
export function domainErrorToResultCode(code: DomainErrorCode): ResultCode {
  switch (code) {
    case DomainErrorCode.MissingParameter:
      return ResultCode.MissingParameter;
    case DomainErrorCode.ValueRange:
      return ResultCode.ValueRange;
    case DomainErrorCode.ValueSyntax:
      return ResultCode.ValueSyntax;
    case DomainErrorCode.UseError:
      return ResultCode.UseError;
    case DomainErrorCode.NotImplemented:
      return ResultCode.UnimplementedOption;
    case DomainErrorCode.AuthenticationFailed:
      return ResultCode.AuthenticationError;
    case DomainErrorCode.Forbidden:
      return ResultCode.AuthorizationError;
    case DomainErrorCode.InvalidAuthorization:
      return ResultCode.InvalidAuthorization;
    case DomainErrorCode.Locked:
      return ResultCode.AccountLocked;
    case DomainErrorCode.Exists:
      return ResultCode.ObjectExists;
    case DomainErrorCode.NotFound:
      return ResultCode.ObjectDoesNotExist;
    case DomainErrorCode.StatusProhibits:
      return ResultCode.StatusProhibits;
    case DomainErrorCode.Policy:
      return ResultCode.PolicyError;
    case DomainErrorCode.RateLimited:
      return ResultCode.RateLimitExceeded;
    case DomainErrorCode.Unavailable:
      return ResultCode.ServiceUnavailable;
    default:
      return assertUnreachable(code);
  }
}

/** The one mapping from feature error codes to HTTP statuses (operator API). */
export function domainErrorToHttpStatus(code: DomainErrorCode): number {
  switch (code) {
    case DomainErrorCode.MissingParameter:
    case DomainErrorCode.ValueRange:
    case DomainErrorCode.ValueSyntax:
      return 400;
    case DomainErrorCode.AuthenticationFailed:
    case DomainErrorCode.InvalidAuthorization:
      return 401;
    case DomainErrorCode.Forbidden:
      return 403;
    case DomainErrorCode.NotFound:
      return 404;
    case DomainErrorCode.Exists:
    case DomainErrorCode.StatusProhibits:
    case DomainErrorCode.UseError:
      return 409;
    case DomainErrorCode.Policy:
      return 422;
    case DomainErrorCode.Locked:
      return 423;
    case DomainErrorCode.RateLimited:
      return 429;
    case DomainErrorCode.NotImplemented:
      return 501;
    case DomainErrorCode.Unavailable:
      return 503;
    default:
      return assertUnreachable(code);
  }
}
