// A load-generating process of the benchmark. The parent sends {type:'prepare'} with a
// scenario, then {type:'run'}; the worker runs `concurrency` closed loops until the
// deadline and reports operation count and latencies (ms).
//
// With BENCH_TRACE set, each open-loop run (a run with a rate) also writes the client
// side of every request to bench/results/trace-client-<pid>-<rate>.csv: a line
// `# startAt=<ms>,rate=<ops/s of this process>,concurrency=<loops>` naming the run, then
// `localPort,id,sendAbs,recvAbs,scheduledAbs` rows (the session's local port and the
// response id, which bench/request-trace.mjs records on the server side too; absolute ms
// since the epoch). bench/trace-report.mjs joins both sides.
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { IrpClient } from '@irp/client';

const MAX_SAMPLES = 50_000;
const TRACE = Boolean(process.env.BENCH_TRACE);

/** Scenario name → { prepare(params, concurrency) → state, op(state, loopIndex) → Promise } */
const SCENARIOS = {
  /** Figure 1: TLS connect + greeting on the IRP server. */
  'irp-connect': {
    async prepare(p) {
      return { options: tlsOptions(p) };
    },
    async op(s) {
      const client = await IrpClient.connect(s.options);
      client.close();
    },
  },
  /** Figure 2: connect + greeting + login method="sca". */
  'sca-login': {
    async prepare(p) {
      return { options: tlsOptions(p) };
    },
    async op(s) {
      const client = await IrpClient.connect(s.options);
      const r = await client.request({ cmd: 'login', method: 'sca' });
      client.close();
      if (r.result.code !== 1000)
        throw new Error(`login sca: ${r.result.code} ${r.result.message}`);
    },
  },
  /** Figure 3: connect + greeting + login method="upa" (users prepared by the parent). */
  'upa-login': {
    async prepare(p) {
      return {
        options: tlsOptions(p),
        users: p.users,
        password: p.password,
        next: p.workerIndex * 1000,
      };
    },
    async op(s) {
      const user = s.users[s.next++ % s.users.length];
      const client = await IrpClient.connect(s.options);
      const r = await client.request({ cmd: 'login', method: 'upa', user, password: s.password });
      client.close();
      if (r.result.code !== 1000)
        throw new Error(`login upa: ${r.result.code} ${r.result.message}`);
    },
  },
  /** Figures 4/5: one authenticated session per loop; the run's `op` picks the command. */
  sessions: {
    async prepare(p, concurrency) {
      const sessions = [];
      for (let i = 0; i < concurrency; i++) {
        const user = p.users[(p.workerIndex * 1000 + i) % p.users.length];
        const client = await IrpClient.connect(tlsOptions(p));
        const r = await client.request({ cmd: 'login', method: 'upa', user, password: p.password });
        if (r.result.code !== 1000)
          throw new Error(`login ${user}: ${r.result.code} ${r.result.message}`);
        sessions.push(client);
      }
      return { sessions, counter: p.workerIndex * 100_000, targets: p.targets ?? p.users };
    },
    async op(s, i, op) {
      const command =
        op === 'lookup'
          ? { cmd: 'lookupAddress', user: s.targets[s.counter++ % s.targets.length] }
          : {
              cmd: 'registerAddress',
              device: `bench${i}`,
              addresses: [
                {
                  family: 'ipv6',
                  address: `2001:db8::${(1 + (s.counter++ % 65534)).toString(16)}`,
                  port: 4605,
                  transport: 'tcp',
                },
              ],
              expires: 3600,
            };
      const r = await s.sessions[i].request(command);
      if (r.result.code >= 2000) throw new Error(`${r.cmd}: ${r.result.code} ${r.result.message}`);
      return r;
    },
    /** The local TCP port of loop `i`'s session (for BENCH_TRACE). */
    localPort(s, i) {
      // IrpClient keeps its TLS socket in a private field
      return s.sessions[i].socket.localPort;
    },
  },
};

/** Appends one open-loop run's client rows (BENCH_TRACE) to bench/results/. */
function writeTrace(rows, { startAt, rate, concurrency }) {
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL(`trace-client-${process.pid}-${rate}.csv`, dir);
  const header = `# startAt=${startAt},rate=${rate},concurrency=${concurrency}\n`;
  appendFileSync(file, header + 'localPort,id,sendAbs,recvAbs,scheduledAbs\n' + rows.join(''));
}

function tlsOptions(p) {
  const options = {
    host: '127.0.0.1',
    port: p.port,
    ca: p.ca,
    servername: p.servername ?? 'localhost',
    timeoutMs: 30_000,
  };
  if (p.certFile) {
    options.cert = readFileSync(p.certFile);
    options.key = readFileSync(p.keyFile);
  }
  return options;
}

let prepared;
process.on('message', async (message) => {
  try {
    if (message.type === 'prepare') {
      const scenario = SCENARIOS[message.scenario];
      if (!scenario) throw new Error(`unknown scenario ${message.scenario}`);
      prepared = {
        scenario,
        concurrency: message.concurrency,
        state: await scenario.prepare(message.params, message.concurrency),
      };
      process.send({ type: 'ready' });
    } else if (message.type === 'run') {
      const { scenario, concurrency, state } = prepared;
      await new Promise((r) => setTimeout(r, Math.max(0, message.startAt - Date.now())));
      const deadline = Date.now() + message.seconds * 1000;
      const latencies = [];
      let ops = 0;
      let errors = 0;
      let firstError;
      // closed loop: each loop sends its next request when the answer arrived. With
      // `rate` (ops/s of this process) an open loop: each loop sends on a fixed schedule;
      // a send that is behind it (the previous answer came late) counts its latency from
      // the scheduled time (no coordinated omission)
      const interval = message.rate ? (concurrency * 1000) / message.rate : 0;
      // BENCH_TRACE: client rows of this open-loop run (see the header of this file)
      const trace = TRACE && interval > 0 ? [] : undefined;
      const origin = performance.timeOrigin;
      const began = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async (_, i) => {
          const port = trace && scenario.localPort?.(state, i);
          let next = began + (interval * i) / concurrency;
          while (Date.now() < deadline) {
            const scheduled = next;
            let t0;
            if (interval > 0 && next > performance.now()) {
              // on schedule: wait for it, and count from the actual send — a timer fires up
              // to ~1 ms off its deadline (Node's millisecond timers), which is the load
              // generator's jitter, not the server's latency
              await new Promise((r) => setTimeout(r, next - performance.now()));
              if (Date.now() >= deadline) break;
              t0 = performance.now();
            } else {
              // closed loop; or behind schedule because the previous answer came late: an
              // open loop counts from the scheduled time (no coordinated omission)
              t0 = interval > 0 ? next : performance.now();
            }
            const sentAt = trace && performance.now();
            next += interval;
            try {
              const response = await scenario.op(state, i, message.op);
              ops++;
              if (latencies.length < MAX_SAMPLES) latencies.push(performance.now() - t0);
              if (trace) {
                const receivedAt = performance.now();
                trace.push(
                  `${port},${response?.id},${(origin + sentAt).toFixed(3)},${(origin + receivedAt).toFixed(3)},${(origin + scheduled).toFixed(3)}\n`,
                );
              }
            } catch (error) {
              errors++;
              firstError ??= String(error?.message ?? error);
            }
          }
        }),
      );
      if (trace) writeTrace(trace, { startAt: message.startAt, rate: message.rate, concurrency });
      process.send({ type: 'result', ops, errors, firstError, latencies });
    }
  } catch (error) {
    process.send({ type: 'error', error: String(error?.stack ?? error) });
  }
});
