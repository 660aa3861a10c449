import { type SrvRecord } from 'node:dns';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IrpConnectError } from './errors/irp-connect.error.js';
import { IrpClient } from './irp-client.js';
import { orderSrvRecords, resolveIrpTargets } from './srv-resolver.js';
import { makeTestCert, type TestCert } from './testing/test-cert.js';
import { startTestServer } from './testing/test-server.js';

const rec = (name: string, priority: number, weight: number, port = 4604): SrvRecord => ({
  name,
  priority,
  weight,
  port,
});

/** A random source that replays the given values. */
const replay = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length] as number;
};

describe('orderSrvRecords (RFC 2782)', () => {
  it('orders by ascending priority first', () => {
    const ordered = orderSrvRecords(
      [rec('c', 30, 5), rec('a', 10, 5), rec('b', 20, 5)],
      replay(0.5),
    );
    expect(ordered.map((r) => r.name)).toEqual(['a', 'b', 'c']);
  });

  it('picks by running weight sum within a priority', () => {
    // weights 10 (x) and 90 (y): total 100; threshold = floor(r * 101)
    const records = [rec('x', 1, 10), rec('y', 1, 90)];
    expect(orderSrvRecords(records, replay(0.05)).map((r) => r.name)).toEqual(['x', 'y']); // 5 ≤ 10
    expect(orderSrvRecords(records, replay(0.5)).map((r) => r.name)).toEqual(['y', 'x']); // 50 > 10
  });

  it('places weight-0 records first but lets the draw pass them', () => {
    const records = [rec('heavy', 1, 100), rec('zero', 1, 0)];
    expect(orderSrvRecords(records, replay(0)).map((r) => r.name)).toEqual(['zero', 'heavy']); // 0 ≥ 0
    expect(orderSrvRecords(records, replay(0.9)).map((r) => r.name)).toEqual(['heavy', 'zero']);
  });

  // RFC 2782 draws an integer uniformly in [0, total] inclusive and takes the first
  // record whose running sum reaches it: with weights 1 and 3 the draws 0 and 1
  // pick 'a', 2..4 pick 'b' — 'b' first 3/5 of the time (the RFC's own slight bias).
  it('selects by the RFC 2782 draw over many runs', () => {
    const records = [rec('a', 1, 1), rec('b', 1, 3)];
    let seed = 42;
    const lcg = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let firstB = 0;
    for (let i = 0; i < 4000; i++) if (orderSrvRecords(records, lcg)[0]!.name === 'b') firstB++;
    expect(firstB / 4000).toBeGreaterThan(0.56);
    expect(firstB / 4000).toBeLessThan(0.64);
  });

  it('keeps every record exactly once', () => {
    const records = [
      rec('a', 2, 0),
      rec('b', 1, 7),
      rec('c', 1, 0),
      rec('d', 2, 9),
      rec('e', 1, 3),
    ];
    const ordered = orderSrvRecords(records);
    expect([...ordered].sort((p, q) => p.name.localeCompare(q.name))).toEqual(
      [...records].sort((p, q) => p.name.localeCompare(q.name)),
    );
    expect(ordered.slice(0, 3).every((r) => r.priority === 1)).toBe(true);
  });
});

describe('resolveIrpTargets (spec §1)', () => {
  it('queries _irp._tcp.<domain> and strips the trailing dot', async () => {
    const asked: string[] = [];
    const targets = await resolveIrpTargets('example.com', {
      resolveSrv: (name) => {
        asked.push(name);
        return Promise.resolve([
          rec('dir2.example.com.', 20, 0, 14604),
          rec('dir1.example.com.', 10, 0),
        ]);
      },
    });
    expect(asked).toEqual(['_irp._tcp.example.com']);
    expect(targets).toEqual([
      { host: 'dir1.example.com', port: 4604 },
      { host: 'dir2.example.com', port: 14604 },
    ]);
  });

  it.each(['ENOTFOUND', 'ENODATA'])('falls back to <domain>:4604 on %s', async (code) => {
    const targets = await resolveIrpTargets('example.com', {
      resolveSrv: () => Promise.reject(Object.assign(new Error(code), { code })),
    });
    expect(targets).toEqual([{ host: 'example.com', port: 4604 }]);
  });

  it('falls back on an empty answer', async () => {
    expect(
      await resolveIrpTargets('example.com', { resolveSrv: () => Promise.resolve([]) }),
    ).toEqual([{ host: 'example.com', port: 4604 }]);
  });

  it('does not guess around other DNS failures', async () => {
    await expect(
      resolveIrpTargets('example.com', {
        resolveSrv: () =>
          Promise.reject(Object.assign(new Error('SERVFAIL'), { code: 'ESERVFAIL' })),
      }),
    ).rejects.toThrow('SERVFAIL');
  });

  it('reports "service not available" for a lone "." target', async () => {
    await expect(
      resolveIrpTargets('example.com', { resolveSrv: () => Promise.resolve([rec('.', 0, 0, 0)]) }),
    ).rejects.toThrow(/not available/);
  });
});

describe('IrpClient.connectDomain', () => {
  let cert: TestCert;
  beforeAll(() => {
    cert = makeTestCert();
  });
  afterAll(() => cert.dispose());

  it('tries SRV targets in order and connects to the first that works', async () => {
    const server = await startTestServer(cert);
    // A port that refuses connections: bind, read the port, close.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const deadPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    try {
      const client = await IrpClient.connectDomain('example.test', {
        ca: cert.cert,
        timeoutMs: 5000,
        resolveSrv: () =>
          Promise.resolve([
            rec('localhost.', 20, 0, server.port),
            rec('localhost.', 10, 0, deadPort),
          ]),
      });
      expect(client.greeting.domain).toBe('example.test');
      await client.close();
    } finally {
      await server.close();
    }
  });

  it('reports every failed target', async () => {
    const error = await IrpClient.connectDomain('example.test', {
      timeoutMs: 2000,
      resolveSrv: () => Promise.resolve([rec('127.0.0.1.', 1, 0, 1), rec('127.0.0.1.', 2, 0, 2)]),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IrpConnectError);
    expect((error as IrpConnectError).attempts.map((a) => a.port)).toEqual([1, 2]);
  });
});
