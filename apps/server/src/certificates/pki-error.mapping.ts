import { PkiError } from '@irp/pki';
import { assertUnreachable } from '../common/assert-unreachable.js';
import { DomainError, DomainErrorCode } from '../common/domain.error.js';

/**
 * The one mapping from `@irp/pki` errors to feature errors (house rule 5). The IRP
 * result then follows from `domain-error.mapping.ts`:
 *
 * | PkiError | DomainError | IRP | where (spec §9) |
 * |---|---|---|---|
 * | `syntax` | ValueSyntax | 2005 | unparseable CSR/certificate, CSR signature fails (no proof of possession) |
 * | `policy` | Policy | 2306 | weak or unsupported key, SHA-1 signature, certificate not naming the caller |
 * | `validity` | StatusProhibits | 2304 | uploaded certificate outside its validity |
 * | `chain` | Policy | 2306 | uploaded certificate's `<chain>` does not verify |
 * | `mismatch` | Policy | 2306 | key and certificate do not belong together |
 * | `decrypt` | Policy | 2306 | (not reachable from IRP commands: nothing is decrypted for a client) |
 * | `unsupported` | Policy | 2306 | an algorithm this server does not implement (for keys, a policy refusal) |
 * | `argument` | ValueRange | 2004 | a value the library refuses, e.g. a passphrase over 1024 characters |
 *
 * @param field the parameter the value came from (`csr`, `certificate`, …)
 */
export function pkiErrorToDomainError(error: PkiError, field: string): DomainError {
  const detail = `<${field}>: ${error.message}`;
  switch (error.code) {
    case 'syntax':
      return new DomainError(
        DomainErrorCode.ValueSyntax,
        `Parameter value syntax error: ${detail}`,
        { field },
      );
    case 'validity':
      return new DomainError(
        DomainErrorCode.StatusProhibits,
        `Object status prohibits operation: ${detail}`,
        { field },
      );
    case 'policy':
    case 'chain':
    case 'mismatch':
    case 'decrypt':
    case 'unsupported':
      return new DomainError(DomainErrorCode.Policy, `Parameter value policy error: ${detail}`, {
        field,
      });
    case 'argument':
      return new DomainError(DomainErrorCode.ValueRange, `Parameter value range error: ${detail}`, {
        field,
      });
    default:
      return assertUnreachable(error.code);
  }
}

/** Runs `work`, turning a {@link PkiError} into the {@link DomainError} of {@link pkiErrorToDomainError}. */
export function withPkiErrors<T>(field: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof PkiError) throw pkiErrorToDomainError(error, field);
    throw error;
  }
}

/** {@link withPkiErrors} for asynchronous work. */
export async function withPkiErrorsAsync<T>(field: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof PkiError) throw pkiErrorToDomainError(error, field);
    throw error;
  }
}
