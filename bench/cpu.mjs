// Where the CPU goes during a measurement: CPU time of the server's main thread, of its
// other threads (argon2id's pool, V8's GC and compiler: Node 20 does not name them), of PostgreSQL,
// of the load (this process and its children) and of the rest of the machine, read from
// /proc before and after. On a 2-core machine shared by server, database and load, this
// says which of them a ratio is made of.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Processes of the IRP server(s) under test: their threads are accounted separately. */
export const serverPids = new Set();

export const CPU_PARTS = ['serverMain', 'serverThreads', 'postgres', 'load', 'other'];

/** comm, ppid and CPU ticks (own; and of reaped children) of /proc/<path>/stat. */
function readStat(path) {
  let text;
  try {
    text = readFileSync(`/proc/${path}/stat`, 'utf8');
  } catch {
    return undefined; // gone meanwhile
  }
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  // fields from 3 (state) on: ppid is field 4, utime 14, stime 15, cutime 16, cstime 17
  const f = text.slice(close + 2).split(' ');
  return {
    comm,
    ppid: Number(f[1]),
    own: Number(f[11]) + Number(f[12]),
    children: Number(f[13]) + Number(f[14]),
  };
}

function machineTicks() {
  const [, ...v] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/);
  const n = v.map(Number); // user nice system idle iowait irq softirq steal …
  const idle = n[3] + n[4];
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/**
 * One reading of every process's (and the servers' threads') CPU ticks, by part. Kept
 * per process, because processes come and go between two readings (a pool's backends
 * end): a sum per part would drop what an ended process had used before.
 */
export function cpuSample() {
  const ticks = new Map(); // `${part} ${pid[/tid]}` → ticks
  const procs = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(name);
    if (s) procs.set(Number(name), s);
  }
  const isLoad = (pid) => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
      if (p === process.pid) return true;
      p = procs.get(p)?.ppid ?? 0;
    }
    return false;
  };
  for (const [pid, s] of procs) {
    if (serverPids.has(pid)) {
      let tasks = [];
      try {
        tasks = readdirSync(`/proc/${pid}/task`);
      } catch {
        // exited meanwhile
      }
      for (const tid of tasks) {
        const t = readStat(`${pid}/task/${tid}`);
        if (!t) continue;
        ticks.set(`${Number(tid) === pid ? 'serverMain' : 'serverThreads'} ${pid}/${tid}`, t.own);
      }
    } else if (s.comm === 'postgres') {
      ticks.set(`postgres ${pid}`, s.own);
    } else if (isLoad(pid)) {
      // this process also counts the children it reaped (load workers that ended)
      ticks.set(`load ${pid}`, s.own + (pid === process.pid ? s.children : 0));
    }
  }
  return { ticks, machine: machineTicks(), at: performance.now() };
}

/**
 * CPU milliseconds per operation between two samples, by part, plus how many cores
 * the machine was busy on average (`busyCores`) and had in all (`cores`).
 */
export function cpuPerOp(before, after, ops) {
  const ms = (ticks) => (ticks * 1000) / TICKS_PER_SECOND;
  const used = Object.fromEntries(CPU_PARTS.map((p) => [p, 0]));
  for (const [key, t] of after.ticks) {
    const was = before.ticks.get(key) ?? 0;
    // a process that started in between counts whole (a reused pid too)
    used[key.slice(0, key.indexOf(' '))] += t >= was ? t - was : t;
  }
  const perOp = {};
  let accounted = 0;
  for (const p of CPU_PARTS) {
    if (p === 'other') continue;
    accounted += used[p];
    perOp[p] = ops > 0 ? ms(used[p]) / ops : NaN;
  }
  const busy = after.machine.busy - before.machine.busy;
  const total = after.machine.total - before.machine.total;
  perOp.other = ops > 0 ? ms(Math.max(0, busy - accounted)) / ops : NaN;
  const seconds = (after.at - before.at) / 1000;
  return {
    msPerOp: perOp,
    busyCores: seconds > 0 ? ms(busy) / 1000 / seconds : NaN,
    cores: seconds > 0 ? ms(total) / 1000 / seconds : NaN,
  };
}

/** Runs `fn` (resolving to `{ ops, … }`) and adds `cpu` — the CPU per operation during it. */
export async function withCpu(fn) {
  const before = cpuSample();
  const result = await fn();
  const after = cpuSample();
  return { ...result, cpu: cpuPerOp(before, after, result.ops) };
}
