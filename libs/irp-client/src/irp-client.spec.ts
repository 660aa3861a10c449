/** End-to-end tests of IrpClient over a real TLS socket against a small in-test server. */
import { createServer, type AddressInfo, type Server } from 'node:net';
import {
  type IrpCommand,
  type IrpNotify,
  type IrpResponse,
  IrpProtocolError,
  XmlEncodeError,
} from '@irp/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { IrpConnectError } from './errors/irp-connect.error.js';
import { IrpConnectionClosedError } from './errors/irp-connection-closed.error.js';
import { IrpResultError } from './errors/irp-result.error.js';
import { IrpTimeoutError } from './errors/irp-timeout.error.js';
import { IrpClient, type IrpConnectOptions } from './irp-client.js';
import { makeTestCert, type TestCert } from './testing/test-cert.js';
import {
  defaultHandler,
  okResponse,
  startTestServer,
  TEST_GREETING,
  type TestHandler,
  type TestServer,
} from './testing/test-server.js';

let cert: TestCert;
const cleanups: (() => Promise<unknown> | void)[] = [];

beforeAll(() => {
  cert = makeTestCert();
});
afterAll(() => cert.dispose());
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(
  handler: TestHandler = defaultHandler,
  extra: Partial<IrpConnectOptions> = {},
): Promise<{ server: TestServer; client: IrpClient }> {
  const server = await startTestServer(cert, handler);
  cleanups.push(() => server.close());
  const client = await IrpClient.connect({
    host: 'localhost',
    port: server.port,
    ca: cert.cert,
    timeoutMs: 5000,
    ...extra,
  });
  cleanups.push(() => client.close());
  return { server, client };
}

const NOTIFY: IrpNotify = { event: 'watch-request', user: 'carol@example.test' };

describe('IrpClient: connect and greeting (spec §1, §6.6)', () => {
  it('completes TLS with ALPN irp/1 and exposes the greeting', async () => {
    const { client } = await setup();
    expect(client.alpnProtocol).toBe('irp/1');
    expect(client.greeting).toEqual(TEST_GREETING);
  });

  it('hello() fetches a fresh greeting', async () => {
    const { client } = await setup();
    expect(await client.hello()).toEqual(TEST_GREETING);
  });

  it('refuses a server whose certificate it does not trust', async () => {
    const server = await startTestServer(cert);
    cleanups.push(() => server.close());
    const error = await IrpClient.connect({
      host: 'localhost',
      port: server.port,
      timeoutMs: 5000,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IrpConnectError);
    expect(((error as IrpConnectError).cause as Error).message).toMatch(/self.signed|certificate/i);
  });

  it('times out a server that never completes the handshake', async () => {
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => silent.close(() => r())));
    silent.on('connection', (s) => cleanups.push(() => void s.destroy()));
    const start = Date.now();
    const error = await IrpClient.connect({
      host: '127.0.0.1',
      port: (silent.address() as AddressInfo).port,
      ca: cert.cert,
      timeoutMs: 300,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IrpConnectError);
    expect((error as IrpConnectError).cause).toBeInstanceOf(IrpTimeoutError);
    expect(Date.now() - start).toBeLessThan(3000);
  });

  it('times out a server that completes TLS but never greets', async () => {
    const server = await startTestServer(cert, defaultHandler, { greeting: false });
    cleanups.push(() => server.close());
    const error = await IrpClient.connect({
      host: 'localhost',
      port: server.port,
      ca: cert.cert,
      timeoutMs: 300,
    }).catch((e: unknown) => e);
    expect((error as IrpConnectError).cause).toBeInstanceOf(IrpTimeoutError);
  });
});

