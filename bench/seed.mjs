// The benchmark's bulk loader: users (and, when the address registry exists, bindings)
// straight into PostgreSQL with set-based SQL. Every seeded user shares one argon2id
// hash of BENCH_PASSWORD (computed once): hashing 100 000 passwords would take hours
// and measures nothing the benchmark is about.
import { hash } from '@node-rs/argon2';
import pg from 'pg';
import { ARGON2ID_OPTIONS } from '../apps/server/dist/identity/password-hasher.service.js';

export const BENCH_PASSWORD = 'bench-password-0123456789';
/** The server's own argon2id parameters (figure 3's baseline must use exactly these). */
export const ARGON2ID = ARGON2ID_OPTIONS;

/**
 * Seeds users bench(from+1)…bench(to), with 3 bindings each when `withBindings`;
 * returns the counts and timings.
 */
export async function seed(databaseUrl, { from = 0, to, withBindings = true }) {
  const users = to - from;
  const bindings = withBindings ? users * 3 : 0;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const t0 = performance.now();
    const passwordHash = await hash(BENCH_PASSWORD, ARGON2ID);
    await client.query(
      `INSERT INTO irp_user (user_id, email, display_name, status, upa_enabled, password_hash, password_changed_at)
       SELECT 'bench' || g, 'bench' || g || '@bench.test', 'Bench User ' || g, 'active', true, $1, now()
       FROM generate_series($2::int + 1, $3::int) g`,
      [passwordHash, from, to],
    );
    await client.query('ANALYZE irp_user');
    const userSeconds = (performance.now() - t0) / 1000;
    let bindingSeconds;
    if (bindings > 0) {
      const t1 = performance.now();
      bindingSeconds = (await seedBindings(client, from, to))
        ? (performance.now() - t1) / 1000
        : undefined;
    }
    return {
      users,
      userSeconds,
      bindings: bindingSeconds === undefined ? 0 : bindings,
      bindingSeconds,
    };
  } finally {
    await client.end();
  }
}

/** Bindings need the address registry's table; returns false when it does not exist. */
async function seedBindings(client, from, to) {
  const { rows } = await client.query(`SELECT to_regclass('irp_address_binding') AS t`);
  if (!rows[0]?.t) return false;
  // 3 bindings (devices d0–d2, one IPv6 address each) for each user bench(from+1)…bench(to)
  await client.query(
    `INSERT INTO irp_address_binding (user_key, device, addresses, presence_status, observed_address, observed_port, created_at, updated_at, expires_at)
     SELECT u.id, 'd' || (g % 3),
            jsonb_build_array(jsonb_build_object('family', 'ipv6', 'address', '2001:db8::' || to_hex(1 + g % 65534), 'port', 4605, 'transport', 'tcp')),
            'available', '127.0.0.1', 4605, now(), now(), now() + interval '1 day'
     FROM generate_series($1::int * 3, $2::int * 3 - 1) g
     JOIN irp_user u ON u.user_id = 'bench' || (1 + g / 3)
     ON CONFLICT DO NOTHING`,
    [from, to],
  );
  await client.query('ANALYZE irp_address_binding');
  return true;
}
