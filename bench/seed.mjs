// The benchmark's bulk loader: users (and, when the address registry exists, bindings)
// straight into PostgreSQL with set-based SQL. Every seeded user shares one argon2id
// hash of BENCH_PASSWORD (computed once): hashing 100 000 passwords would take hours
// and measures nothing the benchmark is about.
import { hash } from '@node-rs/argon2';
import pg from 'pg';

export const BENCH_PASSWORD = 'bench-password-0123456789';
export const ARGON2ID = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/** Seeds `users` users bench1…benchN (and up to 3 bindings each if `bindings`); returns timings. */
export async function seed(databaseUrl, { users, bindings = 0 }) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const t0 = performance.now();
    const passwordHash = await hash(BENCH_PASSWORD, ARGON2ID);
    await client.query(
      `INSERT INTO irp_user (user_id, email, display_name, status, upa_enabled, password_hash, password_changed_at)
       SELECT 'bench' || g, 'bench' || g || '@bench.test', 'Bench User ' || g, 'active', true, $1, now()
       FROM generate_series(1, $2::int) g`,
      [passwordHash, users],
    );
    await client.query('ANALYZE irp_user');
    const userSeconds = (performance.now() - t0) / 1000;
    let bindingSeconds;
    if (bindings > 0) {
      const t1 = performance.now();
      bindingSeconds = (await seedBindings(client, users, bindings)) ? (performance.now() - t1) / 1000 : undefined;
    }
    return { users, userSeconds, bindings: bindingSeconds === undefined ? 0 : bindings, bindingSeconds };
  } finally {
    await client.end();
  }
}

/** Bindings need the address registry's table; returns false when it does not exist yet. */
async function seedBindings(client, users, count) {
  const { rows } = await client.query(`SELECT to_regclass('irp_binding') AS t`);
  if (!rows[0]?.t) return false;
  const { rows: cols } = await client.query(
    `SELECT column_name FROM information_schema.columns WHERE table_name = 'irp_binding'`,
  );
  if (cols.length === 0) return false;
  // the address registry's own loader knows its columns; see seedBindingsSql below
  await client.query(seedBindingsSql(), [users, count]);
  await client.query('ANALYZE irp_binding');
  return true;
}

/** Set-based insert of `count` bindings spread over users u1…uN (3 devices each). */
function seedBindingsSql() {
  return `INSERT INTO irp_binding (user_key, device, addresses, presence_status, expires_at, updated_at, observed_address, observed_port)
    SELECT u.id, 'd' || (g % 3), jsonb_build_array(jsonb_build_object('family', 'ipv6', 'address', '2001:db8::' || to_hex(g % 65535), 'port', 4605, 'transport', 'tcp')),
           'available', now() + interval '1 day', now(), '127.0.0.1', 4605
    FROM generate_series(0, $2::int - 1) g
    JOIN irp_user u ON u.user_id = 'bench' || (1 + (g / 3) % $1::int)
    ON CONFLICT DO NOTHING`;
}
