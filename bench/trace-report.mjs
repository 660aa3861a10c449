// Joins the per-request traces of a benchmark run and tells where the open-loop
// latency went:
//
//   npm run build
//   BENCH_TRACE=1 BENCH_SERVER_FLAGS=--import=./bench/request-trace.mjs npm run bench -- --only 5
//   node bench/trace-report.mjs [results-dir] [--slow=<ms>]
//
// Inputs (in results-dir, default bench/results/):
//   trace-<pid>-requests.csv, trace-<pid>-events.csv   the server (bench/request-trace.mjs)
//   trace-client-<pid>-<rate>.csv                      the load processes (bench/worker.mjs
//                                                      with BENCH_TRACE), one `# startAt=…`
//                                                      section per open-loop run
//
// A client row (session's local port, response id) is joined with the server row of the
// same client port and request id whose arrival lies between the send and the receipt
// (±5 ms for the clocks of two processes; ports and ids are reused across sessions).
// All times are absolute ms (performance.timeOrigin + performance.now() in each process).
//
// For each open-loop run (the workers' sections with the same startAt) it prints:
//   - n, and at p50/p90/p99/p99.9 of the total latency (what the benchmark reports: from
//     the send when the loop was on schedule, from the scheduled time when it was behind
//     because its previous answer came late) the request at that rank, split into
//       queued   scheduled → previous response of the same loop (session) received: each
//                loop sends one request at a time, so a slow response delays the next
//       late     → sent, when behind: the load generator's own delay in sending
//       c→s      sent → server 'data' event (kernel, TLS, the server's event loop)
//       server   received → response written (in-server)
//       s→c      written → client received
//     (the five add up to the total);
//   - the requests slower than --slow (default 10 ms): their mean split, and per 100 ms
//     bucket of their send time how many there were next to the server's event-loop
//     stalls and GC entries in that bucket.
// A run with no server rows (e.g. the transport floor against the bare TLS server) gets
// the client-side numbers only.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLOCK_TOLERANCE_MS = 5;
const BUCKET_MS = 100;
const QUANTILES = [50, 90, 99, 99.9];

const args = process.argv.slice(2);
const slowArg = args.find((a) => a.startsWith('--slow='));
const SLOW_MS = slowArg ? Number(slowArg.slice('--slow='.length)) : 10;
const dir =
  args.find((a) => !a.startsWith('--')) ?? fileURLToPath(new URL('./results/', import.meta.url));

const files = readdirSync(dir).sort();

/** Data lines of a CSV file (no header, no blank lines), split on commas. */
function* csvRows(file) {
  for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cells = line.split(',');
    if (Number.isNaN(Number(cells[0])) && cells[0] !== '') continue; // a header line
    yield cells;
  }
}

// server requests: "port,id" → [{ received, written }] (several: ports and ids are reused)
const serverRows = new Map();
let serverCount = 0;
for (const file of files.filter((f) => /^trace-\d+-requests\.csv$/.test(f))) {
  for (const [port, id, , received, written] of csvRows(file)) {
    const key = `${port},${id}`;
    const row = { received: Number(received), written: Number(written) };
    const list = serverRows.get(key);
    if (list) list.push(row);
    else serverRows.set(key, [row]);
    serverCount++;
  }
}

// server events: stalls and GC entries, by start time
const events = [];
for (const file of files.filter((f) => /^trace-\d+-events\.csv$/.test(f))) {
  const text = readFileSync(join(dir, file), 'utf8');
  for (const line of text.split('\n')) {
    const [kind, start, duration, detail] = line.split(',');
    if (kind !== 'gc' && kind !== 'stall') continue;
    events.push({ kind, start: Number(start), duration: Number(duration), detail });
  }
}
events.sort((a, b) => a.start - b.start);

// client runs: startAt → { rate (all workers), workers, loops, rows }
const runs = new Map();
for (const file of files.filter((f) => /^trace-client-\d+-.+\.csv$/.test(f))) {
  let run;
  for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
    if (line.startsWith('# ')) {
      const meta = Object.fromEntries(
        line
          .slice(2)
          .split(',')
          .map((kv) => kv.split('=')),
      );
      run = runs.get(meta.startAt);
      if (!run) {
        run = { startAt: Number(meta.startAt), rate: 0, workers: 0, loops: 0, rows: [] };
        runs.set(meta.startAt, run);
      }
      run.rate += Number(meta.rate);
      run.workers++;
      run.loops += Number(meta.concurrency);
      continue;
    }
    const cells = line.split(',');
    if (!run || cells.length < 5 || cells[0] === 'localPort') continue;
    const [port, id, send, recv, scheduled] = cells;
    run.rows.push({ key: `${port},${id}`, send: +send, recv: +recv, scheduled: +scheduled });
  }
}

if (runs.size === 0) {
  console.log(`no client traces (trace-client-*.csv) in ${dir}: run the bench with BENCH_TRACE=1`);
  process.exit(1);
}
console.log(
  `${dir}: ${serverCount} server request rows, ${events.length} server events, ${runs.size} open-loop run(s)`,
);

/** The server row of a client row: same port and id, arrived between send and receipt. */
function serverRowOf(row) {
  const candidates = serverRows.get(row.key);
  if (!candidates) return undefined;
  let best;
  for (const c of candidates) {
    if (c.received < row.send - CLOCK_TOLERANCE_MS || c.received > row.recv + CLOCK_TOLERANCE_MS)
      continue;
    if (!best || Math.abs(c.received - row.send) < Math.abs(best.received - row.send)) best = c;
  }
  return best;
}

/** Index of percentile `p` (0–100) in a sorted array of length n (as bench/lib.mjs). */
function rank(n, p) {
  return Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1));
}

