import { type CommandSpec } from '../cli/context.js';
import { oneOf } from '../cli/options.js';
import { call, withSession } from '../net/session.js';
import { arg } from './common.js';

/** `irp auth upa off|on` (spec §7.2 setAuthPolicy; needs an SCA session). */
export const authUpaCommand: CommandSpec = {
  path: ['auth', 'upa'],
  usage: 'off|on',
  summary:
    'turn password login off (only your certificate logs you in) or back on; needs a certificate login',
  args: [1, 1],
  run: async (ctx) => {
    const state = oneOf(arg(ctx, 0), ['off', 'on'] as const, 'auth upa') ?? 'on';
    await withSession(ctx, { login: true, requireSca: true }, async (s) => {
      const data = await call(s, { cmd: 'setAuthPolicy', upa: state === 'on' });
      ctx.out.result(
        { address: s.address, upaEnabled: data.user?.upaEnabled ?? state === 'on' },
        () => [
          state === 'off'
            ? `password login is now OFF for ${s.address ?? '?'}: only your certificate logs you in — keep a backup (irp backup push)`
            : `password login is now ON for ${s.address ?? '?'}`,
        ],
      );
    });
  },
};
