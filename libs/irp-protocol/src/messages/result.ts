import { type ResultCode } from '../result-codes.js';

/**
 * The `<result code="NNNN" retryAfter="S">message<reason>…</reason></result>`
 * element every response carries exactly once (spec §4).
 */
export interface IrpResult {
  /** The result code (spec §5). */
  code: ResultCode;
  /** Human readable message: the text of `<result>`. */
  message: string;
  /** Seconds after which the client may retry (2204, 2401, 2503, §5). */
  retryAfter?: number;
  /** Optional `<reason>` child with more detail. */
  reason?: string;
}
