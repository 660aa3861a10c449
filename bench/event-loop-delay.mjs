// A diagnostic preload for the server under test: every 2 s it appends the event loop's
// delay (p50/p99/max) and the time spent in GC to bench/results/event-loop-<pid>.log.
//   BENCH_SERVER_FLAGS=--import=./bench/event-loop-delay.mjs npm run bench -- --only 5
import { appendFileSync, mkdirSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

const dir = new URL('./results/', import.meta.url);
mkdirSync(dir, { recursive: true });
const file = new URL(`event-loop-${process.pid}.log`, dir);
const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
let gcTotal = 0;
let gcMax = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcTotal += entry.duration;
    gcMax = Math.max(gcMax, entry.duration);
  }
}).observe({ entryTypes: ['gc'] });
const ms = (ns) => (ns / 1e6).toFixed(1);
setInterval(() => {
  appendFileSync(
    file,
    `${new Date().toISOString()} event-loop delay p50 ${ms(delay.percentile(50))} p99 ${ms(delay.percentile(99))} max ${ms(delay.max)} ms; GC ${gcTotal.toFixed(0)} ms (longest ${gcMax.toFixed(1)} ms)\n`,
  );
  delay.reset();
  gcTotal = 0;
  gcMax = 0;
}, 2000).unref();
