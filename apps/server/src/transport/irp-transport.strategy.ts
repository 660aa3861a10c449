import { randomBytes } from 'node:crypto';
import { type AddressInfo } from 'node:net';
import { type Server as TlsServer, type TLSSocket, createServer } from 'node:tls';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { type CustomTransportStrategy, Server } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import {
  type Greeting,
  type IrpCommand,
  type IrpResponse,
  type IrpResult,
  type XmlLimits,
  IrpProtocolError,
  PROTOCOL_VERSION,
  encodeGreeting,
  RESULT_MESSAGES,
  ResultCode,
} from '@irp/protocol';
import { IRP_CONFIG } from '../config/config.module.js';
import { type IrpConfig } from '../config/config.schema.js';
import { DomainError } from '../common/domain.error.js';
import { domainErrorToResultCode } from '../common/domain-error.mapping.js';
import { type IrpReply } from '../common/irp-reply.js';
import {
  CLIENT_CERTIFICATE_INSPECTOR,
  type ClientCertificateInspector,
  type ClientCertificateReport,
  noClientCertificateInspector,
} from './client-certificate-inspector.js';
import { IrpConnection, type ConnectionHost } from './irp-connection.js';
import { IrpContext } from './irp.context.js';
import { type IrpSession } from './irp-session.js';
import { SessionRegistry } from './session-registry.service.js';
import { TLS_CREDENTIALS, type TlsCredentialsSource } from './tls-credentials.js';
import { irpTlsServerOptions, secureContextOptions } from './tls-options.js';

/**
 * The IRP transport (spec §1–§6): a TLS listener, one {@link IrpConnection} per client,
 * frames ⇄ typed messages, and dispatch of each command to its `@MessagePattern`
 * handler. It knows no feature: handlers live in feature modules.
 */
