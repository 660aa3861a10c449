import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import * as tls from 'node:tls';
import {
  ALPN_PROTOCOL,
  type CommandName,
  type CommandResponse,
  DEFAULT_CLIENT_XML_LIMITS,
  decodeServerMessage,
  encodeCommand,
  encodeFrame,
  FrameDecoder,
  type Greeting,
  IRP_PORT,
  IRP_TLS_CIPHERS,
  IRP_TLS_MIN_VERSION,
  type IrpCommandInput,
  type IrpNotify,
  IrpProtocolError,
  type IrpResponse,
  type IrpResult,
  closesConnection,
  isSuccessCode,
  parseXml,
  type ResponseDataMap,
  ResultCode,
  type ServerMessage,
  type UnidentifiedResponse,
  type XmlLimits,
} from '@irp/protocol';
import { IrpClientError } from './errors/irp-client.error.js';
import { type IrpConnectAttempt, IrpConnectError } from './errors/irp-connect.error.js';
import { IrpConnectionClosedError } from './errors/irp-connection-closed.error.js';
import { IrpResultError } from './errors/irp-result.error.js';
import { IrpTimeoutError } from './errors/irp-timeout.error.js';
import { NotificationStream } from './notification-stream.js';
import { resolveIrpTargets, type ResolveTargetsOptions } from './srv-resolver.js';

/** Options of {@link IrpClient.connect}. */
export interface IrpConnectOptions {
  /** Host name or IP address of the DIR. */
  host: string;
  /** TCP port (default 4604, spec §1). */
  port?: number;
  /** Trusted CA certificates (PEM); default the system store. */
  ca?: tls.ConnectionOptions['ca'];
  /** Client certificate chain (PEM) for Strong Client Authentication (spec §6.2). */
  cert?: tls.ConnectionOptions['cert'];
  /** Private key (PEM) of the client certificate. */
  key?: tls.ConnectionOptions['key'];
  /** PKCS#12 with the client certificate and key, instead of cert/key. */
  pfx?: tls.ConnectionOptions['pfx'];
  /** Passphrase of `key` or `pfx`. */
  passphrase?: string;
  /** TLS server name (SNI and certificate check); default `host` unless it is an IP address. */
  servername?: string;
  /** Verify the server certificate (default true). */
  rejectUnauthorized?: boolean;
  /** Time allowed for TCP + TLS + greeting, in ms (default 10 000). */
  timeoutMs?: number;
  /** Default per-request timeout in ms (default 30 000; 0 disables). */
  requestTimeoutMs?: number;
  /** ALPN ids to offer (default `['irp/1']`, spec §1). */
  alpn?: string[];
  /** Largest frame accepted from the server (default 16 MiB). */
  maxFrameBytes?: number;
  /** XML limits for server documents (default {@link DEFAULT_CLIENT_XML_LIMITS}). */
  xmlLimits?: XmlLimits;
  /** Unread notifies kept per {@link IrpClient.notifications} iterator (default 1000). */
  maxBufferedNotifications?: number;
  /** Prefix of generated request ids (default `c`). */
  idPrefix?: string;
}

/** Options of {@link IrpClient.connectDomain}: connect options without host/port, plus SRV resolution. */
export type IrpDomainConnectOptions = Omit<IrpConnectOptions, 'host' | 'port'> &
  ResolveTargetsOptions;

/** Options of one request. */
export interface IrpRequestOptions {
  /** Overrides the client's `requestTimeoutMs` (0 disables). */
  timeoutMs?: number;
}

/** How the connection ended; the value of {@link IrpClient.closed}. */
export interface IrpCloseInfo {
  /** True when `close()` ended it. */
  byClient: boolean;
  /** The network or protocol error that ended it, if any. */
  error?: Error;
  /** The last result with a closing code (1500, 2500–2502) the server sent, if any. */
  closingResult?: IrpResult;
}

/** The response type of a command name: its own response, or a `cmd=""` refusal. */
export type ResponseFor<K extends CommandName> = CommandResponse<K> | UnidentifiedResponse;

/** Events of {@link IrpClient}. */
export type IrpClientEvents = {
  /** A `<notify>` (spec §11). */
  notify: [IrpNotify];
  /** A greeting after the first (unsolicited, or from `hello`). */
  greeting: [Greeting];
  /** The connection closed. */
  close: [IrpCloseInfo];
  /** A server document that could not be decoded nor attributed to a request. */
  protocolError: [Error];
};

