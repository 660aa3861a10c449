import { parseCertificate } from '@irp/pki';
import { CliError } from '../cli/cli.error.js';
import { type CommandSpec } from '../cli/context.js';
import { resultError } from '../cli/error-mapping.js';
import { str } from '../cli/options.js';
import { readSecret } from '../cli/secrets.js';
import {
  formatFingerprint,
  greetingRows,
  renderUser,
  table,
  time,
  userRows,
} from '../format/render.js';
import { formatTarget } from '../net/server-address.js';
import { call, rememberProfile, withSession } from '../net/session.js';
import { arg, PROFILE_FIELD_OPTIONS, profileFields, readNewPassword } from './common.js';

/** `irp status`: the greeting (spec §6.6) and how we trust the server. */
export const statusCommand: CommandSpec = {
  path: ['status'],
  usage: '',
  summary:
    'show the server: versions, auth methods, commands, limits, what it made of our certificate',
  args: [0, 0],
  run: (ctx) =>
    withSession(ctx, { login: false }, (s) => {
      const trust = { kind: s.trust.kind, subject: s.trust.subject, sha256: s.trust.sha256 };
      ctx.out.result(
        {
          server: formatTarget(s.target),
          profile: s.profile?.address,
          alpn: s.client.alpnProtocol || null,
          trust,
          greeting: s.greeting,
        },
        () =>
          table([
            ['connected to', formatTarget(s.target)],
            ['profile', s.profile?.address ?? '(none)'],
            [
              'trusted by',
              `${s.trust.kind === 'domain-ca' ? 'domain CA' : s.trust.kind === 'ca-file' ? 'CA file' : 'pinned server certificate'} ${s.trust.subject}`,
            ],
            ['  SHA-256', formatFingerprint(s.trust.sha256)],
            ...greetingRows(s.greeting, s.client.alpnProtocol),
          ]),
      );
    }),
};

/** `irp register USERID` (spec §7.2; open registration only). */
export const registerCommand: CommandSpec = {
  path: ['register'],
  usage: 'USERID [--display-name TEXT] [--email EMAIL] [--attr NAME=VALUE]…',
  summary: 'create an account (when the server has open registration) and a profile for it',
  options: PROFILE_FIELD_OPTIONS,
  args: [1, 1],
  run: async (ctx) => {
    const userId = arg(ctx, 0).toLowerCase();
    if (userId.includes('@')) throw CliError.usage('give the user id without the domain');
    const profile = profileFields(ctx.values);
    const password = await readSecret(
      {
        what: 'password',
        file: str(ctx.values, 'password-file'),
        fileOption: 'password-file',
        envVar: 'IRP_PASSWORD',
        confirm: true,
        prompt: `New password for ${userId} (10–1024 characters): `,
      },
      ctx.env,
    );
    await withSession(ctx, { login: false, anonymous: true, user: userId }, async (s) => {
      const data = await call(s, { cmd: 'register', userId, password, profile });
      const address = data.user?.address ?? `${userId}@${s.greeting.domain}`;
      await rememberProfile(ctx, s, address, true);
      ctx.out.result({ registered: address, user: data.user }, () => [
        `registered ${address} (now the current profile)`,
        ...(data.user ? renderUser(data.user) : []),
        'next: `irp cert request` to get a certificate and log in with it (SCA)',
      ]);
    });
  },
};

