// `node bench/profile-summary.mjs <file.cpuprofile> [--top N]`: where a `node --cpu-prof`
// profile of the server spent its main thread — self time by area (the server's own
// modules, each library, each part of Node) and the top functions. `npm run bench --
// --profile` writes such a profile of the server and prints this summary.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** The area a frame belongs to, from its script URL. */
export function areaOf(callFrame) {
  const { url, functionName } = callFrame;
  if (!url) {
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(garbage collector)') return 'V8: garbage collector';
    if (functionName === '(program)') return 'V8/native: (program)';
    return 'native';
  }
  const nodeModule = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (nodeModule) return `npm: ${nodeModule[1]}`;
  const own = /\/(apps|libs)\/([^/]+)\/(?:dist|src)\/(?:([^/]+)\/)?/.exec(url);
  if (own) return own[1] === 'apps' ? `${own[2]}: ${own[3] ?? '(root)'}` : `lib: ${own[2]}`;
  const internal = /^node:(?:internal\/)?([^/]+)/.exec(url);
  if (internal) return `node: ${internal[1]}`;
  return url;
}

/**
 * Self time (ms) per node id, from the samples and their time deltas; with `windows`
 * ([start, end] in µs of the profile's clock), only the samples inside one of them.
 */
function selfTimes(profile, windows) {
  const self = new Map();
  const { samples = [], timeDeltas = [] } = profile;
  let t = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    t += timeDeltas[i] ?? 0;
    if (windows && !windows.some(([a, b]) => t >= a && t <= b)) continue;
    const dt = (timeDeltas[i + 1] ?? 0) / 1000; // µs → ms; a delta belongs to the sample before it
    self.set(samples[i], (self.get(samples[i]) ?? 0) + dt);
  }
  return self;
}

/** Markdown lines summarising one profile (or the part of it inside `windows`). */
export function summarise(profile, { top = 25, windows } = {}) {
  const self = selfTimes(profile, windows);
  const byArea = new Map();
  const byFunction = new Map();
  let total = 0;
  let idle = 0;
  for (const node of profile.nodes) {
    const ms = self.get(node.id) ?? 0;
    if (ms === 0) continue;
    const area = areaOf(node.callFrame);
    if (area === '(idle)') {
      idle += ms;
      continue;
    }
    total += ms;
    byArea.set(area, (byArea.get(area) ?? 0) + ms);
    const f = node.callFrame;
    const where = f.url
      ? `${f.url.replace(/^.*\/(apps|libs|node_modules)\//, '$1/')}:${f.lineNumber + 1}`
      : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
  }
  if (total === 0) return []; // nothing of this process ran then (another process's measurement)
  const pct = (ms) => `${((100 * ms) / total).toFixed(1)} %`;
  const sorted = (m) => [...m].sort((a, b) => b[1] - a[1]);
  return [
    `Main thread busy ${(total / 1000).toFixed(1)} s, idle ${(idle / 1000).toFixed(1)} s (${((100 * total) / (total + idle)).toFixed(0)} % busy). Self time by area:`,
    '',
    '| area | self time | share |',
    '|---|---|---|',
    ...sorted(byArea)
      .filter(([, ms]) => ms / total >= 0.005)
      .map(([area, ms]) => `| ${area} | ${ms.toFixed(0)} ms | ${pct(ms)} |`),
    '',
    `Top ${top} functions by self time:`,
    '',
    '| function | self time | share |',
    '|---|---|---|',
    ...sorted(byFunction)
      .slice(0, top)
      .map(([fn, ms]) => `| \`${fn}\` | ${ms.toFixed(0)} ms | ${pct(ms)} |`),
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, ...rest] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node bench/profile-summary.mjs <file.cpuprofile> [--top N]');
    process.exit(2);
  }
  const top = rest.includes('--top') ? Number(rest[rest.indexOf('--top') + 1]) : 25;
  const profile = JSON.parse(await readFile(file, 'utf8'));
  console.log(summarise(profile, { top }).join('\n'));
}
