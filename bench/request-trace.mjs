// Per-request timing trace of the IRP server, loaded into the server process as a
// preload:
//
//   npm run build
//   BENCH_TRACE=1 BENCH_SERVER_FLAGS=--import=./bench/request-trace.mjs npm run bench -- --only 5
//   node bench/trace-report.mjs
//
// (BENCH_SERVER_FLAGS: Node flags of the server the harness starts, see bench/lib.mjs;
// BENCH_TRACE: makes bench/worker.mjs write the client side of the open-loop runs.)
//
// It subscribes to the server's `irp:command` diagnostics channel (see
// apps/server/src/transport/command-trace.ts) and appends, to bench/results/:
//
//   trace-<pid>-requests.csv  port,id,cmd,receivedAbs,writtenAbs
//       one row per answered command: the client's port, the request id, when the frame
//       arrived (socket 'data' event) and when the response was handed to the socket;
//   trace-<pid>-events.csv    kind,startAbs,durationMs,detail
//       `gc` entries (detail: the GC kind: 1 minor, 2 major, 4 incremental, 8 weakcb)
//       and `stall` entries: gaps of more than 4 ms between ticks of a 1 ms interval
//       timer, i.e. event-loop iterations that blocked (start = the last tick before;
//       detail: the gap in µs of the monotonic clock, `<start>-<end>`, the clock of a
//       `node --cpu-prof` profile: bench/stall-profile.mjs tells what ran in the stalls).
//
// All times are absolute milliseconds since the epoch (performance.timeOrigin +
// performance.now()), comparable with the client rows of bench/worker.mjs on the same
// machine. Rows are buffered and appended every 500 ms (no sorting in the server); the
// files are appended to, so several server runs can share bench/results/.
import { subscribe } from 'node:diagnostics_channel';
import { appendFileSync, mkdirSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';

/** Same as COMMAND_TRACE_CHANNEL in apps/server/src/transport/command-trace.ts. */
const CHANNEL = 'irp:command';
const STALL_MS = 4;
const FLUSH_MS = 500;

const dir = new URL('./results/', import.meta.url);
mkdirSync(dir, { recursive: true });
const requestsFile = new URL(`trace-${process.pid}-requests.csv`, dir);
const eventsFile = new URL(`trace-${process.pid}-events.csv`, dir);
appendFileSync(requestsFile, 'port,id,cmd,receivedAbs,writtenAbs\n');
appendFileSync(eventsFile, 'kind,startAbs,durationMs,detail\n');

const origin = performance.timeOrigin;
let requests = [];
let events = [];

subscribe(CHANNEL, (m) => {
  requests.push(
    `${m.port},${m.id},${m.cmd},${(origin + m.receivedAt).toFixed(3)},${(origin + m.writtenAt).toFixed(3)}`,
  );
});

new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    events.push(
      `gc,${(origin + e.startTime).toFixed(3)},${e.duration.toFixed(3)},${e.detail?.kind ?? ''}`,
    );
  }
}).observe({ entryTypes: ['gc'] });

const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);
let lastTick = performance.now();
let lastTickMicros = monotonicMicros();
setInterval(() => {
  const now = performance.now();
  const nowMicros = monotonicMicros();
  if (now - lastTick > STALL_MS) {
    events.push(
      `stall,${(origin + lastTick).toFixed(3)},${(now - lastTick).toFixed(3)},${lastTickMicros}-${nowMicros}`,
    );
  }
  lastTick = now;
  lastTickMicros = nowMicros;
}, 1).unref();

function flush() {
  if (requests.length > 0) {
    const rows = requests;
    requests = [];
    appendFileSync(requestsFile, rows.join('\n') + '\n');
  }
  if (events.length > 0) {
    const rows = events;
    events = [];
    appendFileSync(eventsFile, rows.join('\n') + '\n');
  }
}
setInterval(flush, FLUSH_MS).unref();
process.once('exit', flush);