/** `irp enroll USERID` (spec §7.2): activates an operator-created account with its code. */
export const enrollCommand: CommandSpec = {
  path: ['enroll'],
  usage: 'USERID [--code CODE]',
  summary: 'activate an account an operator created, with its one-time enrollment code',
  options: ['code'],
  args: [1, 1],
  run: async (ctx) => {
    const userId = arg(ctx, 0).toLowerCase().split('@')[0] ?? '';
    const code = await readSecret(
      {
        what: 'enrollment code',
        file: undefined,
        fileOption: 'code',
        envVar: 'IRP_ENROLL_CODE',
        prompt: 'Enrollment code: ',
      },
      {
        ...ctx.env,
        ...(str(ctx.values, 'code') !== undefined
          ? { IRP_ENROLL_CODE: str(ctx.values, 'code') }
          : {}),
      },
    );
    const password = await readSecret(
      {
        what: 'password',
        file: str(ctx.values, 'password-file'),
        fileOption: 'password-file',
        envVar: 'IRP_PASSWORD',
        confirm: true,
        prompt: `New password for ${userId} (10–1024 characters): `,
      },
      ctx.env,
    );
    await withSession(ctx, { login: false, anonymous: true, user: arg(ctx, 0) }, async (s) => {
      const res = await s.client.request({ cmd: 'enroll', userId, code, password });
      if (res.cmd !== 'enroll' || res.result.code >= 2000) throw resultError('enroll', res.result);
      const address =
        res.data.session?.user ?? res.data.user?.address ?? `${userId}@${s.greeting.domain}`;
      await rememberProfile(ctx, s, address, true);
      ctx.out.result({ enrolled: address, session: res.data.session, user: res.data.user }, () => [
        `enrolled and logged in as ${address} (now the current profile)`,
        ...(res.data.user ? renderUser(res.data.user) : []),
      ]);
    });
  },
};

/** `irp login [USER]`: checks the credentials and makes the profile current. */
export const loginCommand: CommandSpec = {
  path: ['login'],
  usage: '[USER]',
  summary:
    'log in (certificate if you have a valid one, else password) and make USER the current profile',
  args: [0, 1],
  run: (ctx) =>
    withSession(
      ctx,
      { login: true, remember: true, ...(ctx.args[0] ? { user: ctx.args[0] } : {}) },
      (s) => {
        ctx.out.result({ address: s.address, method: s.method, user: s.user }, () => [
          `logged in as ${s.address ?? '?'} by ${s.method === 'sca' ? 'certificate (SCA)' : 'password (UPA)'}; now the current profile`,
        ]);
      },
    ),
};

/** `irp whoami`: who the server says we are, and how we logged in. */
export const whoamiCommand: CommandSpec = {
  path: ['whoami'],
  usage: '',
  summary: 'log in and show who you are, how you logged in and your local certificate',
  args: [0, 0],
  run: (ctx) =>
    withSession(ctx, { login: true }, (s) => {
      const cert = s.credentials ? parseCertificate(s.credentials.certPem) : undefined;
      const local = cert
        ? {
            serial: cert.serialHex,
            sha256: cert.sha256,
            notAfter: cert.notAfter,
            status: s.greeting.clientCertificate.status,
          }
        : undefined;
      ctx.out.result(
        {
          address: s.address,
          method: s.method,
          server: formatTarget(s.target),
          certificate: local,
          user: s.user,
        },
        () =>
          table([
            ['logged in as', s.address],
            ['method', s.method === 'sca' ? 'sca (certificate)' : 'upa (password)'],
            ['server', formatTarget(s.target)],
            [
              'certificate',
              local ? `${local.serial} (${local.status}), until ${time(local.notAfter)}` : 'none',
            ],
            ...(s.user ? userRows(s.user).filter(([k]) => k !== 'user') : []),
          ]),
      );
    }),
};

/** `irp passwd` (spec §7.2 changePassword). */
export const passwdCommand: CommandSpec = {
  path: ['passwd'],
  usage: '[--new-password-file FILE]',
  summary:
    'change your password (the old one from the login, IRP_PASSWORD/--password-file or a prompt)',
  options: ['new-password-file'],
  args: [0, 0],
  run: (ctx) =>
    withSession(ctx, { login: true }, async (s) => {
      const oldPassword =
        s.password ??
        (await readSecret(
          {
            what: 'password',
            file: str(ctx.values, 'password-file'),
            fileOption: 'password-file',
            envVar: 'IRP_PASSWORD',
            prompt: 'Current password: ',
          },
          ctx.env,
        ));
      const newPassword = await readNewPassword(ctx);
      await call(s, { cmd: 'changePassword', oldPassword, newPassword });
      ctx.out.result({ changed: true, address: s.address }, () => [
        `password changed for ${s.address ?? '?'} (your other sessions were closed)`,
      ]);
    }),
};
