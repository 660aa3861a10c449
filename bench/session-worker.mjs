// A process that holds many long-lived IRP sessions for figures 7 (presence fan-out) and
// 8 (memory per idle session). Unlike worker.mjs (closed loops), the parent drives it
// step by step:
//   {type:'open'}     SCA-login `count` sessions (optionally subscribing each to targets)
//   {type:'drivers'}  UPA-login one session per target user (figure 7's drivers)
//   {type:'round'}    every driver registers its address once (all at once, or spread
//                     over `spreadMs`); replies the ack times
//   {type:'arrivals'} replies (and forgets) the presence notifies received so far
//   {type:'close'}    closes every session
// Times are absolute milliseconds (performance.timeOrigin + performance.now()), so that
// they compare across the processes of one machine.
import { readFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import tls from 'node:tls';
import { IrpClient } from '@irp/client';

const now = () => performance.timeOrigin + performance.now();
/** The fan-out drivers' device; its port identifies the round. */
const DEVICE = 'fanout';

/**
 * IrpClient has no `localAddress` option: the source address is set here, once per
 * process, so that each worker gets its own 127.0.0.x and thereby its own ~28 000
 * ephemeral ports towards the server.
 */
let patched = false;
function useLocalAddress(localAddress) {
  if (!localAddress || patched) return;
  patched = true;
  const connect = tls.connect;
  tls.connect = (options, ...rest) => connect({ localAddress, ...options }, ...rest);
  syncBuiltinESMExports();
}

const sessions = [];
const drivers = [];
let arrivals = [];
let duplicates = 0;
const seen = new Set();
let nextIndex = 0;

function options(p) {
  return {
    host: '127.0.0.1',
    port: p.port,
    ca: p.ca,
    servername: 'localhost',
    timeoutMs: 60_000,
    requestTimeoutMs: 60_000,
    ...(p.certFile ? { cert: readFileSync(p.certFile), key: readFileSync(p.keyFile) } : {}),
  };
}

/** Runs `count` tasks with at most `parallel` at a time; counts failures. */
async function pool(count, parallel, task) {
  let next = 0;
  let errors = 0;
  let firstError;
  await Promise.all(
    Array.from({ length: Math.min(parallel, count) }, async () => {
      while (next < count) {
        const i = next++;
        try {
          await task(i);
        } catch (error) {
          errors++;
          firstError ??= String(error?.message ?? error);
        }
      }
    }),
  );
  return { errors, firstError };
}

function watch(client, index) {
  client.on('notify', (n) => {
    if (n.event !== 'presence') return;
    const t = now();
    const binding = n.bindings.find((b) => b.device === DEVICE);
    if (!binding) return;
    const user = n.user.split('@')[0];
    const port = binding.addresses[0]?.port;
    const key = `${index}|${user}|${port}`;
    if (seen.has(key)) {
      duplicates++;
      return;
    }
    seen.add(key);
    arrivals.push([user, port, t]);
  });
}

async function open({ params, count, subscribe, login = true }) {
  const opts = options(params);
  const t0 = performance.now();
  const result = await pool(count, params.parallel ?? 32, async (i) => {
    const client = await IrpClient.connect(opts);
    try {
      if (!login) {
        sessions.push(client); // a bare TLS connection that got its greeting (baseline)
        return;
      }
      const r = await client.request({ cmd: 'login', method: 'sca' });
      if (r.result.code !== 1000)
        throw new Error(`login sca: ${r.result.code} ${r.result.message}`);
      if (subscribe) {
        watch(client, nextIndex++);
        const { targets, perSession, offset } = subscribe;
        const users = Array.from(
          { length: perSession },
          (_, k) => targets[(offset + i * perSession + k) % targets.length],
        );
        const s = await client.request({ cmd: 'subscribe', users });
        if (s.result.code >= 2000)
          throw new Error(`subscribe: ${s.result.code} ${s.result.message}`);
      }
    } catch (error) {
      client.close().catch(() => {});
      throw error;
    }
    sessions.push(client);
  });
  return { opened: sessions.length, seconds: (performance.now() - t0) / 1000, ...result };
}

async function openDrivers({ params, users, password }) {
  const result = await pool(users.length, 8, async (i) => {
    const client = await IrpClient.connect(options({ ...params, port: params.ports[i % 2] }));
    const r = await client.request({ cmd: 'login', method: 'upa', user: users[i], password });
    if (r.result.code !== 1000) {
      client.close().catch(() => {});
      throw new Error(`login ${users[i]}: ${r.result.code} ${r.result.message}`);
    }
    drivers.push({ user: users[i], client });
  });
  return { opened: drivers.length, ...result };
}

async function round({ port, spreadMs = 0 }) {
  const acks = [];
  const result = await pool(drivers.length, drivers.length, async (i) => {
    const { user, client } = drivers[i];
    // spread: driver i registers at i/n of the spread (devices that move independently)
    if (spreadMs > 0) await new Promise((r) => setTimeout(r, (i * spreadMs) / drivers.length));
    const sent = now();
    const r = await client.request({
      cmd: 'registerAddress',
      device: DEVICE,
      addresses: [{ family: 'ipv4', address: '127.0.0.1', port, transport: 'tcp' }],
      expires: 3600,
    });
    const t = now();
    if (r.result.code >= 2000)
      throw new Error(`registerAddress: ${r.result.code} ${r.result.message}`);
    acks.push([user, t, sent]);
  });
  return { acks, ...result };
}

process.on('message', async (message) => {
  try {
    switch (message.type) {
      case 'open':
        useLocalAddress(message.params.localAddress);
        process.send({ type: 'opened', ...(await open(message)) });
        break;
      case 'drivers':
        process.send({ type: 'opened', ...(await openDrivers(message)) });
        break;
      case 'round':
        process.send({ type: 'acks', ...(await round(message)) });
        break;
      case 'arrivals':
        process.send({ type: 'arrivals', arrivals, duplicates });
        arrivals = [];
        break;
      case 'close': {
        const all = [...sessions.splice(0), ...drivers.splice(0).map((d) => d.client)];
        await Promise.all(all.map((c) => c.close().catch(() => {})));
        process.send({ type: 'closed', count: all.length });
        break;
      }
      default:
        throw new Error(`unknown message ${message.type}`);
    }
  } catch (error) {
    process.send({ type: 'error', error: String(error?.stack ?? error) });
  }
});
