import { type CommandSpec } from '../cli/context.js';
import { CliError } from '../cli/cli.error.js';
import { int, str } from '../cli/options.js';
import { renderUser } from '../format/render.js';
import { call, withSession } from '../net/session.js';
import { PROFILE_FIELD_OPTIONS, profileFields } from './common.js';

/** `irp user info [USER]` (spec §7.2 info). */
export const userInfoCommand: CommandSpec = {
  path: ['user', 'info'],
  usage: '[USER]',
  summary: "your record, or another user's directory record",
  args: [0, 1],
  run: (ctx) =>
    withSession(ctx, { login: true }, async (s) => {
      const who = ctx.args[0];
      const data = await call(s, who ? { cmd: 'info', user: who } : { cmd: 'info' });
      ctx.out.result({ user: data.user }, () => (data.user ? renderUser(data.user) : []));
    }),
};

/** `irp user update --field VALUE…` (spec §7.2 update). */
export const userUpdateCommand: CommandSpec = {
  path: ['user', 'update'],
  usage:
    '[--display-name TEXT] [--email EMAIL] [--given-name …] [--surname …] [--organization …] [--title …] [--phone …] [--attr NAME=VALUE]…',
  summary: 'change your profile fields (only those given; "" clears one)',
  options: PROFILE_FIELD_OPTIONS,
  args: [0, 0],
  run: async (ctx) => {
    const profile = profileFields(ctx.values);
    if (Object.keys(profile).length === 0)
      throw CliError.usage('give at least one field to change');
    await withSession(ctx, { login: true }, async (s) => {
      const data = await call(s, {
        cmd: 'update',
        profile,
        namesUserId: false,
        namesStatus: false,
      });
      ctx.out.result({ user: data.user }, () => [
        'updated',
        ...(data.user ? renderUser(data.user) : []),
      ]);
    });
  },
};

/** `irp user list [FILTER]` (spec §7.2 listUsers). */
export const userListCommand: CommandSpec = {
  path: ['user', 'list'],
  usage: '[FILTER] [--offset N] [--limit N]',
  summary: 'the directory, sorted by user id, optionally filtered',
  options: ['filter', 'offset', 'limit'],
  args: [0, 1],
  run: async (ctx) => {
    const filter = ctx.args[0] ?? str(ctx.values, 'filter');
    const offset = int(ctx.values, 'offset', 0, Number.MAX_SAFE_INTEGER);
    const limit = int(ctx.values, 'limit', 1, 200);
    await withSession(ctx, { login: true }, async (s) => {
      const data = await call(s, {
        cmd: 'listUsers',
        ...(filter !== undefined ? { filter } : {}),
        ...(offset !== undefined ? { offset } : {}),
        ...(limit !== undefined ? { limit } : {}),
      });
      const page = data.users ?? { total: 0, offset: 0, limit: 0, users: [] };
      ctx.out.result(page, () => [
        ...page.users.map((u) =>
          `${(u.address ?? u.userId).padEnd(32)}  ${(u.displayName ?? '').padEnd(24)}  ${u.email ?? ''}`.trimEnd(),
        ),
        `(${page.users.length} of ${page.total}, from ${page.offset})`,
      ]);
    });
  },
};