describe('IrpClient: requests (spec §4)', () => {
  it('pipelines many requests and matches each response by id, in order', async () => {
    const { server, client } = await setup();
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => client.request({ cmd: 'info', user: `u${i}` })),
    );
    const received = server.connections[0]!.received;
    expect(received.map((c) => (c as Extract<IrpCommand, { cmd: 'info' }>).user)).toEqual(
      Array.from({ length: 50 }, (_, i) => `u${i}`),
    );
    expect(responses.map((r) => r.id)).toEqual(received.map((c) => c.id));
    expect(new Set(responses.map((r) => r.id)).size).toBe(50);
  });

  it('matches by id even when responses come back in another order', async () => {
    const held: IrpCommand[] = [];
    const { client } = await setup((cmd, conn) => {
      held.push(cmd);
      if (held.length === 3)
        for (const c of held.reverse()) conn.sendResponse({ ...okResponse(c), txn: c.id });
    });
    const [a, b, c] = await Promise.all([
      client.request({ cmd: 'ping', id: 'a' }),
      client.request({ cmd: 'ping', id: 'b' }),
      client.request({ cmd: 'ping', id: 'c' }),
    ]);
    expect([a.id, b.id, c.id]).toEqual(['a', 'b', 'c']);
    expect([a.txn, b.txn, c.txn]).toEqual(['a', 'b', 'c']);
  });

  it('resolves 2xxx responses; call() turns them into IrpResultError', async () => {
    const { client } = await setup((cmd) =>
      cmd.cmd === 'info'
        ? { id: cmd.id, cmd: 'info', txn: 't', result: { code: 2201, message: 'no' }, data: {} }
        : okResponse(cmd),
    );
    expect((await client.request({ cmd: 'info' })).result.code).toBe(2201);
    const error = await client.call({ cmd: 'info' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IrpResultError);
    expect((error as IrpResultError).code).toBe(2201);
  });

  it('gives the typed data of a successful call', async () => {
    const { client } = await setup((cmd) =>
      cmd.cmd === 'subscribe'
        ? {
            id: cmd.id,
            cmd: 'subscribe',
            txn: 't',
            result: { code: 1000, message: 'ok' },
            data: { subscriptions: cmd.users.map((user) => ({ user, status: 'active' as const })) },
          }
        : okResponse(cmd),
    );
    const data = await client.call({ cmd: 'subscribe', users: ['bob', 'carol'] });
    expect(data.subscriptions?.map((s) => s.user)).toEqual(['bob', 'carol']);
  });

  it('delivers a notify sent between two responses, to events and the iterator', async () => {
    const { client } = await setup((cmd, conn) => {
      if (cmd.id === 'first') {
        conn.sendResponse(okResponse(cmd));
        conn.sendNotify(NOTIFY);
        return undefined;
      }
      return okResponse(cmd);
    });
    const events: IrpNotify[] = [];
    client.on('notify', (n) => events.push(n));
    const iterator = client.notifications();
    const [r1, r2] = await Promise.all([
      client.request({ cmd: 'ping', id: 'first' }),
      client.request({ cmd: 'ping', id: 'second' }),
    ]);
    expect([r1.id, r2.id]).toEqual(['first', 'second']);
    expect(events).toEqual([NOTIFY]);
    expect(await iterator.next()).toEqual({ value: NOTIFY, done: false });
  });

  it('ends the notification iterator when the connection closes', async () => {
    const { client, server } = await setup();
    const seen: IrpNotify[] = [];
    const loop = (async () => {
      for await (const n of client.notifications()) seen.push(n);
    })();
    await client.ping();
    server.connections[0]!.sendNotify(NOTIFY);
    await client.ping(); // the notify was sent before this response
    await client.close();
    await loop;
    expect(seen).toEqual([NOTIFY]);
  });

  it('times out one request without breaking the next (the late response is dropped)', async () => {
    let late: (() => void) | undefined;
    const { client } = await setup((cmd, conn) => {
      if (cmd.id === 'slow') {
        late = () => conn.sendResponse({ ...okResponse(cmd), txn: 'late' });
        return undefined;
      }
      late?.(); // answer in order: the slow one first, then this one
      late = undefined;
      return { ...okResponse(cmd), txn: 'fresh' };
    });
    const slow = client.request({ cmd: 'ping', id: 'slow' }, { timeoutMs: 100 });
    await expect(slow).rejects.toBeInstanceOf(IrpTimeoutError);
    const next = await client.request({ cmd: 'ping', id: 'next' });
    expect(next).toMatchObject({ id: 'next', txn: 'fresh' });
    expect(client.inFlight).toBe(0);
  });

  it('refuses a duplicate in-flight id and an unencodable command without sending', async () => {
    const { client, server } = await setup((cmd) =>
      cmd.id === 'hold' ? undefined : okResponse(cmd),
    );
    const hold = client.request({ cmd: 'ping', id: 'hold' }, { timeoutMs: 0 });
    hold.catch(() => undefined); // rejected by close() in cleanup
    await expect(client.request({ cmd: 'ping', id: 'hold' })).rejects.toThrow(/already in flight/);
    await expect(client.request({ cmd: 'ping', id: 'bad id' })).rejects.toBeInstanceOf(
      XmlEncodeError,
    );
    await expect(
      client.request({ cmd: 'login', method: 'upa', user: 'a', password: '\u0000' }),
    ).rejects.toBeInstanceOf(XmlEncodeError);
    await client.ping();
    // Only the first 'hold' and the ping reached the server.
    const received = server.connections[0]!.received;
    expect(received.map((c) => c.cmd)).toEqual(['ping', 'ping']);
    expect(received[0]!.id).toBe('hold');
  });

  it('refuses to send a frame above the server’s maxFrameBytes', async () => {
    const { client } = await setup();
    const big = Buffer.alloc(TEST_GREETING.limits.maxFrameBytes, 1);
    await expect(client.request({ cmd: 'uploadPkcs12', name: 'n', data: big })).rejects.toThrow(
      /Framing/,
    );
  });

  it('matches a response with id="" to the oldest request (refused before identification)', async () => {
    const { client } = await setup();
    const raw = await client.rawRequest('<irp version="2.0"><ping id="z"/></irp>');
    expect(raw).toMatch(/<response id="" cmd="" txn="T-\d+"><result code="2100">/);
  });
});

