import { type TLSSocket } from 'node:tls';
import {
  type CommandName,
  type Greeting,
  type IrpCommand,
  type IrpNotify,
  type IrpResponse,
  type IrpResult,
  type XmlLimits,
  FrameDecoder,
  FramingError,
  IrpProtocolError,
  RESULT_MESSAGES,
  ResultCode,
  closesConnection,
  decodeCommand,
  encodeFrame,
  encodeNotify,
  encodeResponse,
  errorResponse,
} from '@irp/protocol';
import { type IrpReply } from '../common/irp-reply.js';
import { type CommandTrace, commandTrace } from './command-trace.js';
import {
  EncodedNotify,
  type IrpSession,
  type SessionCloseReason,
  type SessionPeer,
  type SessionPrincipal,
  type SessionState,
} from './irp-session.js';

/** Spec §6.1: the commands a session may use before it is authenticated. */
const UNAUTHENTICATED_COMMANDS: ReadonlySet<string> = new Set([
  'hello',
  'ping',
  'login',
  'enroll',
  'register',
  'getCACertificates',
  'logout',
]);

/** What the connection needs from the transport that owns it. */
export interface ConnectionHost {
  readonly limits: XmlLimits;
  readonly maxFrameBytes: number;
  readonly authTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** Above this many bytes waiting in the socket, a client is too slow for notifies. */
  readonly maxQueuedBytes: number;
  nextTxn(): string;
  buildGreeting(session: IrpSession): Promise<Greeting>;
  /** The encoded greeting document for a new connection (cached by the host). */
  greetingDocument(session: IrpSession): Promise<Buffer>;
  /** Whether this server has a handler for the command (what the greeting lists). */
  implements(cmd: string): boolean;
  /** Runs the feature handler of `command`. */
  dispatch(command: IrpCommand, session: IrpSession): Promise<IrpReply>;
  /** Turns any thrown value into a result (typed errors keep their code). */
  errorToResult(error: unknown, command: IrpCommand): IrpResult;
  onAuthenticated(connection: IrpConnection): void;
  reportEncodingFailure(response: IrpResponse | undefined, error: unknown): void;
  onClosed(connection: IrpConnection): void;
}

let connectionCounter = 0;

/** Normalises `::ffff:a.b.c.d` to dotted IPv4 (spec §8: observed is never IPv4-mapped). */
export function peerFromSocket(socket: TLSSocket): SessionPeer {
  let address = socket.remoteAddress ?? '';
  if (address.toLowerCase().startsWith('::ffff:') && address.includes('.'))
    address = address.slice(7);
  const peer: SessionPeer = {
    address,
    family: address.includes(':') ? 'ipv6' : 'ipv4',
    port: socket.remotePort ?? 0,
  };
  // only the leaf is kept: it is verified against the domain CA's own chain (§6.2), so
  // the certificates the client sent after it are not needed — nor held per session
  const presented = socket.getPeerX509Certificate();
  if (presented) peer.certificate = presented.raw;
  return peer;
}

/**
 * One IRP connection: frames in, commands handled strictly one after another (so
 * replies to pipelined requests leave in order and session state is never raced),
 * frames out with backpressure, and the timers of spec §6.1.
 */
export class IrpConnection implements IrpSession {
  readonly id = `c${(++connectionCounter).toString(36)}`;
  readonly peer: SessionPeer;
  readonly connectedAt = new Date();
  readonly attributes = new Map<symbol, unknown>();
  state: SessionState = 'connected';
  principal: SessionPrincipal | undefined;
  txn = '';

  private readonly decoder: FrameDecoder;
  private readonly frames: Buffer[] = [];
  /**
   * While the command trace has subscribers: the arrival times (performance.now()) of
   * the last `arrivals.length` frames of `frames`, in the same order. Emptied whenever
   * frames are queued without tracing, so it never describes the wrong frames.
   */
  private readonly arrivals: number[] = [];
  private processing = false;
  private inFlight: Promise<void> = Promise.resolve();
  private authTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Set while a command runs: close() then waits for the response to be written. */
  private pendingClose: { reason: SessionCloseReason | undefined } | undefined;
  private handling = false;
  private framingFailed = false;
  private draining = false;

