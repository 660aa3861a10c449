// A load-generating process of the benchmark. The parent sends {type:'prepare'} with a
// scenario, then {type:'run'}; the worker runs `concurrency` closed loops until the
// deadline and reports operation count and latencies (ms).
import { readFileSync } from 'node:fs';
import { IrpClient } from '@irp/client';

const MAX_SAMPLES = 50_000;

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
    },
  },
};

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
      // `rate` (ops/s of this process) an open loop: each loop sends on a fixed schedule,
      // and latency counts from the scheduled time (no coordinated omission)
      const interval = message.rate ? (concurrency * 1000) / message.rate : 0;
      const began = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async (_, i) => {
          let next = began + (interval * i) / concurrency;
          while (Date.now() < deadline) {
            if (interval > 0) {
              const wait = next - performance.now();
              if (wait > 0) await new Promise((r) => setTimeout(r, wait));
              if (Date.now() >= deadline) break;
            }
            const t0 = interval > 0 ? next : performance.now();
            next += interval;
            try {
              await scenario.op(state, i, message.op);
              ops++;
              if (latencies.length < MAX_SAMPLES) latencies.push(performance.now() - t0);
            } catch (error) {
              errors++;
              firstError ??= String(error?.message ?? error);
            }
          }
        }),
      );
      process.send({ type: 'result', ops, errors, firstError, latencies });
    }
  } catch (error) {
    process.send({ type: 'error', error: String(error?.stack ?? error) });
  }
});
