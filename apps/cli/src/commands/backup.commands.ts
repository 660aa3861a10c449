import { type Pkcs12Entry } from '@irp/protocol';
import { buildPkcs12, parseCertificate, readPkcs12, toPrivateKey } from '@irp/pki';
import { CliError } from '../cli/cli.error.js';
import { type CommandSpec } from '../cli/context.js';
import { flag, str } from '../cli/options.js';
import { time } from '../format/render.js';
import { call, requireProfile, withSession, type Session } from '../net/session.js';
import { spkiOf } from '../pki/local-credentials.js';
import { writePrivateFile } from '../store/profile-store.js';
import { credentialsFromPkcs12 } from './cert.commands.js';
import { arg, readPassphrase } from './common.js';

function entryLine(e: Pkcs12Entry): string {
  return `${e.id}  ${e.name.padEnd(32)}  ${String(e.size).padStart(6)} B  ${time(e.createdAt)}  sha256 ${e.sha256.slice(0, 16)}…`;
}

/** A backup named by id, or by name when exactly one has it. */
async function findBackup(s: Session, idOrName: string): Promise<Pkcs12Entry> {
  const entries = (await call(s, { cmd: 'listPkcs12' })).pkcs12 ?? [];
  const byId = entries.find((e) => e.id === idOrName);
  if (byId) return byId;
  const byName = entries.filter((e) => e.name === idOrName);
  if (byName.length === 1 && byName[0]) return byName[0];
  if (byName.length > 1) throw CliError.usage(`several backups are named ${idOrName}: use the id`);
  // Let the server answer for unknown ids (2303, spec §10).
  return { id: idOrName, name: idOrName, size: 0, sha256: '', createdAt: new Date(0) };
}

/** `irp backup push` (spec §10 uploadPkcs12): an encrypted PKCS#12 built locally. */
export const backupPushCommand: CommandSpec = {
  path: ['backup', 'push'],
  usage: '[--name NAME] [--passphrase-file FILE]',
  summary:
    'encrypt your key and certificate into a PKCS#12 locally (passphrase never leaves this machine) and upload it',
  options: ['name', 'passphrase-file'],
  args: [0, 0],
  run: async (ctx) => {
    const profile = await requireProfile(ctx);
    const creds = await ctx.store.credentials(profile.address);
    if (!creds)
      throw CliError.local('this profile has no key and certificate to back up', [
        'run `irp cert request` first',
      ]);
    const cert = parseCertificate(creds.certPem);
    const name = str(ctx.values, 'name') ?? `${profile.userId}-${cert.serialHex.slice(0, 12)}`;
    if (name.length < 1 || name.length > 128)
      throw CliError.usage('--name must be 1–128 characters');
    const passphrase = await readPassphrase(ctx, true);
    ctx.out.progress('encrypting the PKCS#12 (AES-256-CBC, PBKDF2-SHA256)');
    const data = await buildPkcs12({
      privateKey: creds.keyPem,
      certificate: creds.certPem,
      chain: creds.chainPem,
      passphrase,
      friendlyName: profile.address,
    });
    await withSession(ctx, { login: true }, async (s) => {
      ctx.out.progress('uploading');
      const entry = (await call(s, { cmd: 'uploadPkcs12', name, data })).pkcs12;
      ctx.out.result({ backup: entry, certificate: cert.serialHex }, () => [
        `backup ${entry?.id ?? '?'} (${name}) stored: certificate ${cert.serialHex}, ${data.length} bytes, encrypted with your passphrase`,
        'restore it elsewhere with `irp backup pull ID` (same passphrase)',
      ]);
    });
  },
};

/** `irp backup list` (spec §10 listPkcs12). */
export const backupListCommand: CommandSpec = {
  path: ['backup', 'list'],
  usage: '',
  summary: 'your stored PKCS#12 backups',
  args: [0, 0],
  run: (ctx) =>
    withSession(ctx, { login: true }, async (s) => {
      const entries = (await call(s, { cmd: 'listPkcs12' })).pkcs12 ?? [];
      ctx.out.result({ backups: entries }, () =>
        entries.length ? entries.map(entryLine) : ['no backups'],
      );
    }),
};

/** `irp backup pull ID|NAME` (spec §10 downloadPkcs12): restores the key and certificate. */
export const backupPullCommand: CommandSpec = {
  path: ['backup', 'pull'],
  usage: 'ID|NAME [--out FILE.p12] [--install] [--force] [--passphrase-file FILE]',
  summary:
    'download a backup, check the passphrase opens it, and install it into the profile (or --out FILE only)',
  options: ['out', 'install', 'force', 'passphrase-file'],
  args: [1, 1],
  run: (ctx) =>
    withSession(ctx, { login: true }, async (s) => {
      if (!s.profile) throw CliError.local('no profile for this session');
      const profile = s.profile;
      const entry = await findBackup(s, arg(ctx, 0));
      ctx.out.progress(`downloading backup ${entry.id}`);
      const file = (await call(s, { cmd: 'downloadPkcs12', pkcs12Id: entry.id })).pkcs12;
      if (!file) throw CliError.local('the server sent no data');
      const passphrase = await readPassphrase(ctx, false);
      ctx.out.progress('decrypting');
      const creds = credentialsFromPkcs12(
        await readPkcs12(file.data, passphrase),
        await ctx.store.chain(profile.address),
      );
      const cert = parseCertificate(creds.certPem);
      const out = str(ctx.values, 'out');
      if (out !== undefined) await writePrivateFile(out, file.data);
      const install = flag(ctx.values, 'install') || out === undefined;
      if (install) {
        const existing = await ctx.store.credentials(profile.address);
        const sameKey =
          existing &&
          spkiOf(toPrivateKey(existing.keyPem)).equals(spkiOf(toPrivateKey(creds.keyPem)));
        if (existing && !sameKey && !flag(ctx.values, 'force')) {
          throw CliError.local(`${profile.address} already has a different key`, [
            'use --force to replace it (the old one is kept under retired/)',
          ]);
        }
        if (existing && !sameKey)
          await ctx.store.retireCredentials(
            profile.address,
            parseCertificate(existing.certPem).serialHex,
          );
        await ctx.store.saveCredentials(profile.address, creds);
      }
      const keySha256 = parseCertificate(creds.certPem).sha256;
      ctx.out.result(
        {
          backup: { ...file, data: undefined },
          certificate: cert.serialHex,
          sha256: keySha256,
          installed: install,
          out,
        },
        () => [
          `backup ${file.id} opened: key and certificate ${cert.serialHex} (${cert.subject})`,
          ...(out !== undefined ? [`written to ${out} (mode 0600)`] : []),
          ...(install
            ? [`installed into ${profile.address}: irp logs in with this certificate from now on`]
            : []),
        ],
      );
    }),
};

/** `irp backup rm ID|NAME` (spec §10 deletePkcs12). */
export const backupRmCommand: CommandSpec = {
  path: ['backup', 'rm'],
  usage: 'ID|NAME',
  summary: 'delete a stored backup',
  args: [1, 1],
  run: (ctx) =>
    withSession(ctx, { login: true }, async (s) => {
      const entry = await findBackup(s, arg(ctx, 0));
      await call(s, { cmd: 'deletePkcs12', pkcs12Id: entry.id });
      ctx.out.result({ deleted: entry.id }, () => [`backup ${entry.id} deleted`]);
    }),
};