const f = (ms) => ms.toFixed(2).padStart(8);
const mean = (list, pick) => list.reduce((s, r) => s + pick(r), 0) / list.length;

for (const run of [...runs.values()].sort((a, b) => a.startAt - b.startAt)) {
  // the previous response of the same loop (one session, so one local port, per loop)
  const previousRecv = new Map();
  const byPort = [...run.rows].sort((a, b) => a.scheduled - b.scheduled);
  const previous = new Map();
  for (const r of byPort) {
    const port = r.key.slice(0, r.key.indexOf(','));
    previousRecv.set(r, previous.get(port) ?? -Infinity);
    previous.set(port, r.recv);
  }
  const rows = run.rows.map((r) => {
    // as bench/worker.mjs counts: from the send when the loop was on schedule (its timer's
    // jitter is not the server's), from the scheduled time when it was behind because
    // the previous answer came late
    const behind = previousRecv.get(r) > r.scheduled;
    const free = behind ? Math.min(r.send, previousRecv.get(r)) : r.send;
    const t0 = behind ? r.scheduled : r.send;
    const total = r.recv - t0;
    const queued = free - t0;
    const late = r.send - free;
    const s = serverRowOf(r);
    if (!s) return { ...r, total, queued, late };
    return {
      ...r,
      total,
      queued,
      late,
      toServer: s.received - r.send,
      inServer: s.written - s.received,
      toClient: r.recv - s.written,
    };
  });
  rows.sort((a, b) => a.total - b.total);
  const n = rows.length;
  const joined = rows.filter((r) => r.inServer !== undefined);
  const first = rows.reduce((t, r) => Math.min(t, r.send), Infinity);
  const last = rows.reduce((t, r) => Math.max(t, r.recv), -Infinity);
  console.log(
    `\nrun ${new Date(run.startAt).toISOString()}: ${Math.round(run.rate)} ops/s offered ` +
      `(${run.workers} worker(s), ${run.loops} loops), ${((last - first) / 1000).toFixed(1)} s`,
  );
  console.log(`  n ${n}, joined with the server's rows: ${joined.length}`);
  if (n === 0) continue;
  const hasServer = joined.length > 0;
  console.log(
    `  ${'quantile'.padEnd(9)}${'total'.padStart(8)}${'queued'.padStart(8)}${'late'.padStart(8)}` +
      (hasServer ? `${'c→s'.padStart(8)}${'server'.padStart(8)}${'s→c'.padStart(8)}` : '') +
      '   (ms, of the request at that rank)',
  );
  for (const q of QUANTILES) {
    const r = rows[rank(n, q)];
    const split =
      r.inServer === undefined
        ? hasServer
          ? '   (not joined)'
          : ''
        : `${f(r.toServer)}${f(r.inServer)}${f(r.toClient)}`;
    console.log(`  p${String(q).padEnd(8)}${f(r.total)}${f(r.queued)}${f(r.late)}${split}`);
  }
  const early = rows.filter((r) => r.send < r.scheduled).length;
  if (early > 0)
    console.log(`  ${early} request(s) sent up to a timer's jitter before their scheduled time`);
  if (!hasServer) {
    console.log('  (no server rows: a run against another server, e.g. the bare TLS floor?)');
    continue;
  }

  const slow = joined.filter((r) => r.total > SLOW_MS);
  console.log(
    `  slower than ${SLOW_MS} ms: ${slow.length} (${((100 * slow.length) / n).toFixed(2)}%)` +
      (slow.length
        ? `, mean queued ${mean(slow, (r) => r.queued).toFixed(2)}, late ${mean(slow, (r) => r.late).toFixed(2)}, ` +
          `c→s ${mean(slow, (r) => r.toServer).toFixed(2)}, ` +
          `server ${mean(slow, (r) => r.inServer).toFixed(2)}, s→c ${mean(slow, (r) => r.toClient).toFixed(2)}`
        : ''),
  );
  const during = events.filter((e) => e.start >= first - BUCKET_MS && e.start <= last);
  const gc = during.filter((e) => e.kind === 'gc');
  const stalls = during.filter((e) => e.kind === 'stall');
  console.log(
    `  server during the run: ${stalls.length} stall(s) > 4 ms (${stalls.reduce((s, e) => s + e.duration, 0).toFixed(0)} ms), ` +
      `${gc.length} GC entries (${gc.reduce((s, e) => s + e.duration, 0).toFixed(0)} ms)`,
  );
  if (slow.length === 0) continue;
  // per 100 ms bucket (from the run's first send): slow requests by send time, and the
  // stalls and GC entries that began in the bucket
  const buckets = new Map();
  const bucket = (t) => {
    const b = Math.floor((t - first) / BUCKET_MS);
    let entry = buckets.get(b);
    if (!entry) {
      entry = { slow: 0, stall: [], gc: [] };
      buckets.set(b, entry);
    }
    return entry;
  };
  for (const r of slow) bucket(r.send).slow++;
  for (const e of during) bucket(e.start)[e.kind].push(e.duration);
  const describe = (list) =>
    list.length === 0
      ? '–'
      : `${list.length}: ${list.reduce((s, d) => s + d, 0).toFixed(0)} ms, max ${Math.max(...list).toFixed(1)}`;
  console.log(
    `  ${'from ms'.padStart(8)}${'slow'.padStart(7)}   ${'stalls > 4 ms'.padEnd(26)}GC entries`,
  );
  for (const [b, e] of [...buckets].sort((x, y) => x[0] - y[0])) {
    if (e.slow === 0 && e.stall.length === 0) continue;
    console.log(
      `  ${String(b * BUCKET_MS).padStart(8)}${String(e.slow).padStart(7)}   ${describe(e.stall).padEnd(26)}${describe(e.gc)}`,
    );
  }
}
