import { isSuccessCode, type ResultCode } from '@irp/protocol';

/**
 * Exit codes of `irp`. Local failures use 1–6; a failed IRP command exits with the
 * first two digits of its result code, i.e. its class in spec §5 (2303 → 23), so a
 * script can tell "the server said no" from "we never reached the server".
 *
 * | code | meaning |
 * |---|---|
 * | 0 | success (IRP 1000, 1001 pending, 1500) |
 * | 1 | unexpected internal error (a bug: please report it) |
 * | 2 | usage error: unknown command or option, bad argument |
 * | 3 | connection error: DNS, TCP, TLS handshake, timeout, connection lost |
 * | 4 | trust error: the server's CA is not trusted (first use declined or not confirmed, fingerprint mismatch, certificate changed) |
 * | 5 | local state error: no profile, no key or certificate, unreadable file, missing or wrong password/passphrase |
 * | 6 | End2End Direct refused or failed: no reachable binding, attestation does not verify, the peer's certificate is not one the registry lists |
 * | 20 | IRP 2000–2005: command error (unknown command, syntax, use, missing or bad parameter) |
 * | 21 | IRP 2100–2101: unimplemented protocol version or option (e.g. registration closed) |
 * | 22 | IRP 2200–2204: authentication or authorization refused, account locked |
 * | 23 | IRP 2302–2306: object exists / does not exist / status prohibits / policy |
 * | 24 | IRP 2400–2401: server failure or temporarily unavailable (safe to retry) |
 * | 25 | IRP 2500–2503: server closed the connection or rate limit (retry later) |
 * | 130 | interrupted (Ctrl-C at a prompt) |
 */
export const ExitCode = {
  Ok: 0,
  Internal: 1,
  Usage: 2,
  Connection: 3,
  Trust: 4,
  LocalState: 5,
  Peer: 6,
  Interrupted: 130,
} as const;

/** One of the local exit codes of {@link ExitCode}. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit code of an IRP result: 0 for 1xxx, else the class (first two digits, 20–25). */
export function exitCodeForResult(code: number): number {
  if (code < 2000) return isSuccessCode(code as ResultCode) ? ExitCode.Ok : ExitCode.Internal;
  const cls = Math.floor(code / 100);
  return cls >= 20 && cls <= 25 ? cls : ExitCode.Internal;
}
