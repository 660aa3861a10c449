import { hostname } from 'node:os';
import { type UserProfileFields } from '@irp/protocol';
import { CliError } from '../cli/cli.error.js';
import { type CliContext } from '../cli/context.js';
import { list, str, type OptionName, type OptionValues } from '../cli/options.js';
import { readSecret } from '../cli/secrets.js';

/** The profile-field options (register, user update). */
export const PROFILE_FIELD_OPTIONS: readonly OptionName[] = [
  'display-name',
  'email',
  'given-name',
  'surname',
  'organization',
  'title',
  'phone',
  'attr',
];

/** Profile fields from options; only those given (spec §7.2: `update` changes those present). */
export function profileFields(values: OptionValues): UserProfileFields {
  const fields: UserProfileFields = {};
  const map: [OptionName, keyof UserProfileFields][] = [
    ['display-name', 'displayName'],
    ['email', 'email'],
    ['given-name', 'givenName'],
    ['surname', 'surname'],
    ['organization', 'organization'],
    ['title', 'title'],
    ['phone', 'phone'],
  ];
  for (const [option, field] of map) {
    const v = str(values, option);
    if (v !== undefined) (fields as Record<string, string>)[field] = v;
  }
  const attrs = list(values, 'attr');
  if (attrs.length > 0) {
    fields.attributes = attrs.map((a) => {
      const eq = a.indexOf('=');
      if (eq <= 0) throw CliError.usage(`--attr must be NAME=VALUE (got ${JSON.stringify(a)})`);
      return { name: a.slice(0, eq), value: a.slice(eq + 1) };
    });
  }
  return fields;
}

/** Device name by default: the host name, reduced to spec §8's `[A-Za-z0-9._-]{1,64}`. */
export function defaultDevice(): string {
  const name = hostname()
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(0, 64);
  return name === '' ? 'default' : name;
}

/** The device of `--device`, validated. */
export function deviceOption(values: OptionValues): string {
  const device = str(values, 'device') ?? defaultDevice();
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(device))
    throw CliError.usage('--device must be 1–64 of [A-Za-z0-9._-]');
  return device;
}

/** A PKCS#12 passphrase: --passphrase-file, IRP_PASSPHRASE, or a prompt (twice when new). */
export function readPassphrase(ctx: CliContext, confirm: boolean): Promise<string> {
  return readSecret(
    {
      what: 'passphrase',
      file: str(ctx.values, 'passphrase-file'),
      fileOption: 'passphrase-file',
      envVar: 'IRP_PASSPHRASE',
      confirm,
      prompt: confirm ? 'New PKCS#12 passphrase: ' : 'PKCS#12 passphrase: ',
    },
    ctx.env,
  );
}

/** A new password: --new-password-file, IRP_NEW_PASSWORD, or a prompt (twice). */
export function readNewPassword(ctx: CliContext): Promise<string> {
  return readSecret(
    {
      what: 'new password',
      file: str(ctx.values, 'new-password-file'),
      fileOption: 'new-password-file',
      envVar: 'IRP_NEW_PASSWORD',
      confirm: true,
    },
    ctx.env,
  );
}

/** The argument at `index` (positional arity is checked before `run`). */
export function arg(ctx: CliContext, index: number): string {
  const v = ctx.args[index];
  if (v === undefined) throw CliError.usage('missing argument');
  return v;
}