  constructor(
    private readonly socket: TLSSocket,
    private readonly host: ConnectionHost,
  ) {
    this.peer = peerFromSocket(socket);
    this.decoder = new FrameDecoder(host.maxFrameBytes);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.onSocketClosed());
    // spec §6.1: time from connect to a successful login
    this.authTimer = setTimeout(() => this.destroy(), host.authTimeoutMs);
    this.authTimer.unref();
    this.touch();
  }

  /** Sends the greeting (spec §6.6) and starts reading commands. */
  async start(): Promise<void> {
    try {
      const greeting = await this.host.greetingDocument(this);
      if (this.state === 'closed') return;
      this.write(greeting);
      this.state = 'unauthenticated';
      this.pump();
    } catch {
      this.destroy();
    }
  }

  /** Spec §5 2502: the server has no room for another session; say so instead of greeting. */
  rejectOverLimit(): void {
    this.writeResponse({
      id: '',
      cmd: '',
      txn: this.host.nextTxn(),
      result: resultOf(ResultCode.SessionLimitExceeded),
      data: {},
    });
    this.closeNow(undefined);
  }

  greeting(): Promise<Greeting> {
    return this.host.buildGreeting(this);
  }

  authenticate(principal: SessionPrincipal): void {
    this.principal = principal;
    this.state = 'authenticated';
    if (this.authTimer) clearTimeout(this.authTimer);
    this.authTimer = undefined;
    this.host.onAuthenticated(this);
  }

  notify(notify: IrpNotify | EncodedNotify): void {
    if (this.state === 'closed' || this.socket.destroyed) return;
    if (this.socket.writableLength > this.host.maxQueuedBytes) {
      // spec §11 `too-slow`: a subscriber that cannot keep up must not hold memory or others
      this.closeNow('too-slow');
      return;
    }
    if (notify instanceof EncodedNotify) this.writeFrame(notify.frame);
    else this.write(encodeNotify(notify));
  }

  close(reason?: SessionCloseReason): void {
    if (this.state === 'closed') return;
    if (this.handling) {
      this.pendingClose = { reason };
      return;
    }
    this.closeNow(reason);
  }

  /** Waits for the command being handled (graceful shutdown). */
  settled(): Promise<void> {
    return this.inFlight;
  }

  /** Closes at once, without waiting for queued commands. */
  destroy(): void {
    this.state = 'closed';
    this.socket.destroy();
  }

  private closeNow(reason: SessionCloseReason | undefined, retryAfter?: number): void {
    if (this.state === 'closed') return;
    if (reason) {
      const notify: IrpNotify =
        retryAfter === undefined
          ? { event: 'session', reason }
          : { event: 'session', reason, retryAfter };
      this.write(encodeNotify(notify));
    }
    this.state = 'closed';
    this.socket.end();
    // a peer that never reads must not keep the socket open forever
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  /** Shutdown: notify with `retryAfter`, finish the command in flight, close. */
  async shutdown(retryAfter: number): Promise<void> {
    if (this.state === 'closed') return;
    this.dropQueuedFrames();
    this.socket.pause();
    await this.inFlight;
    this.closeNow('shutdown', retryAfter);
  }

  private touch(): void {
    // spec §6.1: time without any frame from the client
    if (this.idleTimer) {
      this.idleTimer.refresh();
      return;
    }
    this.idleTimer = setTimeout(() => this.destroy(), this.host.idleTimeoutMs);
    this.idleTimer.unref();
  }

  private dropQueuedFrames(): void {
    this.frames.length = 0;
    this.arrivals.length = 0;
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed' || this.framingFailed) return;
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      // spec §2: one 2500 response (if we can), after the replies already owed, then close
      const result =
        error instanceof FramingError
          ? error.toResult()
          : resultOf(ResultCode.CommandFailedClosing);
      this.framingFailed = true;
      this.dropQueuedFrames();
      this.socket.pause();
      void this.inFlight.then(() => {
        this.writeResponse({ id: '', cmd: '', txn: this.host.nextTxn(), result, data: {} });
        this.closeNow(undefined);
      });
      return;
    }
    if (frames.length === 0) return;
    this.touch();
    if (commandTrace.hasSubscribers) {
      const now = performance.now();
      for (let i = 0; i < frames.length; i++) this.arrivals.push(now);
    } else if (this.arrivals.length > 0) {
      this.arrivals.length = 0;
    }
    this.frames.push(...frames);
    this.pump();
  }

  private onDrain(): void {
    if (!this.draining) return;
    this.draining = false;
    this.socket.resume();
    this.pump();
  }

  private pump(): void {
    if (this.processing || this.draining || this.state === 'connected') return;
    // the head frame's arrival is known only when every queued frame has one
    const receivedAt =
      this.arrivals.length === this.frames.length ? this.arrivals.shift() : undefined;
    const frame = this.frames.shift();
    if (!frame || this.state === 'closed') return;
    this.processing = true;
    this.inFlight = this.handleFrame(frame, receivedAt)
      .catch((error: unknown) => {
        // never leave a connection stuck on a bug: log it and drop the connection
        this.host.reportEncodingFailure(undefined, error);
        this.destroy();
      })
      .finally(() => {
        this.processing = false;
        this.pump();
      });
  }

  /** `receivedAt`: when the frame arrived, if the command trace was on by then. */
  private async handleFrame(frame: Buffer, receivedAt: number | undefined): Promise<void> {
    // undefined: nobody subscribes to the command trace, so nothing is measured
    const startedAt = commandTrace.hasSubscribers ? performance.now() : undefined;
    const txn = this.host.nextTxn();
    this.txn = txn;
    let command: IrpCommand;
    try {
      command = decodeCommand(frame, this.host.limits);
    } catch (error) {
      if (!(error instanceof IrpProtocolError)) throw error;
      const doneAt = startedAt === undefined ? 0 : performance.now();
      // spec §3: syntax and limit errors leave the connection usable
      const response = errorResponse(error, txn);
      this.writeResponse(response);
      if (startedAt !== undefined) {
        this.traceCommand(response, receivedAt ?? startedAt, startedAt, doneAt);
      }
      if (closesConnection(error.code)) this.closeNow(undefined);
      return;
    }
    const result = await this.execute(command);
    const doneAt = startedAt === undefined ? 0 : performance.now();
    const response = {
      id: command.id,
      cmd: command.cmd,
      txn,
      result: result.result,
      data: result.data ?? {},
    } as IrpResponse;
    this.writeResponse(response);
    if (startedAt !== undefined) {
      this.traceCommand(response, receivedAt ?? startedAt, startedAt, doneAt);
    }
    const pending = this.pendingClose;
    this.pendingClose = undefined;
    if (closesConnection(result.result.code)) this.closeNow(undefined);
    else if (pending) this.closeNow(pending.reason);
  }

  private async execute(command: IrpCommand): Promise<{ result: IrpResult; data?: object }> {
    const cmd: CommandName = command.cmd;
    this.handling = true;
    try {
      // spec §6.1: a command of the protocol outside its state (the decoder has already
      // answered 2000 to commands the protocol does not define)
      if (this.state !== 'authenticated' && !UNAUTHENTICATED_COMMANDS.has(cmd)) {
        return { result: resultOf(ResultCode.UseError) };
      }
      // a command of the protocol that this server does not implement is unknown to it
      if (!this.host.implements(cmd)) return { result: resultOf(ResultCode.UnknownCommand) };
      const value = await this.host.dispatch(command, this);
      const code = value.code ?? ResultCode.Success;
      const result: IrpResult = { code, message: value.message ?? RESULT_MESSAGES[code] };
      if (value.retryAfter !== undefined) result.retryAfter = value.retryAfter;
      return value.data === undefined ? { result } : { result, data: value.data };
    } catch (error) {
      return { result: this.host.errorToResult(error, command) };
    } finally {
      this.handling = false;
    }
  }

  /** Publishes the timings of a command whose response has just been written. */
  private traceCommand(
    response: IrpResponse,
    receivedAt: number,
    startedAt: number,
    doneAt: number,
  ): void {
    const trace: CommandTrace = {
      cmd: response.cmd,
      id: response.id,
      port: this.peer.port,
      receivedAt,
      startedAt,
      doneAt,
      writtenAt: performance.now(),
      code: response.result.code,
    };
    commandTrace.publish(trace);
  }

  private writeResponse(response: IrpResponse): void {
    let xml: Buffer;
    try {
      xml = encodeResponse(response);
    } catch (error) {
      // a handler returned data the codec cannot put on the wire: a server bug, never
      // the client's; answer 2400 (safe to retry) and keep the connection
      this.host.reportEncodingFailure(response, error);
      const result = resultOf(ResultCode.CommandFailed);
      xml = encodeResponse({ id: response.id, cmd: '', txn: response.txn, result, data: {} });
    }
    this.write(xml);
  }

  private write(xml: Buffer): void {
    this.writeFrame(encodeFrame(xml));
  }

  private writeFrame(frame: Buffer): void {
    if (this.socket.destroyed || !this.socket.writable) return;
    if (!this.socket.write(frame)) {
      // backpressure: stop reading and handling until the client has read our replies
      this.draining = true;
      this.socket.pause();
    }
  }

  private onSocketClosed(): void {
    this.state = 'closed';
    if (this.authTimer) clearTimeout(this.authTimer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.dropQueuedFrames();
    this.host.onClosed(this);
  }
}

function resultOf(code: ResultCode): IrpResult {
  return { code, message: RESULT_MESSAGES[code] };
}
