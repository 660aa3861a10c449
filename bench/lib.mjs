// Shared helpers of the benchmark harness: child processes, statistics, reporting.
import { fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { cpuPerOp, cpuSample, serverPids } from './cpu.mjs';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The measurement windows of the run (label, start, end in µs of the monotonic clock —
 * the clock of V8's CPU profiles), so a server profile can be cut to each measurement.
 */
export const profileWindows = [];

/** Now, in µs of the monotonic clock (CLOCK_MONOTONIC, as V8's profiler timestamps). */
export function nowMicros() {
  return Number(process.hrtime.bigint() / 1000n);
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() =>
        address && typeof address === 'object'
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** Percentile (0–100) of a sorted array. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** Median/min/max of repeated measurements. */
export function summary(values) {
  const s = [...values].sort((a, b) => a - b);
  return { median: percentile(s, 50), min: s[0], max: s[s.length - 1], runs: s.length };
}

/**
 * Starts `workers` load processes (bench/worker.mjs) and prepares `scenario` in each
 * (`concurrency` loops in all), so that load and server never share an event loop.
 * `run(seconds, op?)` measures; `stop()` ends the processes.
 */
export async function startWorkers({ scenario, workers, concurrency, params }) {
  const count = Math.min(workers, concurrency);
  const procs = [];
  for (let i = 0; i < count; i++) {
    procs.push(
      fork(fileURLToPath(new URL('./worker.mjs', import.meta.url)), [], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
  }
  try {
    await Promise.all(
      procs.map((child, index) => {
        const share = Math.floor(concurrency / count) + (index < concurrency % count ? 1 : 0);
        child.send({
          type: 'prepare',
          scenario,
          concurrency: share,
          params: { ...params, workerIndex: index },
        });
        return waitMessage(child, 'ready');
      }),
    );
  } catch (error) {
    for (const child of procs) child.kill();
    throw error;
  }
  return {
    /** Measures for `seconds`; with `rate` (ops/s in all) as an open loop at that rate. */
    async run(seconds, op, rate) {
      const startAt = Date.now() + 50;
      const before = cpuSample();
      const window = {
        label: `${scenario}${op ? ` ${op}` : ''} @${concurrency}${rate ? ' paced' : ''}`,
        start: nowMicros(),
      };
      const all = await Promise.all(
        procs.map((child) => {
          child.send({ type: 'run', startAt, seconds, op, rate: rate && rate / procs.length });
          return waitMessage(child, 'result');
        }),
      );
      const ops = all.reduce((n, r) => n + r.ops, 0);
      const cpu = cpuPerOp(before, cpuSample(), ops);
      profileWindows.push({ ...window, end: nowMicros() });
      const latencies = all.flatMap((r) => r.latencies).sort((a, b) => a - b);
      const errors = all.reduce((n, r) => n + r.errors, 0);
      const firstError = all.find((r) => r.firstError)?.firstError;
      return {
        opsPerSec: ops / seconds,
        ops,
        cpu,
        errors,
        firstError,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
      };
    },
    stop() {
      for (const child of procs) child.kill();
    },
  };
}

/** Starts workers, runs once, stops them. */
export async function runWorkers({ scenario, workers, concurrency, seconds, params }) {
  const w = await startWorkers({ scenario, workers, concurrency, params });
  try {
    return await w.run(seconds);
  } finally {
    w.stop();
  }
}

async function waitMessage(child, type) {
  for (;;) {
    const [message] = await Promise.race([
      once(child, 'message'),
      once(child, 'exit').then(([code]) => {
        throw new Error(`bench worker exited with ${code} before '${type}'`);
      }),
    ]);
    if (message?.type === 'error') throw new Error(`bench worker: ${message.error}`);
    if (message?.type === type) return message;
  }
}

/**
 * Starts the production server (apps/server/dist) as a child process; resolves when it
 * listens. With `profileDir` it runs under `node --cpu-prof` and writes its profile
 * there when it stops.
 */
export async function startServer(env, { profileDir } = {}) {
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  // BENCH_SERVER_FLAGS: Node flags for the server, for experiments (e.g. --trace-gc)
  const flags = (process.env.BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean);
  // BENCH_SERVER_ENV: `NAME=value …` for the server's environment (e.g. MALLOC_ARENA_MAX=2)
  const extraEnv = Object.fromEntries(
    (process.env.BENCH_SERVER_ENV ?? '')
      .split(' ')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  const child = spawn(process.execPath, [...profile, ...flags, 'apps/server/dist/main.js'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      IRP_LOG_LEVEL: 'warn',
      ...extraEnv,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  serverPids.add(child.pid);
  child.once('exit', () => serverPids.delete(child.pid));
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}):\n${output}`);
    try {
      const r = await fetch(`http://127.0.0.1:${env.HTTP_PORT}/healthz`);
      if (r.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`server did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    child,
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** Formats a number for the table. */
export function fmt(n, digits = 1) {
  if (n === undefined || Number.isNaN(n)) return '–';
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(digits);
}

/**
 * A bench/session-worker.mjs process (figures 7 and 8): `call(message, replyType)`
 * sends one step and resolves with its reply.
 */
export function startSessionWorker() {
  const child = fork(fileURLToPath(new URL('./session-worker.mjs', import.meta.url)), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  // one step at a time: the reply (or error, or exit) settles the pending call
  let pending;
  child.on('message', (message) => {
    const p = pending;
    if (!p) return;
    if (message?.type === 'error') p.reject(new Error(`session worker: ${message.error}`));
    else if (message?.type === p.type) p.resolve(message);
    else return;
    pending = undefined;
  });
  child.on('exit', (code) => {
    pending?.reject(new Error(`session worker exited with ${code}`));
    pending = undefined;
  });
  return {
    child,
    call(message, type) {
      if (pending) return Promise.reject(new Error('session worker busy'));
      return new Promise((resolve, reject) => {
        pending = { type, resolve, reject };
        child.send(message);
      });
    },
    stop() {
      child.kill();
    },
  };
}

/** VmRSS of a process, in KiB (Linux). */
export async function rssKiB(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}
