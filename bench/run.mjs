// `npm run bench [-- --quick] [-- --only 1,3]`: the IRP server's performance against
// baselines measured in the same run (issue 7). Every figure is a ratio to its baseline,
// because these machines are shared and absolute numbers drift.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { hash, verify } from '@node-rs/argon2';
import { ROOT, fmt, freePort, runWorkers, startServer, startWorkers, summary } from './lib.mjs';
import { pgBaseline } from './pg-baselines.mjs';
import { BENCH_PASSWORD, seed } from './seed.mjs';

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const only = args.includes('--only')
  ? new Set(args[args.indexOf('--only') + 1].split(','))
  : undefined;
const RUNS = 3;
const SECONDS = QUICK ? 2 : 5;
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const rows = [];
const notes = [];
const log = (line) => process.stderr.write(`${line}\n`);

function record(row) {
  rows.push(row);
  log(
    `  ${row.figure} ${row.name}: ${fmt(row.value)} ${row.unit}` +
      (row.baseline !== undefined
        ? ` vs ${fmt(row.baseline)} (${row.baselineName}) = ${fmt(row.ratio, 2)}×`
        : ''),
  );
}

/** Alternates measurement and baseline RUNS times and keeps the median of each (and min/max). */
async function compare(figure, name, unit, goal, measure, baselineName, baseline) {
  const values = [];
  const bases = [];
  let extra = {};
  for (let i = 0; i < RUNS; i++) {
    const b = await baseline();
    const m = await measure();
    bases.push(b.opsPerSec);
    values.push(m.opsPerSec);
    extra = {
      p50: m.p50,
      p99: m.p99,
      errors: (extra.errors ?? 0) + (m.errors ?? 0),
      firstError: extra.firstError ?? m.firstError,
    };
  }
  const v = summary(values);
  const bl = summary(bases);
  const ratio = v.median / bl.median;
  record({
    figure,
    name,
    unit,
    value: v.median,
    min: v.min,
    max: v.max,
    baselineName,
    baseline: bl.median,
    baselineMin: bl.min,
    baselineMax: bl.max,
    ratio,
    goal,
    met: goal ? ratio >= goal : undefined,
    ...extra,
  });
}

