// `node bench/stall-profile.mjs <file.cpuprofile> [results-dir] [--top N]`: what the
// server's main thread ran during its event-loop stalls. Needs a run with both the
// request trace and the profile:
//
//   BENCH_TRACE=1 BENCH_SERVER_FLAGS=--import=./bench/request-trace.mjs \
//     npm run bench -- --only 5 --profile
//
// The stalls (bench/request-trace.mjs: gaps > 4 ms of a 1 ms timer, with their monotonic
// µs) select the profile's samples (same clock); the summary is by area and function, as
// bench/profile-summary.mjs prints for a measurement window. With BENCH_TRACE set too,
// one summary per open-loop run (the stalls during it); else one for the whole profile.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarise } from './profile-summary.mjs';

const args = process.argv.slice(2);
const topIndex = args.indexOf('--top');
const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 20;
const positional = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--top');
const [profileFile, dirArg] = positional;
if (!profileFile) {
  console.error('usage: node bench/stall-profile.mjs <file.cpuprofile> [results-dir] [--top N]');
  process.exit(2);
}
const dir = dirArg ?? fileURLToPath(new URL('./results/', import.meta.url));
const profile = JSON.parse(readFileSync(profileFile, 'utf8'));
// the stalls: [absolute ms, monotonic µs start, end]
const stalls = [];
for (const f of readdirSync(dir).filter((f) => /^trace-\d+-events\.csv$/.test(f))) {
  for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
    const [kind, startAbs, , detail] = line.split(',');
    if (kind !== 'stall' || !detail?.includes('-')) continue;
    const [a, b] = detail.split('-').map(Number);
    if (a >= profile.startTime && b <= profile.endTime) stalls.push([Number(startAbs), a, b]);
  }
}
// the open-loop runs of the load processes (BENCH_TRACE): [label, first send, last receipt]
const runs = new Map();
for (const f of readdirSync(dir).filter((f) => /^trace-client-.*\.csv$/.test(f))) {
  let run;
  for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
    if (line.startsWith('# ')) {
      const fields = Object.fromEntries(line.slice(2).split(',').map((kv) => kv.split('=')));
      const key = fields.startAt;
      run = runs.get(key) ?? { rate: 0, from: Infinity, to: -Infinity };
      run.rate += Number(fields.rate);
      runs.set(key, run);
      continue;
    }
    const [, , send, recv] = line.split(',').map(Number);
    if (!run || !Number.isFinite(send)) continue;
    run.from = Math.min(run.from, send);
    run.to = Math.max(run.to, recv);
  }
}
const groups = runs.size
  ? [...runs.values()].map((r) => ({
      label: `open loop at ${Math.round(r.rate)} ops/s`,
      windows: stalls.filter(([t]) => t >= r.from && t <= r.to).map(([, a, b]) => [a, b]),
    }))
  : [{ label: 'the whole profile', windows: stalls.map(([, a, b]) => [a, b]) }];
for (const { label, windows } of groups) {
  const total = windows.reduce((t, [a, b]) => t + (b - a), 0) / 1000;
  console.log(`\n## ${label}: ${windows.length} stall(s), ${total.toFixed(0)} ms in all\n`);
  if (windows.length > 0) console.log(summarise(profile, { windows, top }).join('\n'));
}