interface Pending {
  /** Request id; `""` for a raw request whose id could not be read. */
  id: string;
  /** Expected `cmd` of the response; `""` for raw requests. */
  cmd: string;
  raw: boolean;
  resolve: (value: IrpResponse | string) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
  /** Timed out: the entry stays queued so its late response is recognised and dropped. */
  abandoned: boolean;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_CLIENT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

/**
 * An IRP 1.0 client over TLS (spec §1–§4).
 *
 * - `connect()` resolves after the TLS handshake (TLS ≥ 1.2, the spec §1 suites,
 *   ALPN `irp/1`) and the server's greeting (`client.greeting`).
 * - `request()` sends a command and resolves with its response, matched by id
 *   (ids generated when not given). Requests may be pipelined; the server
 *   answers in order (spec §4), so a response with `id=""` answers the oldest
 *   request. A 2xxx response resolves too; use `call()` to get an
 *   {@link IrpResultError} instead.
 * - Writes respect socket backpressure: frames wait in a queue while the socket
 *   buffer is full (`queuedWrites`).
 * - Notifies arrive as `'notify'` events and through `notifications()`.
 * - `close()` rejects in-flight requests with {@link IrpConnectionClosedError};
 *   `closed` resolves (never rejects) when the connection is gone.
 */
export class IrpClient extends EventEmitter<IrpClientEvents> {
  /** The server's latest greeting (spec §6.6). */
  greeting!: Greeting;
  /** Resolves once the connection is closed, however it closed. */
  readonly closed: Promise<IrpCloseInfo>;

  private readonly decoder: FrameDecoder;
  private readonly limits: XmlLimits;
  private readonly requestTimeoutMs: number;
  private readonly idPrefix: string;
  private readonly maxBufferedNotifications: number;
  private readonly pending: Pending[] = [];
  private readonly writeQueue: Buffer[] = [];
  private readonly streams = new Set<NotificationStream<IrpNotify>>();
  private needDrain = false;
  private nextId = 0;
  private closeInfo: IrpCloseInfo | undefined;
  private closingByClient = false;
  private closingResult: IrpResult | undefined;
  private socketError: Error | undefined;
  private resolveClosed!: (info: IrpCloseInfo) => void;
  private greetingWaiter: { resolve: () => void; reject: (e: Error) => void } | undefined;

  private constructor(
    private readonly socket: tls.TLSSocket,
    opts: IrpConnectOptions,
  ) {
    super();
    this.decoder = new FrameDecoder(opts.maxFrameBytes ?? DEFAULT_CLIENT_MAX_FRAME_BYTES);
    this.limits = opts.xmlLimits ?? DEFAULT_CLIENT_XML_LIMITS;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.idPrefix = opts.idPrefix ?? 'c';
    this.maxBufferedNotifications = opts.maxBufferedNotifications ?? 1000;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.flushWrites());
    socket.on('error', (e) => {
      this.socketError ??= e;
    });
    socket.on('close', () => this.finish());
  }

