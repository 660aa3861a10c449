import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultCode } from '@irp/protocol';
import {
  COMMAND_TRACE_CHANNEL,
  type CommandTrace,
} from '../../apps/server/src/transport/command-trace.js';
import { RawIrp, asResponse } from '../support/raw-irp.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const IRP = '<irp version="1.0">';

describe('the irp:command diagnostics channel', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('publishes the timings of every answered command, and nothing once unsubscribed', async () => {
    const traces: CommandTrace[] = [];
    const onMessage = (message: unknown): void => {
      traces.push(message as CommandTrace);
    };
    const conn = await RawIrp.open(server.irpPort, server.serverCa);
    try {
      await conn.waitFor(1); // greeting
      subscribe(COMMAND_TRACE_CHANNEL, onMessage);
      // the server runs in this process: its performance.now() is ours
      const sentAt = performance.now();
      // pipelined: a handled command, one refused before login, one the decoder refuses
      conn.socket.write(
        Buffer.concat([
          RawIrp.frame(`${IRP}<ping id="p1"/></irp>`),
          RawIrp.frame(`${IRP}<info id="i1"/></irp>`),
          RawIrp.frame(`${IRP}<frobnicate id="f1"/></irp>`),
        ]),
      );
      const responses = (await conn.waitFor(4)).slice(1).map(asResponse);
      const answeredAt = performance.now();
      unsubscribe(COMMAND_TRACE_CHANNEL, onMessage);

      expect(responses.map((r) => [r.id, r.result.code])).toEqual([
        ['p1', ResultCode.Success],
        ['i1', ResultCode.UseError],
        ['f1', ResultCode.UnknownCommand],
      ]);
      expect(traces.map(({ cmd, id, code, port }) => ({ cmd, id, code, port }))).toEqual([
        { cmd: 'ping', id: 'p1', code: ResultCode.Success, port: conn.socket.localPort },
        { cmd: 'info', id: 'i1', code: ResultCode.UseError, port: conn.socket.localPort },
        { cmd: '', id: 'f1', code: ResultCode.UnknownCommand, port: conn.socket.localPort },
      ]);
      let previousWrite = sentAt;
      for (const t of traces) {
        for (const key of ['receivedAt', 'startedAt', 'doneAt', 'writtenAt'] as const) {
          expect(Number.isFinite(t[key]), key).toBe(true);
        }
        expect(t.receivedAt).toBeGreaterThanOrEqual(sentAt);
        expect(t.startedAt).toBeGreaterThanOrEqual(t.receivedAt);
        expect(t.doneAt).toBeGreaterThanOrEqual(t.startedAt);
        expect(t.writtenAt).toBeGreaterThanOrEqual(t.doneAt);
        expect(t.writtenAt).toBeLessThanOrEqual(answeredAt);
        // handled one after another
        expect(t.startedAt).toBeGreaterThanOrEqual(previousWrite);
        previousWrite = t.writtenAt;
      }

      const published = traces.length;
      conn.send(`${IRP}<ping id="p2"/></irp>`);
      const [, , , , after] = await conn.waitFor(5);
      expect(asResponse(after)).toMatchObject({ id: 'p2', result: { code: ResultCode.Success } });
      expect(traces).toHaveLength(published);
    } finally {
      unsubscribe(COMMAND_TRACE_CHANNEL, onMessage);
      conn.close();
    }
  });
});
