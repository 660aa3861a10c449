/**
 * A tiny IRP server for client tests: TLS, greeting, frames, and a scripted
 * handler per command. Uses @irp/protocol for its codec (tested on its own).
 */
import { type AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import {
  ALPN_PROTOCOL,
  DEFAULT_XML_LIMITS,
  decodeCommand,
  encodeFrame,
  encodeGreeting,
  encodeNotify,
  encodeResponse,
  errorResponse,
  FrameDecoder,
  type Greeting,
  type IrpCommand,
  IrpProtocolError,
  type IrpNotify,
  type IrpResponse,
} from '@irp/protocol';

/** One connection as seen by a handler. */
export interface TestConnection {
  socket: tls.TLSSocket;
  /** Commands received so far, in order. */
  received: IrpCommand[];
  sendResponse(r: IrpResponse): void;
  sendNotify(n: IrpNotify): void;
  sendRaw(xml: string): void;
}

/** What a handler does with a command: respond, or take over (return undefined). */
export type TestHandler = (cmd: IrpCommand, conn: TestConnection) => IrpResponse | undefined | void;

export const TEST_GREETING: Greeting = {
  server: 'localhost',
  domain: 'example.test',
  serverTime: new Date('2026-11-25T08:00:00Z'),
  versions: ['1.0'],
  authMethods: ['sca', 'upa'],
  clientCertificate: { status: 'none' },
  registration: { open: false, enrollment: true },
  commands: ['hello', 'ping', 'login', 'logout'],
  limits: {
    maxFrameBytes: 1_048_576,
    maxDepth: 16,
    maxElements: 10_000,
    maxTextBytes: 262_144,
    authTimeoutSeconds: 30,
    idleTimeoutSeconds: 600,
    maxSubscriptions: 1000,
    maxBindingsPerUser: 16,
    maxPkcs12PerUser: 20,
    maxCertificateDays: 365,
    allowLocalAddresses: false,
  },
};

let txn = 0;

/** A 1000 response to `cmd` with no data. */
export function okResponse(cmd: IrpCommand, code: 1000 | 1500 = 1000): IrpResponse {
  return {
    id: cmd.id,
    cmd: cmd.cmd,
    txn: `T-${++txn}`,
    result: { code, message: code === 1500 ? 'bye' : 'ok' },
    data: {},
  } as IrpResponse;
}

/** The default behaviour: hello → greeting, logout → 1500 + close, else 1000. */
export const defaultHandler: TestHandler = (cmd, conn) => {
  if (cmd.cmd === 'hello')
    return { ...okResponse(cmd), cmd: 'hello', data: { greeting: TEST_GREETING } };
  if (cmd.cmd === 'logout') {
    conn.sendResponse(okResponse(cmd, 1500));
    conn.socket.end();
    return undefined;
  }
  return okResponse(cmd);
};

export interface TestServer {
  port: number;
  connections: TestConnection[];
  close(): Promise<void>;
}

/** Starts a TLS IRP server on 127.0.0.1 with a random port. */
export async function startTestServer(
  credentials: { key: Buffer; cert: Buffer },
  handler: TestHandler = defaultHandler,
  opts: { greeting?: boolean; alpn?: string[] } = {},
): Promise<TestServer> {
  const connections: TestConnection[] = [];
  const server = tls.createServer(
    {
      key: credentials.key,
      cert: credentials.cert,
      minVersion: 'TLSv1.2',
      ALPNProtocols: opts.alpn ?? [ALPN_PROTOCOL],
    },
    (socket) => {
      const decoder = new FrameDecoder(1_048_576);
      const conn: TestConnection = {
        socket,
        received: [],
        sendResponse: (r) => socket.write(encodeFrame(encodeResponse(r))),
        sendNotify: (n) => socket.write(encodeFrame(encodeNotify(n))),
        sendRaw: (xml) => socket.write(encodeFrame(xml)),
      };
      connections.push(conn);
      socket.on('error', () => undefined);
      if (opts.greeting !== false) socket.write(encodeFrame(encodeGreeting(TEST_GREETING)));
      socket.on('data', (chunk: Buffer) => {
        for (const frame of decoder.push(chunk)) {
          let cmd: IrpCommand;
          try {
            cmd = decodeCommand(frame, DEFAULT_XML_LIMITS);
          } catch (e) {
            if (!(e instanceof IrpProtocolError)) throw e;
            conn.sendResponse(errorResponse(e, `T-${++txn}`));
            continue;
          }
          conn.received.push(cmd);
          const response = handler(cmd, conn);
          if (response) conn.sendResponse(response);
        }
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of connections) c.socket.destroy();
        server.close(() => resolve());
      }),
  };
}
