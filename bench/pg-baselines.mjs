// Baselines of figures 4 and 5: the SQL the IRP handlers run, sent straight through `pg`
// with the same concurrency — what the server would cost with no protocol, no TLS, no
// framework in between. Kept in step with apps/server/src/addresses/address.repository.ts,
// identity's per-command user check and the audit log insert.
import pg from 'pg';
import { cpuPerOp, cpuSample } from './cpu.mjs';

const UPSERT = `WITH lapsed AS (
    DELETE FROM irp_address_binding WHERE user_key = $1 AND device <> $2 AND expires_at <= now() RETURNING 1
  ), live AS (
    SELECT count(*) AS n FROM irp_address_binding WHERE user_key = $1 AND device <> $2 AND expires_at > now()
  ), up AS (
    INSERT INTO irp_address_binding AS b (user_key, device, addresses, presence_status, presence_note, service,
      observed_address, observed_port, certificate_serial, attestation_cert, attestation_alg, attestation_text,
      attestation_signature, created_at, updated_at, expires_at)
    SELECT $1, $2, $3::jsonb, NULL, NULL, NULL, '127.0.0.1'::inet, 40000, NULL, NULL, NULL, NULL, NULL, now(), now(),
      to_timestamp(ceil(extract(epoch FROM now()) + 3600)::float8)
    FROM live WHERE live.n < 16
    ON CONFLICT (user_key, device) DO UPDATE SET addresses = excluded.addresses, observed_address = excluded.observed_address,
      observed_port = excluded.observed_port, updated_at = excluded.updated_at, expires_at = excluded.expires_at
    RETURNING device, addresses, presence_status, presence_note, service, updated_at, expires_at,
      attestation_cert, attestation_alg, attestation_text, attestation_signature
  )
  SELECT up.*, (SELECT count(*) FROM lapsed) AS lapsed FROM (SELECT 1) AS one LEFT JOIN up ON true`;

const LOOKUP = `SELECT b.device, b.addresses, b.presence_status, b.presence_note, b.service, b.updated_at, b.expires_at,
    b.attestation_cert, b.attestation_alg, b.attestation_text, b.attestation_signature
  FROM irp_address_binding b JOIN irp_user u ON u.id = b.user_key
  WHERE u.user_id = $1 AND b.expires_at > now() ORDER BY b.updated_at DESC, b.device`;

export const POOL_SIZE = 20;

function addresses(n) {
  return JSON.stringify([
    {
      family: 'ipv6',
      address: `2001:db8::${(1 + (n % 65534)).toString(16)}`,
      port: 4605,
      transport: 'tcp',
    },
  ]);
}

/**
 * Runs `concurrency` loops on their own connections for `seconds`; `kind` is
 * `register-full` (the handler's statements), `register-upsert` (one bare upsert) or
 * `lookup` (the lookup select). Returns ops/s, p50/p99 in ms and the CPU per operation.
 */
export async function pgBaseline(databaseUrl, { kind, concurrency, seconds, users }) {
  // the server's own pool is 20 connections: the baseline queues on a pool of that size too
  // (PostgreSQL's default max_connections of 100 would refuse one connection per requester)
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: Math.min(concurrency, POOL_SIZE),
  });
  const keys = (
    await pool.query(
      `SELECT id, user_id FROM irp_user WHERE user_id LIKE 'bench%' ORDER BY user_id LIMIT $1`,
      [Math.max(concurrency, 1000)],
    )
  ).rows;
  const latencies = [];
  let ops = 0;
  let counter = 0;
  const deadline = Date.now() + seconds * 1000;
  const before = cpuSample();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, i) => {
      const me = keys[i % keys.length];
      while (Date.now() < deadline) {
        const t0 = performance.now(); // queueing for a connection counts, as it does in the server
        const client = await pool.connect();
        try {
          const n = counter++;
          if (kind === 'lookup') {
            await client.query(LOOKUP, [users[n % users.length]]);
          } else if (kind === 'register-upsert') {
            await client.query(UPSERT, [me.id, `pg${i}`, addresses(n)]);
          } else {
            await client.query(
              'SELECT id, user_id, status, upa_enabled, password_hash FROM irp_user WHERE id = $1',
              [me.id],
            );
            await client.query('BEGIN');
            await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [4604, me.id]);
            await client.query(UPSERT, [me.id, `pg${i}`, addresses(n)]);
            await client.query(
              `INSERT INTO irp_audit_log (actor_kind, actor_id, auth_method, source_address, action, target, result_code, txn, details)
               VALUES ('user', $1, 'upa', '127.0.0.1', 'registerAddress', $1, 1000, $2, $3)`,
              [me.user_id, `bench-${n}`, JSON.stringify({ device: `pg${i}` })],
            );
            await client.query('SELECT pg_notify($1, $2)', [
              'irp_addresses',
              JSON.stringify({ k: 'presence', o: me.id }),
            ]);
            await client.query('COMMIT');
          }
          ops++;
          latencies.push(performance.now() - t0);
        } finally {
          client.release();
        }
      }
    }),
  );
  // read before the pool ends: PostgreSQL backends that exit take their CPU time with them
  const cpu = cpuPerOp(before, cpuSample(), ops);
  await pool.end();
  latencies.sort((a, b) => a - b);
  const pct = (p) =>
    latencies[
      Math.min(latencies.length - 1, Math.max(0, Math.ceil((p / 100) * latencies.length) - 1))
    ];
  return { opsPerSec: ops / seconds, ops, cpu, p50: pct(50), p99: pct(99) };
}
