import { parseCertificate } from '@irp/pki';
import { CliError } from '../cli/cli.error.js';
import { type CommandSpec } from '../cli/context.js';
import { flag } from '../cli/options.js';
import { formatFingerprint, table } from '../format/render.js';
import { formatTarget, parseServerAddress } from '../net/server-address.js';
import { requireProfile } from '../net/session.js';
import { arg } from './common.js';

/** `irp profile list`. */
export const profileListCommand: CommandSpec = {
  path: ['profile', 'list'],
  usage: '',
  summary: 'the identities this machine knows (* = current)',
  args: [0, 0],
  run: async (ctx) => {
    const [profiles, current] = [await ctx.store.list(), await ctx.store.current()];
    const rows = await Promise.all(
      profiles.map(async (p) => ({
        ...p,
        current: p.address === current,
        certificate: (await ctx.store.credentials(p.address)) !== undefined,
      })),
    );
    ctx.out.result({ profiles: rows, current }, () =>
      rows.length === 0
        ? ['no profiles yet: `irp register USER --server HOST` or `irp login USER --server HOST`']
        : rows.map(
            (p) =>
              `${p.current ? '*' : ' '} ${p.address.padEnd(32)}  ${p.server ? formatTarget(p.server) : `SRV ${p.domain}`}  ${p.certificate ? 'certificate' : 'password only'}`,
          ),
    );
  },
};

/** `irp profile use USER`. */
export const profileUseCommand: CommandSpec = {
  path: ['profile', 'use'],
  usage: 'USER',
  summary: 'make a profile the current one',
  args: [1, 1],
  run: async (ctx) => {
    const profile = await ctx.store.find(arg(ctx, 0));
    if (!profile) throw CliError.local(`no profile for ${arg(ctx, 0)}`);
    await ctx.store.setCurrent(profile.address);
    ctx.out.result({ current: profile.address }, () => [`current profile: ${profile.address}`]);
  },
};

/** `irp profile show [USER]`. */
export const profileShowCommand: CommandSpec = {
  path: ['profile', 'show'],
  usage: '[USER]',
  summary: 'a profile: server, files, local certificate',
  args: [0, 1],
  run: async (ctx) => {
    const profile = await requireProfile(ctx, ctx.args[0]);
    const creds = await ctx.store.credentials(profile.address);
    const cert = creds ? parseCertificate(creds.certPem) : undefined;
    const info = {
      ...profile,
      directory: ctx.store.path(profile.address, ''),
      certificate: cert
        ? {
            serial: cert.serialHex,
            sha256: cert.sha256,
            subject: cert.subject,
            notBefore: cert.notBefore,
            notAfter: cert.notAfter,
          }
        : undefined,
    };
    ctx.out.result(info, () =>
      table([
        ['address', profile.address],
        [
          'server',
          profile.server ? formatTarget(profile.server) : `DNS SRV _irp._tcp.${profile.domain}`,
        ],
        ['directory', info.directory],
        ['certificate', cert ? `${cert.serialHex}  ${cert.subject}` : 'none (password login)'],
        ['  SHA-256', cert ? formatFingerprint(cert.sha256) : undefined],
        [
          '  valid',
          cert ? `${cert.notBefore.toISOString()} → ${cert.notAfter.toISOString()}` : undefined,
        ],
      ]),
    );
  },
};

/** `irp profile rm USER`. */
export const profileRmCommand: CommandSpec = {
  path: ['profile', 'rm'],
  usage: 'USER [--force]',
  summary: 'forget a profile and DELETE its local key (back it up first; --force when it has one)',
  options: ['force'],
  args: [1, 1],
  run: async (ctx) => {
    const profile = await ctx.store.find(arg(ctx, 0));
    if (!profile) throw CliError.local(`no profile for ${arg(ctx, 0)}`);
    if ((await ctx.store.credentials(profile.address)) && !flag(ctx.values, 'force')) {
      throw CliError.local(`${profile.address} holds a private key`, [
        'back it up (irp backup push), then remove the profile with --force',
      ]);
    }
    await ctx.store.remove(profile.address);
    ctx.out.result({ removed: profile.address }, () => [`profile ${profile.address} removed`]);
  },
};

/** `irp trust list`. */
export const trustListCommand: CommandSpec = {
  path: ['trust', 'list'],
  usage: '',
  summary: 'the servers trusted, and by which certificate',
  args: [0, 0],
  run: async (ctx) => {
    const records = await ctx.store.trustList();
    ctx.out.result({ trust: records.map((r) => ({ ...r, anchorsPem: undefined })) }, () =>
      records.length === 0
        ? ['no server trusted yet']
        : records.flatMap((r) => [
            `${formatTarget(r)}  ${r.kind}  ${r.subject}${r.domain ? `  (domain ${r.domain})` : ''}`,
            `  SHA-256 ${formatFingerprint(r.sha256)}  since ${r.acceptedAt}`,
          ]),
    );
  },
};

/** `irp trust forget HOST[:PORT]`. */
export const trustForgetCommand: CommandSpec = {
  path: ['trust', 'forget'],
  usage: 'HOST[:PORT]',
  summary: 'forget how a server is trusted (the next connection asks again)',
  args: [1, 1],
  run: async (ctx) => {
    const target = parseServerAddress(arg(ctx, 0));
    const existed = await ctx.store.forgetTrust(target);
    ctx.out.result({ forgotten: existed ? formatTarget(target) : null }, () => [
      existed ? `forgot ${formatTarget(target)}` : `${formatTarget(target)} was not trusted`,
    ]);
  },
};