describe('IrpClient: raw requests', () => {
  it('returns the raw XML of the response', async () => {
    const { client } = await setup();
    const raw = await client.rawRequest('<irp version="1.0"><ping id="r1"/></irp>');
    expect(raw).toMatch(
      /^<irp version="1.0"><response id="r1" cmd="ping" txn="T-\d+"><result code="1000">ok<\/result><\/response><\/irp>$/,
    );
  });

  it('returns the refusal of malformed XML (2001, id="")', async () => {
    const { client } = await setup();
    const raw = await client.rawRequest('<irp version="1.0"><ping id="r1"></irp>');
    expect(raw).toContain('<result code="2001">');
    expect(raw).toContain('id=""');
  });

  it('returns a response the decoder cannot read', async () => {
    const { client } = await setup((cmd, conn) => {
      conn.sendRaw(
        `<irp version="1.0"><response id="${cmd.id}" cmd="ping" txn="t"><result code="9999">?</result></response></irp>`,
      );
    });
    const raw = await client.rawRequest('<irp version="1.0"><ping id="weird"/></irp>');
    expect(raw).toContain('code="9999"');
    // A typed request gets the decoding error instead.
    await expect(client.request({ cmd: 'ping' })).rejects.toBeInstanceOf(IrpProtocolError);
  });
});

describe('IrpClient: closing', () => {
  it('close() rejects in-flight requests with a clear error and resolves closed', async () => {
    const { client } = await setup(() => undefined); // never answers
    const inflight = [client.request({ cmd: 'ping' }), client.request({ cmd: 'info' })];
    const closed = client.close();
    for (const p of inflight) {
      const error = await p.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IrpConnectionClosedError);
      expect((error as IrpConnectionClosedError).byClient).toBe(true);
      expect((error as Error).message).toMatch(/closed by the client/);
    }
    expect(await closed).toMatchObject({ byClient: true });
    expect(await client.closed).toMatchObject({ byClient: true });
    await expect(client.request({ cmd: 'ping' })).rejects.toBeInstanceOf(IrpConnectionClosedError);
  });

  it('logout resolves with 1500, then closed reports the closing result', async () => {
    const { client } = await setup();
    const response: IrpResponse = await client.logout();
    expect(response.result.code).toBe(1500);
    const info = await client.closed;
    expect(info).toMatchObject({ byClient: false, closingResult: { code: 1500 } });
  });

  it('rejects requests in flight when the server closes', async () => {
    const { client, server } = await setup(() => undefined);
    const p = client.request({ cmd: 'ping' });
    await new Promise((r) => setTimeout(r, 50));
    server.connections[0]!.socket.destroy();
    const error = await p.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IrpConnectionClosedError);
    expect((error as IrpConnectionClosedError).byClient).toBe(false);
    expect((await client.closed).byClient).toBe(false);
  });
});

describe('IrpClient: write backpressure', () => {
  it('queues frames while the socket is full and sends them all after drain', async () => {
    const { client, server } = await setup();
    const serverSocket = server.connections[0]!.socket;
    serverSocket.pause();
    const data = Buffer.alloc(150_000, 7); // 200 KB of base64: under maxTextBytes
    const requests = Array.from({ length: 40 }, () =>
      client.request({ cmd: 'uploadPkcs12', name: 'n', data }, { timeoutMs: 20_000 }),
    );
    // 40 × ~200 KB cannot all fit in the socket buffer: some must wait for 'drain'.
    expect(client.queuedWrites).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 100));
    expect(client.queuedWrites).toBeGreaterThan(0); // still waiting: nothing was forced through
    serverSocket.resume();
    const responses = await Promise.all(requests);
    expect(responses.every((r) => r.result.code === 1000)).toBe(true);
    expect(client.queuedWrites).toBe(0);
    expect(server.connections[0]!.received).toHaveLength(40);
  });
});
