import { createHash, X509Certificate } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDomainCa } from '@irp/pki';
import { UsersService } from '../../apps/server/src/identity/users.service.js';
import { assertCliBuilt, Machine, startCliTestServer } from './cli-support.js';
import { OPERATOR } from './identity-support.js';

/**
 * The rest of the `irp` commands against a real server: trust on first use, exit
 * codes by class of IRP result with code and meaning shown, secrets never on the
 * command line, raw frames, the directory, certificate management, policies.
 */
describe('irp: commands, trust and errors', () => {
  let server: Awaited<ReturnType<typeof startCliTestServer>>;
  let carol: Machine;
  let dave: Machine;
  let rootSha256: string;
  const PW = 'carol-Long-Password-9';

  beforeAll(async () => {
    await assertCliBuilt();
    server = await startCliTestServer();
    carol = await Machine.create('carol', {
      IRP_PASSWORD: PW,
      IRP_PASSPHRASE: 'carol p12 passphrase',
    });
    dave = await Machine.create('dave', { IRP_PASSWORD: 'dave-Long-Password-8' });
    rootSha256 = createHash('sha256')
      .update(new X509Certificate(server.serverCa).raw)
      .digest('hex');
  });
  afterAll(async () => {
    await server?.close();
    await carol?.dispose();
    await dave?.dispose();
  });

  describe('trust on first use', () => {
    it('shows the domain CA fingerprint and refuses without a terminal or confirmation (exit 4)', async () => {
      const r = await carol.run(['status', '--server', server.serverArg]);
      expect(r.code).toBe(4);
      expect(r.stderr).toContain('is not known yet');
      expect(r.stderr).toContain('issued by the domain CA');
      expect(r.stderr).toContain((rootSha256.toUpperCase().match(/../g) ?? []).join(':'));
      expect(r.stderr).toContain('--ca-fingerprint');
      expect(r.stdout).toBe('');
    });

    it('refuses a wrong --ca-fingerprint and remembers nothing', async () => {
      const r = await carol.run([
        'status',
        '--server',
        server.serverArg,
        '--ca-fingerprint',
        'ab'.repeat(32),
      ]);
      expect(r.code).toBe(4);
      expect(r.stderr).toContain('does not match');
      expect((await carol.json<{ trust: unknown[] }>(['trust', 'list'])).trust).toEqual([]);
    });

    it('trusts the CA whose fingerprint is confirmed, remembers it, and shows the greeting', async () => {
      const fingerprint = (rootSha256.match(/../g) ?? []).join(':');
      const first = await carol.run([
        'status',
        '--server',
        server.serverArg,
        '--ca-fingerprint',
        fingerprint,
      ]);
      expect(first.code).toBe(0);
      expect(first.stdout).toContain('our certificate  none');
      expect(first.stdout).toMatch(/auth methods\s+sca, upa/);
      // the second time needs no confirmation
      const status = await carol.json<{
        trust: { kind: string; sha256: string };
        greeting: { domain: string; commands: string[]; registration: { open: boolean } };
      }>(['status', '--server', server.serverArg]);
      expect(status.trust).toEqual({
        kind: 'domain-ca',
        sha256: rootSha256,
        subject: expect.any(String) as unknown,
      });
      expect(status.greeting.domain).toBe('example.com');
      expect(status.greeting.registration.open).toBe(true);
      expect(status.greeting.commands).toContain('registerAddress');
    });

    it('refuses a server that --ca does not vouch for (exit 4) and stores nothing', async () => {
      const other = await createDomainCa({ domain: 'elsewhere.example', algorithm: 'P-256' });
      const file = join(dave.dir, 'other-ca.pem');
      await writeFile(file, other.root.certificatePem);
      const r = await dave.run(['status', '--server', server.serverArg, '--ca', file]);
      expect(r.code).toBe(4);
      expect(r.stderr).toContain("the server's certificate is not trusted");
      expect((await dave.json<{ trust: unknown[] }>(['trust', 'list'])).trust).toEqual([]);
    });

    it('accepts --yes (IRP_YES=1) for scripts, still printing the fingerprint', async () => {
      const r = await dave.run(['status', '--server', server.serverArg], { env: { IRP_YES: '1' } });
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('SHA-256');
    });
  });

  describe('exit codes and error messages', () => {
    it('usage errors exit 2; connection failures exit 3', async () => {
      expect((await carol.run(['frobnicate'])).code).toBe(2);
      expect((await carol.run(['status', '--no-such-option'])).code).toBe(2);
      const down = await carol.run(['status', '--server', '127.0.0.1:1', '--yes']);
      expect(down.code).toBe(3);
      expect(down.stderr).toMatch(/cannot connect/);
    });

    it('a password is never taken from argv: without a terminal and without IRP_PASSWORD it stops with exit 5', async () => {
      const r = await carol.run(['register', 'carol', '--server', server.serverArg], {
        env: { IRP_PASSWORD: '' },
      });
      expect(r.code).toBe(5);
      expect(r.stderr).toContain('set IRP_PASSWORD, use --password-file FILE');
    });

    it('an IRP refusal shows its code and meaning and exits with its class (2306 → 23)', async () => {
      const r = await carol.run(['register', 'carol', '--server', server.serverArg], {
        env: { IRP_PASSWORD: 'short' },
      });
      expect(r.code).toBe(23);
      expect(r.stderr).toContain('register failed: 2306 Parameter value policy error');
      const json = await carol.run(['--json', 'register', 'carol', '--server', server.serverArg], {
        env: { IRP_PASSWORD: 'short' },
      });
      expect(JSON.parse(json.stdout)).toMatchObject({
        error: { exitCode: 23, code: 2306, meaning: 'Parameter value policy error' },
      });
    });

    it('reads the password from --password-file (first line, as is)', async () => {
      const file = join(carol.dir, 'pw.txt');
      await writeFile(file, `${PW}\n`);
      const r = await carol.run(
        [
          'register',
          'carol',
          '--server',
          server.serverArg,
          '--password-file',
          file,
          '--display-name',
          'Carol',
        ],
        {
          env: { IRP_PASSWORD: '' },
        },
      );
      expect(r.code).toBe(0);
      expect((await carol.json<{ method: string }>(['whoami'])).method).toBe('upa');
    });

    it('a wrong password is 2200 (exit 22); an unknown user in info is 2303 (exit 23)', async () => {
      const bad = await carol.run(['whoami'], { env: { IRP_PASSWORD: 'wrong-password-123' } });
      expect(bad.code).toBe(22);
      expect(bad.stderr).toContain('login failed: 2200 Authentication error');
      const missing = await carol.run(['user', 'info', 'nobody-here']);
      expect(missing.code).toBe(23);
      expect(missing.stderr).toContain('2303 Object does not exist');
    });
  });

  describe('enroll', () => {
    it('activates an operator-created account with its one-time code (from IRP_ENROLL_CODE)', async () => {
      const users = server.app.get(UsersService);
      await users.createUser(OPERATOR, { userId: 'erin', profile: { displayName: 'Erin' } });
      const { code } = await users.createEnrollmentCode(OPERATOR, 'erin');
      const erin = await Machine.create('erin', { IRP_PASSWORD: 'erin-Long-Password-7' });
      try {
        const args = ['enroll', 'erin', '--server', server.serverArg, '--ca', server.caFile];
        const wrong = await erin.run(args, { env: { IRP_ENROLL_CODE: 'wxyz-wxyz' } });
        expect(wrong.code).toBe(22);
        expect(wrong.stderr).toContain('2202 Invalid authorization information');
        const ok = await erin.run(args, { env: { IRP_ENROLL_CODE: code } });
        expect(ok.code).toBe(0);
        expect(ok.stdout).toContain('enrolled and logged in as erin@example.com');
        expect((await erin.json<{ address: string }>(['whoami'])).address).toBe('erin@example.com');
      } finally {
        await erin.dispose();
      }
    });
  });

  describe('raw frames', () => {
    it('sends stdin as one frame and prints the response; the exit code follows its result', async () => {
      const ping = await carol.run(['raw'], { input: '<irp version="1.0"><ping id="p1"/></irp>' });
      expect(ping.code).toBe(0);
      expect(ping.stdout).toMatch(/<response id="p1" cmd="ping"[^>]*><result code="1000">/);
      const unknown = await carol.run(['raw'], {
        input: '<irp version="1.0"><frobnicate id="x"/></irp>',
      });
      expect(unknown.code).toBe(20);
      expect(unknown.stdout).toContain('code="2000"');
      const info = await carol.run(['raw', '--login'], {
        input: '<irp version="1.0"><info id="i1"/></irp>',
      });
      expect(info.code).toBe(0);
      expect(info.stdout).toContain('<userId>carol</userId>');
    });
  });

  describe('the directory', () => {
    it('updates the profile and lists users; info on another user shows the public record', async () => {
      await dave.run([
        'register',
        'dave',
        '--server',
        server.serverArg,
        '--email',
        'dave@example.org',
      ]);
      const upd = await carol.json<{
        user: { title: string; attributes: { name: string; value: string }[] };
      }>(['user', 'update', '--title', 'Engineer', '--attr', 'team=irp']);
      expect(upd.user.title).toBe('Engineer');
      expect(upd.user.attributes).toEqual([{ name: 'team', value: 'irp' }]);
      const list = await carol.json<{ total: number; users: { userId: string }[] }>([
        'user',
        'list',
        '--limit',
        '10',
      ]);
      const ids = list.users.map((u) => u.userId);
      expect(ids).toEqual([...ids].sort());
      expect(ids).toEqual(expect.arrayContaining(['carol', 'dave']));
      const filtered = await carol.json<{ users: { userId: string }[] }>(['user', 'list', 'DAVE']);
      expect(filtered.users.map((u) => u.userId)).toEqual(['dave']);
      const other = await carol.json<{ user: Record<string, unknown> }>(['user', 'info', 'dave']);
      expect(other.user).toMatchObject({ userId: 'dave', email: 'dave@example.org' });
      expect(other.user.upaEnabled).toBeUndefined();
    });

    it('changes the password with passwd (new one from IRP_NEW_PASSWORD)', async () => {
      const NEW = 'carol-Newer-Password-10';
      const r = await carol.run(['passwd'], { env: { IRP_NEW_PASSWORD: NEW } });
      expect(r.code).toBe(0);
      expect((await carol.run(['whoami'])).code).toBe(22); // the old one no longer works
      expect((await carol.run(['whoami'], { env: { IRP_PASSWORD: NEW } })).code).toBe(0);
      expect(
        (await carol.run(['passwd'], { env: { IRP_PASSWORD: NEW, IRP_NEW_PASSWORD: PW } })).code,
      ).toBe(0);
    });
  });

  describe('certificates', () => {
    it('requests, shows, checks status, renews (old one superseded) and revokes', async () => {
      expect(
        (await carol.run(['cert', 'request', '--algo', 'p-384', '--type', 'device'])).code,
      ).toBe(0);
      const first = await carol.json<{
        certificates: { serial: string; profile: string; status: string; pem: string }[];
      }>(['cert', 'show']);
      expect(first.certificates[0]).toMatchObject({ profile: 'device', status: 'valid' });
      const serial = first.certificates[0]!.serial;
      const renew = await carol.run(['cert', 'renew']);
      expect(renew.code).toBe(0);
      const status = await carol.json<{ certificate: { status: string } }>([
        'cert',
        'status',
        serial,
      ]);
      expect(status.certificate.status).toBe('superseded');
      const mine = await carol.json<{
        certificates: { serial: string; status: string }[];
        local: string;
      }>(['cert', 'list']);
      expect(mine.certificates.find((c) => c.serial === mine.local)?.status).toBe('valid');
      // the retired key stays on disk
      expect(
        (
          await stat(
            carol.configPath('profiles', 'carol@example.com', 'retired', `${serial}.key.pem`),
          )
        ).mode & 0o777,
      ).toBe(0o600);
      const revoke = await carol.run(['cert', 'revoke', '--reason', 'cessationOfOperation']);
      expect(revoke.code).toBe(0);
      expect(revoke.stdout).toContain('password login from now on');
      const who = await carol.json<{ method: string }>(['whoami']);
      expect(who.method).toBe('upa');
    });

    it('keygen: the server makes the key into a .p12 the CLI installs; cert import restores it on another machine', async () => {
      const p12 = join(carol.dir, 'server-made.p12');
      const r = await carol.run(['cert', 'keygen', '--out', p12, '--install']);
      expect(r.code).toBe(0);
      expect((await stat(p12)).mode & 0o777).toBe(0o600);
      expect((await carol.json<{ method: string }>(['whoami'])).method).toBe('sca');
      const other = await Machine.create('carol-other', { IRP_PASSPHRASE: 'carol p12 passphrase' });
      try {
        await other.run(['status', '--server', server.serverArg, '--ca', server.caFile]);
        const imp = await other.run(['cert', 'import', p12, '--server', server.serverArg]);
        expect(imp.code).toBe(0);
        expect((await other.json<{ method: string; address: string }>(['whoami'])).method).toBe(
          'sca',
        );
        const pem = await readFile(
          other.configPath('profiles', 'carol@example.com', 'cert.pem'),
          'utf8',
        );
        expect(pem).toContain('BEGIN CERTIFICATE');
      } finally {
        await other.dispose();
      }
    });
  });

  describe('address policy and watchers', () => {
    it('watchers policy: a lookup is refused (2201, exit 22) until the owner approves the watcher', async () => {
      expect(
        (await carol.run(['addr', 'register', '--address', '127.0.0.1:5001', '--device', 'pc']))
          .code,
      ).toBe(0);
      expect((await carol.run(['addr', 'policy', 'watchers'])).code).toBe(0);
      const refused = await dave.run(['addr', 'lookup', 'carol']);
      expect(refused.code).toBe(22);
      expect(refused.stderr).toContain('2201 Authorization error');
      const watch = dave.spawn(['addr', 'watch', 'carol', '--count', '1']);
      await watch.waitFor('stderr', /watch request sent/);
      const watchers = await carol.json<{ watchers: { user: string; status: string }[] }>([
        'watchers',
        'list',
      ]);
      expect(watchers.watchers).toEqual([
        expect.objectContaining({ user: 'dave@example.com', status: 'pending' }),
      ]);
      expect((await carol.run(['watchers', 'approve', 'dave'])).code).toBe(0);
      const done = await watch.result();
      expect(done.code).toBe(0);
      expect(done.stdout).toContain('127.0.0.1:5001');
      expect(done.stdout).toContain('unsigned');
      expect((await dave.run(['addr', 'lookup', 'carol'])).code).toBe(0);
      expect((await carol.run(['watchers', 'remove', 'dave'])).code).toBe(0);
      expect((await dave.run(['addr', 'lookup', 'carol'])).code).toBe(22);
    });
  });
});
