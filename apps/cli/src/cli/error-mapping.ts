import {
  IrpConnectError,
  IrpConnectionClosedError,
  IrpResultError,
  IrpTimeoutError,
} from '@irp/client';
import { isResultCode, RESULT_MESSAGES, type IrpResult } from '@irp/protocol';
import { PkiError } from '@irp/pki';
import { CliError } from './cli.error.js';
import { ExitCode, exitCodeForResult } from './exit-codes.js';

/** Node/OpenSSL codes of a server certificate that does not verify. */
const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** `2303 Object does not exist`: a result code with its meaning from spec §5. */
export function describeCode(code: number): string {
  return `${code} ${isResultCode(code) ? RESULT_MESSAGES[code] : 'Unknown result code'}`;
}

/** What to do next after some results. */
function hintsFor(result: IrpResult, command: string): string[] {
  const hints: string[] = [];
  if (result.reason) hints.push(`reason: ${result.reason}`);
  if (result.retryAfter !== undefined) hints.push(`retry after ${result.retryAfter} s`);
  if (result.code === 2200 && command === 'login')
    hints.push(
      'check the user id and password (or, with password login turned off, use your certificate)',
    );
  if (result.code === 2101 && command === 'register')
    hints.push('this server has no open registration: ask an operator for an enrollment code');
  if (result.code === 2002 && command === 'setAuthPolicy')
    hints.push('this needs a login with your certificate (SCA): run `irp cert request` first');
  return hints;
}

/** A CliError for a refused IRP command: its code, meaning and the server's message. */
export function resultError(command: string, result: IrpResult): CliError {
  const meaning = describeCode(result.code);
  const standard = isResultCode(result.code) ? RESULT_MESSAGES[result.code] : '';
  let detail = result.message.trim();
  if (standard && detail.startsWith(standard))
    detail = detail.slice(standard.length).replace(/^[\s:;,.-]+/, '');
  const extra = detail ? `: ${detail}` : '';
  return new CliError(
    exitCodeForResult(result.code),
    `${command || 'command'} failed: ${meaning}${extra}`,
    {
      result,
      hints: hintsFor(result, command),
    },
  );
}

function causeCode(e: unknown): string | undefined {
  for (let c: unknown = e; c instanceof Error; c = c.cause) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** True when an error is a server certificate that did not verify. */
export function isTrustFailure(e: unknown): boolean {
  const code = causeCode(e);
  return code !== undefined && TLS_TRUST_CODES.has(code);
}

/** Turns anything thrown into a CliError with the exit code of its class. */
export function toCliError(e: unknown): CliError {
  if (e instanceof CliError) return e;
  if (e instanceof IrpResultError) return resultError(e.response.cmd, e.result);
  if (e instanceof IrpConnectError) {
    if (isTrustFailure(e)) {
      return new CliError(ExitCode.Trust, `the server's certificate is not trusted: ${e.message}`, {
        hints: [
          'if the server changed its certificate or CA, check with its operator, then',
          '`irp trust forget HOST:PORT` and connect again (or use --ca FILE)',
        ],
        cause: e,
      });
    }
    return new CliError(ExitCode.Connection, e.message, { cause: e });
  }
  if (e instanceof IrpTimeoutError)
    return new CliError(ExitCode.Connection, e.message, { cause: e });
  if (e instanceof IrpConnectionClosedError) {
    return new CliError(ExitCode.Connection, `connection lost: ${e.message}`, { cause: e });
  }
  if (e instanceof PkiError) {
    if (e.code === 'decrypt') return CliError.local(`${e.message}`, ['check the passphrase'], e);
    return CliError.local(`${e.message}`, [], e);
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return new CliError(ExitCode.Internal, `internal error: ${err.message}`, {
    hints: [process.env.IRP_DEBUG ? (err.stack ?? '') : 'set IRP_DEBUG=1 for a stack trace'],
    cause: err,
  });
}
