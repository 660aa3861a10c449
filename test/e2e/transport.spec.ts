import { connect as connectTls } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultCode } from '@irp/protocol';
import { RawIrp, asResponse } from '../support/raw-irp.js';
import { sClient } from '../support/openssl.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const IRP = '<irp version="1.0">';

describe('IRP transport over real TLS', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  async function raw(): Promise<RawIrp> {
    const conn = await RawIrp.open(server.irpPort, server.serverCa);
    await conn.waitFor(1); // greeting
    return conn;
  }

  it('sends the greeting right after the handshake (spec §6.6)', async () => {
    const client = await server.connect();
    const g = client.greeting;
    expect(g.server).toBe('localhost');
    expect(g.domain).toBe('example.com');
    expect(g.versions).toEqual(['1.0']);
    expect(g.authMethods).toEqual(['sca', 'upa']);
    expect(g.clientCertificate.status).toBe('none');
    expect(g.commands).toEqual(expect.arrayContaining(['hello', 'logout', 'ping']));
    expect(g.limits.maxFrameBytes).toBe(1_048_576);
    expect(g.limits.maxDepth).toBe(16);
    expect(Math.abs(g.serverTime.getTime() - Date.now())).toBeLessThan(5000);
    await client.close();
  });

  it('answers 100 pipelined pings in order, all written in one segment', async () => {
    const conn = await raw();
    const frames = Array.from({ length: 100 }, (_, i) =>
      RawIrp.frame(`${IRP}<ping id="p${i}"/></irp>`),
    );
    conn.socket.write(Buffer.concat(frames));
    const messages = await conn.waitFor(101);
    const responses = messages.slice(1).map(asResponse);
    expect(responses.map((r) => r.id)).toEqual(Array.from({ length: 100 }, (_, i) => `p${i}`));
    expect(responses.every((r) => r.result.code === ResultCode.Success && r.cmd === 'ping')).toBe(
      true,
    );
    expect(new Set(responses.map((r) => r.txn)).size).toBe(100);
    conn.close();
  });

  it('pipelines through IrpClient too', async () => {
    const client = await server.connect();
    const replies = await Promise.all(
      Array.from({ length: 50 }, () => client.request({ cmd: 'ping' })),
    );
    expect(replies.every((r) => r.result.code === ResultCode.Success)).toBe(true);
    await client.close();
  });

  it('answers 2002 to a command that needs a login (spec §6.1)', async () => {
    const conn = await raw();
    conn.send(`${IRP}<info id="i1"/></irp>`);
    const res = asResponse((await conn.waitFor(2))[1]);
    expect(res).toMatchObject({ id: 'i1', cmd: 'info', result: { code: ResultCode.UseError } });
    conn.close();
  });

  it('answers 2000 to an unknown command', async () => {
    const conn = await raw();
    conn.send(`${IRP}<frobnicate id="f1"/></irp>`);
    const res = asResponse((await conn.waitFor(2))[1]);
    expect(res.result.code).toBe(ResultCode.UnknownCommand);
    expect(res.id).toBe('f1');
    conn.close();
  });

  it('refuses a DOCTYPE with 2001 and keeps the connection usable', async () => {
    const conn = await raw();
    conn.send(`<?xml version="1.0"?><!DOCTYPE irp [<!ENTITY x "y">]>${IRP}<ping id="d1"/></irp>`);
    conn.send(`${IRP}<ping id="after"/></irp>`);
    const [, refused, ping] = (await conn.waitFor(3)).map((m, i) =>
      i === 0 ? undefined : asResponse(m),
    );
    expect(refused).toMatchObject({ id: '', cmd: '', result: { code: ResultCode.SyntaxError } });
    expect(ping).toMatchObject({ id: 'after', result: { code: ResultCode.Success } });
    expect(conn.closed).toBe(false);
    conn.close();
  });

  it('answers 2100 to another version and 2003 (id="") to a missing id', async () => {
    const conn = await raw();
    conn.send(`<irp version="2.0"><ping id="v2"/></irp>`);
    conn.send(`${IRP}<ping/></irp>`);
    const [, v2, noId] = await conn.waitFor(3);
    expect(asResponse(v2).result.code).toBe(ResultCode.UnimplementedVersion);
    expect(asResponse(noId)).toMatchObject({
      id: '',
      result: { code: ResultCode.MissingParameter },
    });
    conn.close();
  });

  it('answers 2500 and closes on an oversize frame, judged on its header alone', async () => {
    const conn = await raw();
    const header = Buffer.alloc(4);
    header.writeUInt32BE(server.config.maxFrameBytes + 1);
    conn.socket.write(header); // no body follows: the server must not wait for it
    const res = asResponse((await conn.waitFor(2))[1]);
    expect(res).toMatchObject({
      id: '',
      cmd: '',
      result: { code: ResultCode.CommandFailedClosing },
    });
    await conn.waitClosed();
  });

  it('answers 2500 and closes on a zero-length frame', async () => {
    const conn = await raw();
    conn.socket.write(Buffer.alloc(4));
    expect(asResponse((await conn.waitFor(2))[1]).result.code).toBe(
      ResultCode.CommandFailedClosing,
    );
    await conn.waitClosed();
  });

  it('handles a frame split into single bytes', async () => {
    const conn = await raw();
    const bytes = RawIrp.frame(`${IRP}<ping id="slow"/></irp>`);
    for (const byte of bytes) conn.socket.write(Buffer.from([byte]));
    expect(asResponse((await conn.waitFor(2))[1])).toMatchObject({
      id: 'slow',
      result: { code: 1000 },
    });
    conn.close();
  });

  it('answers hello with the greeting inside the response', async () => {
    const client = await server.connect();
    const res = await client.request({ cmd: 'hello' });
    expect(res.cmd).toBe('hello');
    expect(res.cmd === 'hello' && res.data.greeting?.domain).toBe('example.com');
    await client.close();
  });

  it('answers logout with 1500 and closes', async () => {
    const conn = await raw();
    conn.send(`${IRP}<logout id="bye"/></irp>`);
    expect(asResponse((await conn.waitFor(2))[1]).result.code).toBe(ResultCode.SuccessEnding);
    await conn.waitClosed();
  });

  describe('TLS policy (spec §1), judged by openssl s_client', () => {
    it('accepts TLS 1.3', async () => {
      const r = await sClient(server.irpPort, ['-tls1_3', '-alpn', 'irp/1']);
      expect(r.ok, r.output).toBe(true);
      expect(r.output).toMatch(/TLSv1\.3/);
      expect(r.output).toMatch(/ALPN protocol: irp\/1/);
    });

    it('accepts TLS 1.2 with ECDHE-ECDSA-AES256-GCM-SHA384', async () => {
      const r = await sClient(server.irpPort, [
        '-tls1_2',
        '-cipher',
        'ECDHE-ECDSA-AES256-GCM-SHA384',
      ]);
      expect(r.ok, r.output).toBe(true);
      expect(r.output).toMatch(/ECDHE-ECDSA-AES256-GCM-SHA384/);
    });

    it('accepts a client that offers no ALPN', async () => {
      const r = await sClient(server.irpPort, ['-tls1_3']);
      expect(r.ok, r.output).toBe(true);
    });

    it('refuses TLS 1.1', async () => {
      const r = await sClient(server.irpPort, ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0']);
      expect(r.ok, r.output).toBe(false);
      expect(r.output).toMatch(/alert protocol version/); // the server's refusal, not the client's
    });

    it('refuses a TLS 1.2 suite without forward secrecy', async () => {
      const r = await sClient(server.irpPort, ['-tls1_2', '-cipher', 'AES256-GCM-SHA384']);
      expect(r.ok, r.output).toBe(false);
      expect(r.output).toMatch(/alert handshake failure/);
    });

    it('refuses a TLS 1.2 CBC suite and TLS 1.3 AES-128', async () => {
      expect(
        (await sClient(server.irpPort, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES256-SHA384'])).ok,
      ).toBe(false);
      expect(
        (await sClient(server.irpPort, ['-tls1_3', '-ciphersuites', 'TLS_AES_128_GCM_SHA256'])).ok,
      ).toBe(false);
    });

    it('refuses a client whose ALPN list lacks irp/1', async () => {
      const r = await sClient(server.irpPort, ['-tls1_3', '-alpn', 'h2,http/1.1']);
      expect(r.ok, r.output).toBe(false);
      expect(r.output).toMatch(/alert no application protocol/);
    });

    it('seals no session into a stateless ticket (Decision: docs/protocol.md, transport)', async () => {
      // a stateless ticket carries the encrypted session (~240 bytes); with
      // SSL_OP_NO_TICKET the server hands out only a session id (32 bytes)
      const tickets = await new Promise<number[]>((resolve, reject) => {
        const lengths: number[] = [];
        const socket = connectTls({
          host: '127.0.0.1',
          port: server.irpPort,
          ca: server.serverCa,
          servername: 'localhost',
          ALPNProtocols: ['irp/1'],
        });
        socket.on('session', () => lengths.push(socket.getTLSTicket()?.length ?? 0));
        socket.on('error', reject);
        socket.once('data', () => setTimeout(() => socket.end(), 100));
        socket.on('close', () => resolve(lengths));
      });
      expect(tickets.length).toBeGreaterThan(0);
      for (const length of tickets) expect(length).toBeLessThanOrEqual(48);
    });
  });
});

describe('IRP session timers (spec §6.1)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({
      IRP_AUTH_TIMEOUT_SECONDS: '2',
      IRP_IDLE_TIMEOUT_SECONDS: '1',
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('closes an idle connection without a notify; ping keeps it alive', async () => {
    const conn = await RawIrp.open(server.irpPort, server.serverCa);
    await conn.waitFor(1);
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 500));
      conn.send(`${IRP}<ping id="k${i}"/></irp>`);
    }
    await conn.waitFor(4);
    expect(conn.closed).toBe(false);
    await conn.waitClosed(3000);
    expect(conn.messages.slice(1).every((m) => m.kind === 'response')).toBe(true);
  });

  it('closes a connection that has not logged in within authTimeoutSeconds', async () => {
    const conn = await RawIrp.open(server.irpPort, server.serverCa);
    await conn.waitFor(1);
    const started = Date.now();
    const keepAlive = setInterval(() => conn.send(`${IRP}<ping id="k"/></irp>`), 300);
    try {
      await conn.waitClosed(5000);
    } finally {
      clearInterval(keepAlive);
    }
    expect(Date.now() - started).toBeGreaterThan(1500);
  });
});
