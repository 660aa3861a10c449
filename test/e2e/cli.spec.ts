import { createPublicKey } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertCliBuilt, Machine, startCliTestServer, type CliProcess } from './cli-support.js';

/**
 * Issue 6, "Done when": the built `irp` run as child processes against a real
 * server on real PostgreSQL (when TEST_DATABASE_URL is set): two users register,
 * request certificates, switch to SCA, turn UPA off, push and pull a backup,
 * register signed addresses, chat over End2End Direct, are refused by an
 * impostor listener, and watch each other's presence.
 *
 * The steps build on each other, in order, like a user's session would.
 */
describe('irp: two users, end to end', () => {
  let server: Awaited<ReturnType<typeof startCliTestServer>>;
  let alice: Machine; // alice's laptop
  let aliceTwo: Machine; // a second machine of alice's, restored from the backup
  let bob: Machine;
  let mallory: Machine;
  const running: CliProcess[] = [];
  const ALICE_PW = 'alice-Correct-Horse-1';
  const BOB_PW = 'bob-Battery-Staple-22';

  beforeAll(async () => {
    await assertCliBuilt();
    server = await startCliTestServer();
    alice = await Machine.create('alice', {
      IRP_PASSWORD: ALICE_PW,
      IRP_PASSPHRASE: 'alice backup passphrase',
    });
    aliceTwo = await Machine.create('alice2', {
      IRP_PASSWORD: ALICE_PW,
      IRP_PASSPHRASE: 'alice backup passphrase',
    });
    bob = await Machine.create('bob', { IRP_PASSWORD: BOB_PW });
    mallory = await Machine.create('mallory', { IRP_PASSWORD: 'mallory-Pass-Word-3' });
  });
  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop()));
    await server?.close();
    for (const m of [alice, aliceTwo, bob, mallory]) await m?.dispose();
  });

  function spawnTracked(machine: Machine, args: string[]): CliProcess {
    const p = machine.spawn(args);
    running.push(p);
    return p;
  }

  it('registers two users, trusting the server by --ca, and makes each the current profile', async () => {
    for (const [m, user] of [
      [alice, 'alice'],
      [bob, 'bob'],
    ] as const) {
      const r = await m.run([
        'register',
        user,
        '--server',
        server.serverArg,
        '--ca',
        server.caFile,
        '--display-name',
        `${user} example`,
        '--email',
        `${user}@example.org`,
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`registered ${user}@example.com`);
    }
    const profiles = await alice.json<{
      current: string;
      profiles: { address: string; certificate: boolean }[];
    }>(['profile', 'list']);
    expect(profiles.current).toBe('alice@example.com');
    expect(profiles.profiles).toEqual([
      expect.objectContaining({ address: 'alice@example.com', certificate: false }),
    ]);
    const who = await bob.json<{ address: string; method: string }>(['whoami']);
    expect(who).toMatchObject({ address: 'bob@example.com', method: 'upa' });
  });

  it('requests certificates: the key is made locally (mode 0600) and the next login is SCA', async () => {
    for (const [m, user] of [
      [alice, 'alice'],
      [bob, 'bob'],
    ] as const) {
      const r = await m.run(['cert', 'request']);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/generating a P-256 key/); // progress on stderr
      expect(r.stdout).toContain('certificate issued');
      const key = m.configPath('profiles', `${user}@example.com`, 'key.pem');
      expect((await stat(key)).mode & 0o777).toBe(0o600);
      expect(createPublicKey(await readFile(key, 'utf8')).asymmetricKeyDetails?.namedCurve).toBe(
        'prime256v1',
      );
      const who = await m.json<{ method: string; certificate: { status: string } }>(['whoami'], {
        env: { IRP_PASSWORD: '' }, // SCA: no password is needed any more
      });
      expect(who.method).toBe('sca');
      expect(who.certificate.status).toBe('valid');
    }
    const list = await alice.json<{ certificates: { status: string; profile: string }[] }>([
      'cert',
      'list',
    ]);
    expect(list.certificates).toEqual([
      expect.objectContaining({ status: 'valid', profile: 'user' }),
    ]);
  });

  it('pushes a backup and pulls it on a second machine: the restored key is the same key', async () => {
    const push = await alice.json<{ backup: { id: string; name: string } }>([
      'backup',
      'push',
      '--name',
      'laptop-key',
    ]);
    expect(push.backup.name).toBe('laptop-key');
    // the second machine has no key yet: it logs in with the password, then restores
    const login = await aliceTwo.run([
      'login',
      'alice',
      '--server',
      server.serverArg,
      '--ca',
      server.caFile,
    ]);
    expect(login.code).toBe(0);
    expect(login.stdout).toContain('by password (UPA)');
    const pulled = await aliceTwo.json<{ installed: boolean; certificate: string }>([
      'backup',
      'pull',
      'laptop-key',
    ]);
    expect(pulled.installed).toBe(true);
    const keyOf = async (m: Machine): Promise<string> =>
      createPublicKey(
        await readFile(m.configPath('profiles', 'alice@example.com', 'key.pem'), 'utf8'),
      )
        .export({ type: 'spki', format: 'der' })
        .toString('base64');
    expect(await keyOf(aliceTwo)).toBe(await keyOf(alice));
    expect(
      (await stat(aliceTwo.configPath('profiles', 'alice@example.com', 'key.pem'))).mode & 0o777,
    ).toBe(0o600);
    const who = await aliceTwo.json<{ method: string }>(['whoami'], { env: { IRP_PASSWORD: '' } });
    expect(who.method).toBe('sca');
    // a wrong passphrase opens nothing and changes nothing
    const wrong = await aliceTwo.run(['backup', 'pull', 'laptop-key', '--force'], {
      env: { IRP_PASSPHRASE: 'not it' },
    });
    expect(wrong.code).toBe(5);
    expect(wrong.stderr).toMatch(/passphrase/i);
  });

  it('lists and removes backups', async () => {
    const extra = await alice.json<{ backup: { id: string } }>([
      'backup',
      'push',
      '--name',
      'spare',
    ]);
    const listed = await alice.json<{ backups: { id: string; name: string }[] }>([
      'backup',
      'list',
    ]);
    expect(listed.backups.map((b) => b.name).sort()).toEqual(['laptop-key', 'spare']);
    expect((await alice.run(['backup', 'rm', extra.backup.id])).code).toBe(0);
    const after = await alice.json<{ backups: { name: string }[] }>(['backup', 'list']);
    expect(after.backups.map((b) => b.name)).toEqual(['laptop-key']);
    const gone = await alice.run(['backup', 'pull', extra.backup.id]);
    expect(gone.code).toBe(23);
    expect(gone.stderr).toContain('2303 Object does not exist');
  });

  it('turns password login off: UPA is refused with 2200 (exit 22), SCA still works on both machines', async () => {
    for (const m of [alice, bob]) {
      const off = await m.run(['auth', 'upa', 'off']);
      expect(off.code).toBe(0);
      expect(off.stdout).toContain('password login is now OFF');
    }
    const upa = await alice.run(['--auth', 'upa', 'whoami']);
    expect(upa.code).toBe(22);
    expect(upa.stderr).toContain('2200 Authentication error');
    for (const m of [alice, aliceTwo, bob]) {
      const who = await m.json<{ method: string; user: { upaEnabled: boolean } }>(['whoami']);
      expect(who.method).toBe('sca');
      expect(who.user.upaEnabled).toBe(false);
    }
  });

  it('registers signed addresses, which a lookup verifies end to end', async () => {
    const reg = await alice.json<{ binding: { attestation?: unknown; device: string } }>([
      'addr',
      'register',
      '--address',
      '127.0.0.1:4711',
      '--device',
      'laptop',
      '--sign',
      '--presence',
      'available',
      '--note',
      'at my desk',
    ]);
    expect(reg.binding.device).toBe('laptop');
    expect(reg.binding.attestation).toBeDefined();
    const look = await bob.json<{
      user: string;
      bindings: {
        device: string;
        addresses: { address: string; port: number }[];
        verification: { status: string };
      }[];
    }>(['addr', 'lookup', 'alice']);
    expect(look.user).toBe('alice@example.com');
    expect(look.bindings).toEqual([
      expect.objectContaining({
        device: 'laptop',
        addresses: [expect.objectContaining({ address: '127.0.0.1', port: 4711 })],
        verification: expect.objectContaining({ status: 'verified' }) as unknown,
      }),
    ]);
    const human = await bob.run(['addr', 'lookup', 'alice']);
    expect(human.stdout).toContain('attestation verified');
    await alice.run(['addr', 'unregister', '--device', 'laptop']);
  });

  it('peer connect reaches peer listen directly; a line typed on each side arrives on the other', async () => {
    const listen = spawnTracked(bob, [
      'peer',
      'listen',
      '--address',
      '127.0.0.1',
      '--device',
      'desk',
      '--once',
    ]);
    const [, port] = await listen.waitFor(
      'stderr',
      /listening as bob@example\.com \(device desk\) on 127\.0\.0\.1:(\d+)/,
    );
    const connect = spawnTracked(alice, ['peer', 'connect', 'bob@example.com']);
    await connect.waitFor(
      'stderr',
      new RegExp(`connected to bob@example\\.com at 127\\.0\\.0\\.1:${port}, directly`),
    );
    await listen.waitFor(
      'stderr',
      /connected: alice@example\.com from 127\.0\.0\.1:\d+ \(certificate .*verified\)/,
    );
    connect.write('hello bob, this is alice\n');
    await listen.waitFor('stdout', /hello bob, this is alice\n/);
    listen.write('hi alice, bob here\n');
    await connect.waitFor('stdout', /hi alice, bob here\n/);
    expect(connect.stderr).toMatch(/attestation verified/);
    expect(connect.stderr).toMatch(/is listed for bob@example\.com/);
    connect.end(); // Ctrl-D ends the chat; --once ends the listener
    expect((await connect.result()).code).toBe(0);
    expect((await listen.result()).code).toBe(0);
    expect(listen.stderr).toContain('disconnected: alice@example.com');
    // the listener removed its binding on the way out
    const look = await alice.json<{ bindings: { device: string }[] }>(['addr', 'lookup', 'bob']);
    expect(look.bindings.map((b) => b.device)).not.toContain('desk');
  });

  it('peer connect refuses a listener whose certificate the registry does not list for that user', async () => {
    await mallory.run(['register', 'mallory', '--server', server.serverArg, '--ca', server.caFile]);
    expect((await mallory.run(['cert', 'request'])).code).toBe(0);
    // mallory (a valid certificate of the domain CA, but not bob's) answers at an address bob registered
    const impostor = spawnTracked(mallory, ['peer', 'listen', '--address', '127.0.0.1']);
    const [, port] = await impostor.waitFor('stderr', /on 127\.0\.0\.1:(\d+)/);
    const reg = await bob.run([
      'addr',
      'register',
      '--address',
      `127.0.0.1:${port}`,
      '--device',
      'stale',
      '--sign',
    ]);
    expect(reg.code).toBe(0);
    const r = await alice.run(['peer', 'connect', 'bob', '--device', 'stale'], {
      input: 'secret for bob only\n',
    });
    expect(r.code).toBe(6);
    expect(r.stderr).toContain('REFUSED');
    expect(r.stderr).toMatch(
      /certificate \(SHA-256 [0-9a-f]{64}, mallory@example\.com\) is not one the registry lists for bob@example\.com/,
    );
    expect(r.stdout).toBe('');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(impostor.stdout).not.toContain('secret');
    await impostor.stop();
    await bob.run(['addr', 'unregister', '--device', 'stale']);
  });

  it('addr watch prints the change when the other user re-registers', async () => {
    expect(
      (
        await bob.run([
          'addr',
          'register',
          '--address',
          '127.0.0.1:4801',
          '--device',
          'phone',
          '--sign',
        ])
      ).code,
    ).toBe(0);
    const watch = spawnTracked(alice, ['--json', 'addr', 'watch', 'bob', '--count', '2']);
    await watch.waitFor('stdout', /"event":"presence".*4801/);
    const again = await bob.run([
      'addr',
      'register',
      '--address',
      '127.0.0.1:4802',
      '--device',
      'phone',
      '--sign',
      '--presence',
      'busy',
      '--note',
      'in a call',
    ]);
    expect(again.code).toBe(0);
    const done = await watch.result();
    expect(done.code).toBe(0);
    const events = done.stdout
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            event: string;
            user: string;
            bindings: {
              addresses: { port: number }[];
              presence?: { status: string; note?: string };
              verification: { status: string };
            }[];
          },
      );
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({ event: 'presence', user: 'bob@example.com' });
    expect(events[1]?.bindings).toEqual([
      expect.objectContaining({
        addresses: [expect.objectContaining({ port: 4802 })],
        presence: { status: 'busy', note: 'in a call' },
        verification: expect.objectContaining({ status: 'verified' }) as unknown,
      }),
    ]);
  });
});