  /**
   * Connects to one DIR, completes the TLS handshake and reads the greeting.
   *
   * @throws IrpConnectError (its `cause` is an IrpTimeoutError on timeout)
   */
  static async connect(opts: IrpConnectOptions): Promise<IrpClient> {
    const port = opts.port ?? IRP_PORT;
    const timeoutMs = opts.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const servername = opts.servername ?? (isIP(opts.host) ? undefined : opts.host);
    const socket = tls.connect({
      host: opts.host,
      port,
      ...(servername !== undefined ? { servername } : {}),
      ca: opts.ca,
      cert: opts.cert,
      key: opts.key,
      pfx: opts.pfx,
      passphrase: opts.passphrase,
      rejectUnauthorized: opts.rejectUnauthorized ?? true,
      minVersion: IRP_TLS_MIN_VERSION, // spec §1
      ciphers: IRP_TLS_CIPHERS, // spec §1
      ALPNProtocols: opts.alpn ?? [ALPN_PROTOCOL],
    });
    const client = new IrpClient(socket, opts);
    const ready = new Promise<void>((resolve, reject) => {
      client.greetingWaiter = { resolve, reject };
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new IrpTimeoutError('connect', timeoutMs)), timeoutMs);
    });
    try {
      await Promise.race([ready, timeout]);
      return client;
    } catch (e) {
      socket.destroy();
      const error = e instanceof Error ? e : new Error(String(e));
      throw new IrpConnectError(`cannot connect to ${opts.host}:${port}: ${error.message}`, [
        { host: opts.host, port, error },
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Finds the DIR of `domain` by the SRV record `_irp._tcp.<domain>` (RFC 2782
   * order; `<domain>:4604` without SRV, spec §1) and connects to the first target
   * that works. The TLS server name defaults to each target's host name.
   *
   * @throws IrpConnectError listing every attempt
   */
  static async connectDomain(
    domain: string,
    opts: IrpDomainConnectOptions = {},
  ): Promise<IrpClient> {
    const { resolveSrv, random, ...connectOpts } = opts;
    let targets;
    try {
      targets = await resolveIrpTargets(domain, {
        ...(resolveSrv ? { resolveSrv } : {}),
        ...(random ? { random } : {}),
      });
    } catch (e) {
      throw new IrpConnectError(`cannot find the IRP server of ${domain}: ${String(e)}`, [], e);
    }
    const attempts: IrpConnectAttempt[] = [];
    for (const target of targets) {
      try {
        return await IrpClient.connect({ ...connectOpts, host: target.host, port: target.port });
      } catch (e) {
        const error =
          e instanceof IrpConnectError && e.cause instanceof Error ? e.cause : (e as Error);
        attempts.push({ host: target.host, port: target.port, error });
      }
    }
    throw new IrpConnectError(
      `cannot connect to any IRP server of ${domain} (${attempts.length} tried)`,
      attempts,
    );
  }

  /** The ALPN protocol the server selected, or false. */
  get alpnProtocol(): string | false | null {
    return this.socket.alpnProtocol;
  }

  /** Requests sent and not yet answered (including timed-out ones still owed a response). */
  get inFlight(): number {
    return this.pending.length;
  }

  /** Frames waiting for the socket to drain (write backpressure). */
  get queuedWrites(): number {
    return this.writeQueue.length;
  }

  /** True once the connection is closed or closing. */
  get isClosed(): boolean {
    return this.closeInfo !== undefined || this.closingByClient;
  }

  /**
   * Sends a command and resolves with its response (any result code).
   *
   * @throws (rejects) IrpTimeoutError, IrpConnectionClosedError, XmlEncodeError /
   *   FramingError (the command cannot be sent), IrpProtocolError (the response
   *   could not be decoded)
   */
  request<C extends IrpCommandInput>(
    input: C,
    opts: IrpRequestOptions = {},
  ): Promise<ResponseFor<C['cmd']>> {
    const id = input.id ?? `${this.idPrefix}${++this.nextId}`;
    if (this.pending.some((p) => p.id === id)) {
      return Promise.reject(new IrpClientError(`a request with id ${id} is already in flight`));
    }
    const command = { ...input, id };
    let frame: Buffer;
    try {
      frame = this.frame(encodeCommand(command));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    return this.enqueue(id, command.cmd, false, frame, opts) as Promise<ResponseFor<C['cmd']>>;
  }

  /**
   * Like {@link request} but resolves with the response data on success
   * (1xxx) and rejects with {@link IrpResultError} on a 2xxx result.
   */
  async call<C extends IrpCommandInput>(
    input: C,
    opts: IrpRequestOptions = {},
  ): Promise<ResponseDataMap[C['cmd']]> {
    const response = await this.request(input, opts);
    if (!isSuccessCode(response.result.code)) throw new IrpResultError(response as IrpResponse);
    return response.data;
  }

  /**
   * Sends a hand-written XML document as one frame and resolves with the raw
   * XML of the response (for debugging, e.g. `irp raw`). The response is
   * matched by the id found in the document, else by order (spec §4).
   */
  rawRequest(xml: string, opts: IrpRequestOptions = {}): Promise<string> {
    let frame: Buffer;
    try {
      frame = this.frame(Buffer.from(xml, 'utf8'));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    return this.enqueue(
      peekCommandId(frame.subarray(4), this.limits),
      '',
      true,
      frame,
      opts,
    ) as Promise<string>;
  }

  /** `hello` (spec §6.5): fetches and stores a fresh greeting. */
  async hello(opts: IrpRequestOptions = {}): Promise<Greeting> {
    const data = await this.call({ cmd: 'hello' }, opts);
    if (!data.greeting) throw new IrpClientError('hello response without greeting');
    this.greeting = data.greeting;
    return data.greeting;
  }

  /** `ping` (spec §6.5). */
  async ping(opts: IrpRequestOptions = {}): Promise<void> {
    await this.call({ cmd: 'ping' }, opts);
  }

  /** `logout` (spec §6.5): resolves with the 1500 response; the server then closes. */
  logout(opts: IrpRequestOptions = {}): Promise<ResponseFor<'logout'>> {
    return this.request({ cmd: 'logout' }, opts);
  }

  /**
   * An async iterator of the notifies received from now on; it ends when the
   * connection closes, or when the loop breaks.
   */
  notifications(): AsyncIterableIterator<IrpNotify> {
    const stream: NotificationStream<IrpNotify> = new NotificationStream(
      this.maxBufferedNotifications,
      () => this.streams.delete(stream),
    );
    if (this.closeInfo) stream.end();
    else this.streams.add(stream);
    return stream;
  }

  /**
   * Closes the connection: in-flight requests are rejected with
   * {@link IrpConnectionClosedError} at once, then the TLS session is ended.
   * Resolves like {@link closed}.
   */
  close(): Promise<IrpCloseInfo> {
    if (this.closeInfo || this.closingByClient) return this.closed;
    this.closingByClient = true;
    this.rejectAll(new IrpConnectionClosedError('connection closed by the client', true));
    this.writeQueue.length = 0;
    this.socket.end();
    // A peer that never answers the close_notify must not keep us waiting.
    setTimeout(() => this.socket.destroy(), 2000).unref();
    return this.closed;
  }

  // ---- internals ----

  private frame(xml: Uint8Array): Buffer {
    if (this.isClosed) {
      throw new IrpConnectionClosedError(
        'connection is closed',
        this.closingByClient,
        this.socketError,
      );
    }
    // The server refuses bigger frames with 2500 and closes (spec §2): do not send them.
    return encodeFrame(xml, this.greeting?.limits.maxFrameBytes);
  }

  private enqueue(
    id: string,
    cmd: string,
    raw: boolean,
    frame: Buffer,
    opts: IrpRequestOptions,
  ): Promise<IrpResponse | string> {
    return new Promise((resolve, reject) => {
      const entry: Pending = { id, cmd, raw, resolve, reject, timer: undefined, abandoned: false };
      const timeoutMs = opts.timeoutMs ?? this.requestTimeoutMs;
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
        entry.timer = setTimeout(() => {
          entry.abandoned = true;
          reject(new IrpTimeoutError(`request ${id || '(raw)'}`, timeoutMs));
        }, timeoutMs);
        entry.timer.unref();
      }
      this.pending.push(entry);
      this.write(frame);
    });
  }

  /** Writes a frame, or queues it while the socket asks us to wait for 'drain'. */
  private write(frame: Buffer): void {
    if (this.needDrain || this.writeQueue.length > 0) {
      this.writeQueue.push(frame);
      return;
    }
    if (!this.socket.write(frame)) this.needDrain = true;
  }

  private flushWrites(): void {
    this.needDrain = false;
    while (this.writeQueue.length > 0) {
      const frame = this.writeQueue.shift() as Buffer;
      if (!this.socket.write(frame)) {
        this.needDrain = true;
        return;
      }
    }
  }

  private onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
    } catch (e) {
      // A framing error from the server: the stream is lost.
      this.socketError ??= e as Error;
      this.socket.destroy();
      return;
    }
    for (const frame of frames) this.onFrame(frame);
  }

  private onFrame(frame: Buffer): void {
    let message: ServerMessage;
    try {
      message = decodeServerMessage(frame, this.limits);
    } catch (e) {
      this.onUndecodable(frame, e);
      return;
    }
    switch (message.kind) {
      case 'greeting':
        this.greeting = message.greeting;
        if (this.greetingWaiter) {
          this.greetingWaiter.resolve();
          this.greetingWaiter = undefined;
        } else {
          this.emit('greeting', message.greeting);
        }
        return;
      case 'response':
        this.onResponse(message.response, frame);
        return;
      case 'notify':
        if (this.greetingWaiter) break; // not yet greeted: handled below
        this.emit('notify', message.notify);
        for (const stream of this.streams) stream.push(message.notify);
        return;
    }
    this.failBeforeGreeting(new IrpClientError(`expected a greeting, got a ${message.kind}`));
  }

  private onResponse(response: IrpResponse, frame: Buffer): void {
    if (this.greetingWaiter) {
      this.failBeforeGreeting(new IrpClientError('expected a greeting, got a response'));
      return;
    }
    if (closesConnection(response.result.code)) this.closingResult = response.result;
    const entry = this.takePending(response.id);
    if (!entry) {
      this.emitProtocolError(
        new IrpClientError(`response to unknown request id ${JSON.stringify(response.id)}`),
      );
      return;
    }
    if (entry.abandoned) return;
    if (entry.raw) {
      entry.resolve(frame.toString('utf8'));
    } else if (response.cmd !== '' && response.cmd !== entry.cmd) {
      entry.reject(
        new IrpClientError(
          `response for ${entry.id} names cmd ${response.cmd}, expected ${entry.cmd}`,
        ),
      );
    } else {
      entry.resolve(response);
    }
  }

  /** A server document that did not decode: fail (or, for raw requests, answer) its request. */
  private onUndecodable(frame: Buffer, e: unknown): void {
    const error = e instanceof Error ? e : new IrpProtocolError(ResultCode.SyntaxError, String(e));
    if (this.greetingWaiter) {
      this.failBeforeGreeting(error);
      return;
    }
    const peek = peekResponse(frame, this.limits);
    const entry = peek ? this.takePending(peek.id) : undefined;
    if (!entry) {
      this.emitProtocolError(error);
      return;
    }
    if (entry.abandoned) return;
    if (entry.raw) entry.resolve(frame.toString('utf8'));
    else entry.reject(error);
  }

  /**
   * The request a response answers: the one with its id; else — responses come
   * in request order (spec §4) — the oldest, when the response has `id=""`
   * (refused before identification) or the oldest is a raw request of unknown id.
   */
  private takePending(id: string): Pending | undefined {
    let index = id === '' ? -1 : this.pending.findIndex((p) => p.id === id);
    if (index < 0) {
      const oldest = this.pending[0];
      if (oldest && (id === '' || oldest.id === '')) index = 0;
    }
    if (index < 0) return undefined;
    const [entry] = this.pending.splice(index, 1);
    if (entry?.timer) clearTimeout(entry.timer);
    return entry;
  }

  private emitProtocolError(error: Error): void {
    if (this.listenerCount('protocolError') > 0) this.emit('protocolError', error);
  }

  private failBeforeGreeting(error: Error): void {
    const waiter = this.greetingWaiter;
    this.greetingWaiter = undefined;
    waiter?.reject(error);
    this.socket.destroy();
  }

  private rejectAll(error: Error): void {
    for (const entry of this.pending.splice(0)) {
      if (entry.timer) clearTimeout(entry.timer);
      if (!entry.abandoned) entry.reject(error);
    }
  }

  private finish(): void {
    if (this.closeInfo) return;
    const info: IrpCloseInfo = { byClient: this.closingByClient };
    if (this.socketError) info.error = this.socketError;
    if (this.closingResult) info.closingResult = this.closingResult;
    this.closeInfo = info;
    const reason = this.closingResult
      ? `server closed the connection after ${this.closingResult.code} ${this.closingResult.message}`
      : this.socketError
        ? `connection lost: ${this.socketError.message}`
        : 'connection closed by the server';
    this.greetingWaiter?.reject(this.socketError ?? new IrpClientError(reason));
    this.greetingWaiter = undefined;
    this.rejectAll(new IrpConnectionClosedError(reason, this.closingByClient, this.socketError));
    this.writeQueue.length = 0;
    for (const stream of this.streams) stream.end();
    this.streams.clear();
    this.resolveClosed(info);
    this.emit('close', info);
  }
}

/** The `<response id>` of a document that failed to decode, if it is a response at all. */
function peekResponse(frame: Uint8Array, limits: XmlLimits): { id: string } | undefined {
  try {
    const child = parseXml(frame, limits).children[0];
    return child?.name === 'response' ? { id: child.attributes.get('id') ?? '' } : undefined;
  } catch {
    return undefined;
  }
}

/** The `id` of the command in a hand-written document, or `""`. */
function peekCommandId(xml: Uint8Array, limits: XmlLimits): string {
  try {
    return parseXml(xml, limits).children[0]?.attributes.get('id') ?? '';
  } catch {
    return '';
  }
}
