import { type CommandSpec } from './context.js';
import { GLOBAL_OPTIONS, OPTIONS, type OptionName, type OptionSpec } from './options.js';

function optionLine(name: OptionName): string {
  const spec: OptionSpec = OPTIONS[name];
  const flagText = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.value ? ` ${spec.value}` : ''}`;
  return `  ${flagText.padEnd(34)} ${spec.help}`;
}

/** The overview: every command, the global options, secrets and exit codes. */
export function mainHelp(commands: readonly CommandSpec[]): string {
  const width = Math.max(...commands.map((c) => c.path.join(' ').length));
  return [
    'irp — client of the Identity Registration Protocol (IRP 1.0) and End2End Direct',
    '',
    'usage: irp [options] COMMAND [ARGS]      (irp COMMAND --help for details)',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`),
    '',
    'options (all commands):',
    ...GLOBAL_OPTIONS.map(optionLine),
    '',
    'secrets are never taken on the command line:',
    '  password     --password-file FILE, env IRP_PASSWORD, else a prompt',
    '  new password --new-password-file FILE, env IRP_NEW_PASSWORD, else a prompt',
    '  passphrase   --passphrase-file FILE, env IRP_PASSPHRASE, else a prompt (PKCS#12)',
    '',
    'files: $IRP_CONFIG_DIR, else $XDG_CONFIG_HOME/irp, else ~/.config/irp (keys mode 0600)',
    '',
    'exit codes: 0 ok · 1 internal · 2 usage · 3 connection · 4 trust · 5 local state ·',
    '  6 End2End peer refused · 20–25 the IRP result class (2303 → 23) · 130 interrupted',
  ].join('\n');
}

/** Help of one command. */
export function commandHelp(command: CommandSpec): string {
  return [
    `usage: irp ${command.path.join(' ')}${command.usage ? ` ${command.usage}` : ''}`,
    '',
    command.summary,
    ...(command.options && command.options.length > 0
      ? ['', 'options:', ...command.options.map(optionLine)]
      : []),
    '',
    'global options: see irp --help',
  ].join('\n');
}
