import { type CommandName, type ResponseDataMap, type ResultCode } from '@irp/protocol';

/**
 * What an IRP handler returns: the result (1000 unless said otherwise) and the
 * command's response data. The transport adds id, cmd and txn (spec §4).
 */
export interface IrpReply<K extends CommandName = CommandName> {
  code?: ResultCode;
  message?: string;
  retryAfter?: number;
  data?: ResponseDataMap[K];
}