async function main() {
  if (!existsSync(join(ROOT, 'apps/server/dist/main.js')))
    throw new Error('No build: run `npm run build` first');
  const started = Date.now();
  log(
    `IRP benchmark (${QUICK ? 'quick' : 'full'}): ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  );

  const dbName = `irp_bench_${Date.now()}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${dbName}`;

  const dataDir = await mkdtemp(join(tmpdir(), 'irp-bench-'));
  const [irpPort, httpPort, barePort] = [await freePort(), await freePort(), await freePort()];
  const server = await startServer({
    DATABASE_URL: dbUrl.toString(),
    IRP_DATA_DIR: dataDir,
    IRP_HOST: '127.0.0.1',
    IRP_PORT: String(irpPort),
    HTTP_PORT: String(httpPort),
    IRP_OPEN_REGISTRATION: 'true',
    IRP_ALLOW_LOCAL_ADDRESSES: 'true',
    IRP_RATE_LOGIN_PER_MIN: '1000000',
    IRP_RATE_REGISTER_PER_MIN: '1000000',
    IRP_MAX_SESSIONS: '200000',
  });
  let bare;
  try {
    const certFile = join(dataDir, 'tls', 'server.crt');
    const keyFile = join(dataDir, 'tls', 'server.key');
    // clients trust the domain root CA, as an IRP client does after first use (§9)
    const ca = await readFile(join(dataDir, 'ca', 'root.pem'), 'utf8');
    bare = fork(fileURLToPath(new URL('./bare-tls-server.mjs', import.meta.url)), [
      certFile,
      keyFile,
      String(barePort),
    ]);
    await once(bare, 'message');
    const irp = { port: irpPort, ca };
    const bareTarget = { port: barePort, ca };
    const load = { workers: 2, concurrency: 16, seconds: SECONDS };

    // figure 9 measures figures 4/5 at 10× fewer and 10× more users: seed in steps
    const users = QUICK ? 10_000 : 100_000;
    const steps = QUICK ? [users] : [users / 10, users];
    let seededTo = 0;
    for (const to of steps) {
      log(`seeding users ${seededTo + 1}…${to} with 3 bindings each`);
      const seeded = await seed(dbUrl.toString(), { from: seededTo, to });
      record({
        figure: 'seed',
        name: `bulk load ${seeded.users} users`,
        unit: 'users/s',
        value: seeded.users / seeded.userSeconds,
      });
      if (seeded.bindings > 0)
        record({
          figure: 'seed',
          name: `bulk load ${seeded.bindings} bindings`,
          unit: 'bindings/s',
          value: seeded.bindings / seeded.bindingSeconds,
        });
      seededTo = to;
      if (to !== users && (!only || only.has('9'))) {
        await registryFigures({
          irp,
          dbUrl: dbUrl.toString(),
          userIds: benchUsers(to),
          label: `${to} users`,
          levels: [256],
          figurePrefix: '9',
        });
      }
    }
    const userIds = benchUsers(users);
    // a certificate of the domain CA for bench1, requested over IRP like any client does
    const clientCert = await requestClientCertificate(irp, dataDir);

    if (!only || only.has('1')) {
      log('figure 1: TLS connect + greeting');
      await compare(
        '1',
        'connect + greeting (no client cert)',
        'conn/s',
        0.85,
        () => runWorkers({ ...load, scenario: 'irp-connect', params: irp }),
        'bare Node TLS',
        () => runWorkers({ ...load, scenario: 'irp-connect', params: bareTarget }),
      );
      await compare(
        '1',
        'connect + greeting (client cert)',
        'conn/s',
        0.85,
        () => runWorkers({ ...load, scenario: 'irp-connect', params: { ...irp, ...clientCert } }),
        'bare Node mTLS',
        () =>
          runWorkers({
            ...load,
            scenario: 'irp-connect',
            params: { ...bareTarget, ...clientCert },
          }),
      );
    }
    if (!only || only.has('2')) {
      log('figure 2: SCA login');
      await compare(
        '2',
        'SCA login (connect + greeting + login sca)',
        'logins/s',
        0.75,
        () => runWorkers({ ...load, scenario: 'sca-login', params: { ...irp, ...clientCert } }),
        'bare Node mTLS handshake',
        () =>
          runWorkers({
            ...load,
            scenario: 'irp-connect',
            params: { ...bareTarget, ...clientCert },
          }),
      );
    }

    if (!only || only.has('3')) {
      log('figure 3: UPA login');
      const stored = await hash(BENCH_PASSWORD, {
        algorithm: 2,
        memoryCost: 19_456,
        timeCost: 2,
        parallelism: 1,
      });
      const upaLoad = { workers: 2, concurrency: 8, seconds: SECONDS };
      await compare(
        '3',
        'UPA login (connect + greeting + login)',
        'logins/s',
        0.9,
        () =>
          runWorkers({
            ...upaLoad,
            scenario: 'upa-login',
            params: { ...irp, users: userIds, password: BENCH_PASSWORD },
          }),
        'raw argon2id verify',
        () => argonBaseline(stored, upaLoad.concurrency, SECONDS),
      );
    }
    if (!only || only.has('6')) {
      log('figure 6: certificate issuance (libs/pki) vs raw signatures of the same CA key');
      const { runIssuanceBenchmark } = await import('@irp/pki');
      for (const [caAlgorithm, goal] of [
        ['P-384', 0.5],
        ['P-256', 0.18],
      ]) {
        for (const mode of ['csr', 'issue']) {
          const results = [];
          for (let i = 0; i < RUNS; i++)
            results.push(
              await runIssuanceBenchmark({
                caAlgorithm,
                mode,
                csrKeyAlgorithm: 'P-256',
                durationMs: SECONDS * 1000,
              }),
            );
          const certs = summary(results.map((r) => r.certificatesPerSecond));
          const sigs = summary(results.map((r) => r.signaturesPerSecond));
          const ratio = summary(results.map((r) => r.ratio)).median;
          record({
            figure: '6',
            name: `issue from P-256 CSR, ${caAlgorithm} CA${mode === 'csr' ? ' (parse + verify CSR + issue)' : ' (CSR already verified)'}`,
            unit: 'certs/s',
            value: certs.median,
            min: certs.min,
            max: certs.max,
            baselineName: `crypto.sign/s (${caAlgorithm})`,
            baseline: sigs.median,
            ratio,
            goal,
            met: ratio >= goal,
          });
        }
      }
    }
    if (!only || only.has('4') || only.has('5')) {
      await registryFigures({ irp, dbUrl: dbUrl.toString(), userIds, label: `${users} users` });
    }
    if (!QUICK && (!only || only.has('9'))) {
      const big = users * 10;
      log(`seeding users ${users + 1}…${big} with 3 bindings each (figure 9)`);
      const seeded = await seed(dbUrl.toString(), { from: users, to: big });
      record({
        figure: 'seed',
        name: `bulk load ${seeded.users} users`,
        unit: 'users/s',
        value: seeded.users / seeded.userSeconds,
      });
      record({
        figure: 'seed',
        name: `bulk load ${seeded.bindings} bindings`,
        unit: 'bindings/s',
        value: seeded.bindings / seeded.bindingSeconds,
      });
      await registryFigures({
        irp,
        dbUrl: dbUrl.toString(),
        userIds: benchUsers(big),
        label: `${big} users`,
        levels: [256],
        figurePrefix: '9',
      });
    } else if (QUICK) {
      notes.push('figure 9 (scale, 10× fewer and 10× more users) runs in the full benchmark only');
    }
    for (const figure of ['7', '8']) {
      if (!only || only.has(figure))
        notes.push(
          `figure ${figure}: not measured yet — its feature has not landed (see docs/performance.md)`,
        );
    }
  } finally {
    bare?.kill();
    await server.stop();
    const a = new pg.Client({ connectionString: ADMIN_URL });
    await a.connect();
    await a.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await a.end();
    await rm(dataDir, { recursive: true, force: true });
  }
  await report(started);
}

/**
 * Figures 4 and 5: registerAddress and lookupAddress at 1, 16 and 256 sessions, each
 * against the same SQL straight through pg at the same concurrency.
 */
async function registryFigures({
  irp,
  dbUrl,
  userIds,
  label,
  levels = [1, 16, 256],
  figurePrefix,
}) {
  for (const concurrency of levels) {
    log(`figures 4/5: ${concurrency} session(s), ${label}`);
    const sessions = await startWorkers({
      scenario: 'sessions',
      workers: 2,
      concurrency,
      params: { ...irp, users: userIds, password: BENCH_PASSWORD, targets: userIds.slice(0, 1000) },
    });
    try {
      if (!only || only.has(figurePrefix ?? '4')) {
        const irpRuns = [];
        const full = [];
        const bare = [];
        for (let i = 0; i < RUNS; i++) {
          full.push(
            await pgBaseline(dbUrl, { kind: 'register-full', concurrency, seconds: SECONDS }),
          );
          bare.push(
            await pgBaseline(dbUrl, { kind: 'register-upsert', concurrency, seconds: SECONDS }),
          );
          irpRuns.push(await sessions.run(SECONDS, 'register'));
        }
        const v = summary(irpRuns.map((r) => r.opsPerSec));
        const a = summary(full.map((r) => r.opsPerSec));
        const b = summary(bare.map((r) => r.opsPerSec));
        const last = irpRuns[irpRuns.length - 1];
        const goal = concurrency === 256 ? 0.8 : undefined;
        record({
          figure: figurePrefix ?? '4',
          name: `registerAddress @${concurrency} (${label})`,
          unit: 'ops/s',
          value: v.median,
          min: v.min,
          max: v.max,
          baselineName: '(a) same SQL via pg',
          baseline: a.median,
          ratio: v.median / a.median,
          goal,
          met: goal ? v.median / a.median >= goal : undefined,
          p50: last.p50,
          p99: last.p99,
          errors: last.errors,
          firstError: last.firstError,
          p99Goal: concurrency === 256 ? 25 : undefined,
        });
        record({
          figure: figurePrefix ?? '4',
          name: `registerAddress @${concurrency} vs bare upsert`,
          unit: 'ops/s',
          value: v.median,
          baselineName: '(b) one bare upsert via pg',
          baseline: b.median,
          ratio: v.median / b.median,
          goal: concurrency === 256 ? 0.5 : undefined,
          met: concurrency === 256 ? v.median / b.median >= 0.5 : undefined,
          p50: full[full.length - 1].p50,
          p99: full[full.length - 1].p99,
        });
      }
      if (!only || only.has(figurePrefix ?? '5')) {
        const irpRuns = [];
        const base = [];
        for (let i = 0; i < RUNS; i++) {
          base.push(
            await pgBaseline(dbUrl, {
              kind: 'lookup',
              concurrency,
              seconds: SECONDS,
              users: userIds.slice(0, 1000),
            }),
          );
          irpRuns.push(await sessions.run(SECONDS, 'lookup'));
        }
        const v = summary(irpRuns.map((r) => r.opsPerSec));
        const a = summary(base.map((r) => r.opsPerSec));
        const last = irpRuns[irpRuns.length - 1];
        const goal = concurrency === 256 ? 1.0 : undefined;
        record({
          figure: figurePrefix ?? '5',
          name: `lookupAddress @${concurrency} (${label})`,
          unit: 'ops/s',
          value: v.median,
          min: v.min,
          max: v.max,
          baselineName: 'same select via pg',
          baseline: a.median,
          ratio: v.median / a.median,
          goal,
          met: goal ? v.median / a.median >= goal : undefined,
          p50: last.p50,
          p99: last.p99,
          errors: last.errors,
          firstError: last.firstError,
          p99Goal: concurrency === 256 ? 10 : undefined,
        });
      }
    } finally {
      sessions.stop();
    }
  }
}

/** User ids the load uses: spread over the whole seeded range (at most 5000 of them). */
function benchUsers(count) {
  const n = Math.min(count, 5000);
  const step = Math.floor(count / n);
  return Array.from({ length: n }, (_, i) => `bench${1 + i * step}`);
}

/** Raw argon2id verifications/s, same parameters, same concurrency, in this process. */
async function argonBaseline(stored, concurrency, seconds) {
  const deadline = Date.now() + seconds * 1000;
  let ops = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        if (!(await verify(stored, BENCH_PASSWORD))) throw new Error('argon2 verify failed');
        ops++;
      }
    }),
  );
  return { opsPerSec: ops / seconds };
}

/** Logs in as bench1, sends a P-256 CSR, stores key and certificate for the workers. */
async function requestClientCertificate(irp, dataDir) {
  const { IrpClient } = await import('@irp/client');
  const { generateKeyPair, buildCsr, derToPem } = await import('@irp/pki');
  const keys = await generateKeyPair('P-256');
  const client = await IrpClient.connect({
    host: '127.0.0.1',
    port: irp.port,
    ca: irp.ca,
    servername: 'localhost',
  });
  try {
    const login = await client.request({
      cmd: 'login',
      method: 'upa',
      user: 'bench1',
      password: BENCH_PASSWORD,
    });
    if (login.result.code !== 1000)
      throw new Error(`bench1 login: ${login.result.code} ${login.result.message}`);
    const r = await client.request({
      cmd: 'requestCertificate',
      profile: 'device',
      key: { kind: 'csr', csr: buildCsr({ privateKey: keys.privateKey }).pem },
    });
    if (r.result.code !== 1000 || r.cmd !== 'requestCertificate' || !r.data.certificate?.pem)
      throw new Error(`requestCertificate: ${r.result.code} ${r.result.message}`);
    const certFile = join(dataDir, 'bench-client.crt');
    const keyFile = join(dataDir, 'bench-client.key');
    await writeFile(certFile, r.data.certificate.pem);
    await writeFile(keyFile, derToPem(keys.privateKeyPkcs8Der, 'PRIVATE KEY'), { mode: 0o600 });
    return { certFile, keyFile };
  } finally {
    await client.close();
  }
}

async function report(started) {
  const lines = [
    '| figure | measurement | value | baseline | ratio | goal | met | p50 ms | p99 ms |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.figure} | ${r.name} | ${fmt(r.value)} ${r.unit} (${fmt(r.min)}–${fmt(r.max)}) | ${r.baseline === undefined ? '–' : `${fmt(r.baseline)} ${r.baselineName}`} | ${fmt(r.ratio, 2)}× | ${r.goal ? `≥ ${r.goal}×` : '–'} | ${r.met === undefined ? '–' : r.met ? 'yes' : '**no**'} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} |`,
    ),
    ...notes.map((n) => `\n- ${n}`),
  ];
  const table = lines.join('\n');
  console.log(table);
  const date = new Date().toISOString().replace(/[:.]/g, '-');
  await mkdir(join(ROOT, 'bench', 'results'), { recursive: true });
  const file = join(ROOT, 'bench', 'results', `${date}.json`);
  await writeFile(
    file,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        quick: QUICK,
        machine: {
          cores: cpus().length,
          model: cpus()[0]?.model,
          memGiB: Math.round(totalmem() / 2 ** 30),
          node: process.version,
        },
        rows,
        notes,
        seconds: (Date.now() - started) / 1000,
      },
      null,
      2,
    ),
  );
  log(`results: ${file} (${Math.round((Date.now() - started) / 1000)} s)`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