@Injectable()
export class IrpTransportStrategy
  extends Server
  implements CustomTransportStrategy, ConnectionHost
{
  private tlsServer: TlsServer | undefined;
  private readonly connections = new Set<IrpConnection>();
  private readonly txnPrefix = randomBytes(4).toString('hex');
  private txnCounter = 0;
  private greetingSecond = 0;
  private readonly greetingCache = new Map<string, Buffer>();
  private readonly log = new Logger('IrpTransport');
  readonly limits: XmlLimits;
  readonly maxFrameBytes: number;
  readonly authTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxQueuedBytes = 4 * 1_048_576;

  constructor(
    @Inject(IRP_CONFIG) private readonly config: IrpConfig,
    @Inject(TLS_CREDENTIALS) private readonly credentials: TlsCredentialsSource,
    private readonly sessions: SessionRegistry,
    @Optional()
    @Inject(CLIENT_CERTIFICATE_INSPECTOR)
    private readonly certificateInspector: ClientCertificateInspector = noClientCertificateInspector,
  ) {
    super();
    this.limits = {
      maxDepth: config.maxDepth,
      maxElements: config.maxElements,
      maxTextBytes: config.maxTextBytes,
    };
    this.maxFrameBytes = config.maxFrameBytes;
    this.authTimeoutMs = config.authTimeoutSeconds * 1000;
    this.idleTimeoutMs = config.idleTimeoutSeconds * 1000;
  }

  /** The bound address (port 0 in tests picks a free port). */
  address(): AddressInfo | undefined {
    const address = this.tlsServer?.address();
    return address && typeof address === 'object' ? address : undefined;
  }

  listen(callback: (...optionalParams: unknown[]) => unknown): void {
    this.start().then(
      () => callback(),
      (error: unknown) => callback(error),
    );
  }

  private async start(): Promise<void> {
    const credentials = await this.credentials.current();
    const server = createServer(
      irpTlsServerOptions(credentials, this.config.handshakeTimeoutSeconds * 1000),
    );
    this.tlsServer = server;
    // certificate renewal: new handshakes use the new certificate, no restart (issue 4)
    this.credentials.onChange((next) => server.setSecureContext(secureContextOptions(next)));
    server.on('secureConnection', (socket: TLSSocket) => this.accept(socket));
    server.on('tlsClientError', () => undefined); // refused handshakes (§1) are not server errors
    server.on('error', (error: Error) => this.log.error(`IRP listener: ${error.message}`));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // '::' listens on IPv6 and IPv4 (dual stack)
      server.listen(
        { host: this.config.irpHost, port: this.config.irpPort, ipv6Only: false },
        () => {
          server.off('error', reject);
          resolve();
        },
      );
    });
    const address = this.address();
    this.log.log(
      `IRP listening on ${address?.address ?? '?'} port ${address?.port ?? '?'} (TLS, ALPN irp/1)`,
    );
  }

  private accept(socket: TLSSocket): void {
    const connection = new IrpConnection(socket, this);
    if (this.connections.size >= this.config.maxSessions) {
      // spec §5 2502: tell the client there is no room instead of greeting, then close
      connection.rejectOverLimit();
      return;
    }
    this.connections.add(connection);
    this.sessions.add(connection);
    void connection.start();
  }

  /**
   * Graceful shutdown (SIGTERM): stop accepting, tell every session with a `session`
   * notify (reason `shutdown`, `retryAfter`), let commands in flight finish, close.
   */
  async close(): Promise<void> {
    const server = this.tlsServer;
    if (!server) return;
    this.tlsServer = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const all = [...this.connections];
    const grace = new Promise<void>((resolve) =>
      setTimeout(resolve, this.config.shutdownGraceSeconds * 1000).unref(),
    );
    await Promise.race([
      Promise.all(all.map((c) => c.shutdown(this.config.shutdownRetryAfterSeconds))),
      grace,
    ]);
    for (const connection of this.connections) connection.destroy();
    await closed;
  }

  on(): never {
    throw new Error('The IRP transport emits no events to subscribe to');
  }

  unwrap<T>(): T {
    if (!this.tlsServer) throw new Error('The IRP transport is not listening');
    return this.tlsServer as T;
  }

  // ---- ConnectionHost -------------------------------------------------------------

  nextTxn(): string {
    this.txnCounter = (this.txnCounter + 1) % 1e12;
    return `${this.txnPrefix}-${this.txnCounter.toString().padStart(6, '0')}`;
  }

  implements(cmd: string): boolean {
    return this.messageHandlers.has(cmd);
  }

  async dispatch(command: IrpCommand, session: IrpSession): Promise<IrpReply> {
    // an IRP pattern is the command name itself (a plain string route): looked up directly,
    // because Nest's getHandlerByPattern first tries JSON.parse on it — an exception, with
    // its stack trace, per command
    const handler = this.messageHandlers.get(command.cmd);
    if (!handler) throw new IrpProtocolError(ResultCode.UnknownCommand);
    const result: unknown = await handler(command, new IrpContext([session]));
    // handlers return promises; an Observable (Nest's other handler style) is awaited too
    if (!isObservable(result)) return result ?? {};
    return (await lastValueFrom(result, { defaultValue: {} })) ?? {};
  }

  errorToResult(error: unknown, command: IrpCommand): IrpResult {
    if (error instanceof IrpProtocolError) return error.toResult();
    if (error instanceof DomainError) {
      const code = domainErrorToResultCode(error.code);
      const result: IrpResult = { code, message: error.message };
      if (error.options.retryAfter !== undefined) result.retryAfter = error.options.retryAfter;
      return result;
    }
    // never leak internals to the client; keep them in the server log
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    this.log.error(`${command.cmd} failed: ${message}`);
    return { code: ResultCode.CommandFailed, message: RESULT_MESSAGES[ResultCode.CommandFailed] };
  }

  async buildGreeting(session: IrpSession): Promise<Greeting> {
    return this.greetingFor(await this.certificateInspector.inspect(session.peer), new Date());
  }

  /**
   * The greeting sent on connect. Only `serverTime` (whole seconds) and the client
   * certificate verdict vary, so encoded documents are cached per second and verdict:
   * encoding dominated the server's cost of a connection after the TLS handshake.
   */
  async greetingDocument(session: IrpSession): Promise<Buffer> {
    const report = await this.certificateInspector.inspect(session.peer);
    const now = Date.now();
    const second = Math.floor(now / 1000);
    if (second !== this.greetingSecond) {
      this.greetingCache.clear();
      this.greetingSecond = second;
    }
    const key = `${report.status}|${report.user ?? ''}`;
    let document = this.greetingCache.get(key);
    if (!document) {
      document = encodeGreeting(this.greetingFor(report, new Date(second * 1000)));
      if (this.greetingCache.size < 256) this.greetingCache.set(key, document);
    }
    return document;
  }

  private greetingFor(clientCertificate: ClientCertificateReport, serverTime: Date): Greeting {
    const c = this.config;
    return {
      server: c.serverName,
      domain: c.domain,
      serverTime,
      versions: [PROTOCOL_VERSION],
      authMethods: ['sca', 'upa'],
      clientCertificate,
      registration: { open: c.openRegistration, enrollment: this.implements('enroll') },
      commands: [...this.messageHandlers.keys()].sort(),
      limits: {
        maxFrameBytes: c.maxFrameBytes,
        maxDepth: c.maxDepth,
        maxElements: c.maxElements,
        maxTextBytes: c.maxTextBytes,
        authTimeoutSeconds: c.authTimeoutSeconds,
        idleTimeoutSeconds: c.idleTimeoutSeconds,
        maxSubscriptions: c.maxSubscriptions,
        maxBindingsPerUser: c.maxBindingsPerUser,
        maxPkcs12PerUser: c.maxPkcs12PerUser,
        maxCertificateDays: c.maxCertDays,
        allowLocalAddresses: c.allowLocalAddresses,
      },
    };
  }

  reportEncodingFailure(response: IrpResponse | undefined, error: unknown): void {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    this.log.error(
      `Cannot answer ${response ? `${response.cmd} id=${response.id}` : 'a frame'}: ${detail}`,
    );
  }

  onAuthenticated(connection: IrpConnection): void {
    this.sessions.authenticated(connection);
  }

  onClosed(connection: IrpConnection): void {
    if (!this.connections.delete(connection)) return; // refused over the session limit
    this.sessions.remove(connection);
  }
}
