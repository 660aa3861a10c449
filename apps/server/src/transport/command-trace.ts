import { channel } from 'node:diagnostics_channel';

/**
 * Name of the `node:diagnostics_channel` channel on which every IRP connection publishes
 * one {@link CommandTrace} per command it has answered (bench/request-trace.mjs
 * subscribes to it). Nothing is measured while the channel has no subscriber.
 */
export const COMMAND_TRACE_CHANNEL = 'irp:command';

/**
 * The timings of one command, as `performance.now()` values of the server process (add
 * `performance.timeOrigin` for absolute milliseconds since the epoch).
 */
export interface CommandTrace {
  /** The command's name; `''` when its frame could not be decoded. */
  cmd: string;
  /** The request id of the command (`''` when it could not be read). */
  id: string;
  /** The client's TCP port (`socket.remotePort` when the connection was accepted). */
  port: number;
  /**
   * When the chunk that completed the command's frame arrived (the socket's 'data'
   * event). For a frame already queued when the subscription began: `startedAt`.
   */
  receivedAt: number;
  /** When the connection began handling the frame (decoding). */
  startedAt: number;
  /** When the result was known (the handler's promise settled, or decoding failed). */
  doneAt: number;
  /** When the response had been encoded and handed to the socket. */
  writtenAt: number;
  /** The response's result code. */
  code: number;
}

/** The channel itself: check `hasSubscribers` before measuring anything. */
export const commandTrace = channel(COMMAND_TRACE_CHANNEL);
