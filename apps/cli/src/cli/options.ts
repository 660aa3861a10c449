import { parseArgs } from 'node:util';
import { CliError } from './cli.error.js';

/** One option of the catalog. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Placeholder of the value in help (string options). */
  value?: string;
  help: string;
}

/**
 * Every option of every command, in one table, so that one name always has one
 * type: the first pass over argv (finding the command) can then parse any command
 * line without knowing the command yet.
 */
export const OPTIONS = {
  // global
  server: {
    type: 'string',
    value: 'HOST[:PORT]',
    help: "the DIR to talk to (default: the profile's, else DNS SRV _irp._tcp of your domain; env IRP_SERVER)",
  },
  ca: {
    type: 'string',
    value: 'FILE',
    help: 'trust the CA certificate(s) in FILE (PEM) for the server instead of trust on first use',
  },
  yes: {
    type: 'boolean',
    short: 'y',
    help: "trust the server's CA on first use without asking (its fingerprint is still shown; env IRP_YES=1)",
  },
  'ca-fingerprint': {
    type: 'string',
    value: 'SHA256',
    help: 'trust on first use only a CA with this SHA-256 fingerprint (hex, colons optional)',
  },
  'tls-name': {
    type: 'string',
    value: 'NAME',
    help: 'TLS name to verify in the server certificate (default: the host name)',
  },
  user: {
    type: 'string',
    short: 'u',
    value: 'ADDRESS',
    help: 'the profile (IRP address or user id) to act as (default: the current one; env IRP_USER)',
  },
  json: {
    type: 'boolean',
    help: 'machine-readable JSON on stdout (one document, or one line per event)',
  },
  'password-file': {
    type: 'string',
    value: 'FILE',
    help: 'read the password from the first line of FILE (else env IRP_PASSWORD, else a prompt)',
  },
  auth: {
    type: 'string',
    value: 'auto|sca|upa',
    help: 'how to log in: certificate (sca), password (upa) or sca when possible (auto, default)',
  },
  timeout: { type: 'string', value: 'SECONDS', help: 'connect and request timeout (default 15)' },
  quiet: { type: 'boolean', short: 'q', help: 'no progress lines on stderr' },
  help: { type: 'boolean', short: 'h', help: 'show help' },
  version: { type: 'boolean', help: 'show the version' },
  // profile fields
  'display-name': { type: 'string', value: 'TEXT', help: 'display name' },
  email: { type: 'string', value: 'EMAIL', help: 'e-mail address' },
  'given-name': { type: 'string', value: 'TEXT', help: 'given name' },
  surname: { type: 'string', value: 'TEXT', help: 'surname' },
  organization: { type: 'string', value: 'TEXT', help: 'organization' },
  title: { type: 'string', value: 'TEXT', help: 'title' },
  phone: { type: 'string', value: 'TEXT', help: 'phone number' },
  attr: {
    type: 'string',
    multiple: true,
    value: 'NAME=VALUE',
    help: 'free attribute (repeatable; replaces all attributes)',
  },
  // identity
  code: {
    type: 'string',
    value: 'CODE',
    help: 'the one-time enrollment code (else env IRP_ENROLL_CODE, else a prompt)',
  },
  'new-password-file': {
    type: 'string',
    value: 'FILE',
    help: 'read the new password from FILE (else env IRP_NEW_PASSWORD, else a prompt)',
  },
  filter: { type: 'string', value: 'TEXT', help: 'substring of user id, display name or e-mail' },
  offset: { type: 'string', value: 'N', help: 'first entry (default 0)' },
  limit: { type: 'string', value: 'N', help: 'entries per page, 1–200 (default 50)' },
  // certificates and backups
  algo: { type: 'string', value: 'ALG', help: 'key algorithm' },
  type: { type: 'string', value: 'user|device', help: 'certificate profile (default user)' },
  days: { type: 'string', value: 'N', help: 'validity in days (the server clamps it)' },
  out: { type: 'string', short: 'o', value: 'FILE', help: 'write to FILE' },
  install: { type: 'boolean', help: 'install the key and certificate into the profile' },
  force: { type: 'boolean', help: 'replace an existing local key and certificate' },
  reason: {
    type: 'string',
    value: 'REASON',
    help: 'unspecified|keyCompromise|affiliationChanged|superseded|cessationOfOperation',
  },
  name: { type: 'string', value: 'NAME', help: 'name of the backup' },
  'passphrase-file': {
    type: 'string',
    value: 'FILE',
    help: 'read the PKCS#12 passphrase from FILE (else env IRP_PASSPHRASE, else a prompt)',
  },
  // addresses
  address: {
    type: 'string',
    multiple: true,
    value: 'IP[:PORT]',
    help: 'address to register (repeatable; IPv6 with a port as [addr]:port)',
  },
  auto: {
    type: 'boolean',
    help: "register the machine's own non-loopback, non-link-local addresses",
  },
  port: { type: 'string', value: 'N', help: 'port' },
  device: {
    type: 'string',
    value: 'NAME',
    help: 'device (instance) name, 1–64 of [A-Za-z0-9._-] (default: the host name)',
  },
  expires: {
    type: 'string',
    value: 'SECONDS',
    help: 'lifetime of the binding (60–86400, default 3600)',
  },
  presence: { type: 'string', value: 'STATUS', help: 'available|away|busy|dnd|offline' },
  note: { type: 'string', value: 'TEXT', help: 'presence note (≤ 256 characters)' },
  service: { type: 'string', value: 'LABEL', help: 'what listens at the address' },
  transport: {
    type: 'string',
    value: 'tcp|udp|quic|tls',
    help: 'transport of the addresses (default tcp)',
  },
  sign: { type: 'boolean', help: 'sign the binding with your certificate (spec §8.2)' },
  count: {
    type: 'string',
    value: 'N',
    help: 'exit after N presence events (the first comes at once)',
  },
  // peer
  once: { type: 'boolean', help: 'exit after the first conversation ends' },
  'allow-unsigned': { type: 'boolean', help: 'also connect to bindings without an attestation' },
  wait: {
    type: 'string',
    value: 'SECONDS',
    help: 'wait up to SECONDS for the user to come online',
  },
  // raw
  login: { type: 'boolean', help: 'log in before sending (SCA or UPA, as for other commands)' },
} as const satisfies Record<string, OptionSpec>;

/** The name of an option of the catalog. */
export type OptionName = keyof typeof OPTIONS;

/** Options every command accepts. */
export const GLOBAL_OPTIONS: readonly OptionName[] = [
  'server',
  'ca',
  'yes',
  'ca-fingerprint',
  'tls-name',
  'user',
  'json',
  'password-file',
  'auth',
  'timeout',
  'quiet',
  'help',
  'version',
];

/** Parsed option values: strings, booleans, or string lists for repeatable options. */
export type OptionValues = Partial<Record<OptionName, string | boolean | string[]>>;

function parseConfig(names: readonly OptionName[]) {
  const options: Record<
    string,
    { type: 'string' | 'boolean'; short?: string; multiple?: boolean }
  > = {};
  for (const name of names) {
    const spec: OptionSpec = OPTIONS[name];
    options[name] = {
      type: spec.type,
      ...(spec.short ? { short: spec.short } : {}),
      ...(spec.multiple ? { multiple: true } : {}),
    };
  }
  return options;
}

/**
 * First pass: every option of the catalog, leniently, to find the positionals
 * (the command words come first).
 */
export function scanPositionals(argv: readonly string[]): string[] {
  const { positionals } = parseArgs({
    args: [...argv],
    options: parseConfig(Object.keys(OPTIONS) as OptionName[]),
    strict: false,
    allowPositionals: true,
  });
  return positionals;
}

/**
 * Second pass: strictly, with the global options and those of the command.
 * @throws CliError (usage) for an unknown option or a missing value
 */
export function parseCommandLine(
  argv: readonly string[],
  names: readonly OptionName[],
): { values: OptionValues; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: parseConfig([...new Set([...GLOBAL_OPTIONS, ...names])]),
      strict: true,
      allowPositionals: true,
    });
    return { values, positionals };
  } catch (e) {
    throw CliError.usage((e as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
}

/** A string option (the last one when given twice). */
export function str(values: OptionValues, name: OptionName): string | undefined {
  const v = values[name];
  if (Array.isArray(v)) return v[v.length - 1];
  return typeof v === 'string' ? v : undefined;
}

/** A boolean option. */
export function flag(values: OptionValues, name: OptionName): boolean {
  return values[name] === true;
}

/** A repeatable string option. */
export function list(values: OptionValues, name: OptionName): string[] {
  const v = values[name];
  if (Array.isArray(v)) return v;
  return typeof v === 'string' ? [v] : [];
}

/**
 * An integer option within [min, max].
 * @throws CliError (usage) when it is not such an integer
 */
export function int(
  values: OptionValues,
  name: OptionName,
  min: number,
  max: number,
): number | undefined {
  const text = str(values, name);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw CliError.usage(`--${name} must be an integer from ${min} to ${max}`);
  }
  return Number(text);
}

/**
 * One of a closed set of words.
 * @throws CliError (usage) for any other value
 */
export function oneOf<T extends string>(
  text: string | undefined,
  allowed: readonly T[],
  what: string,
): T | undefined {
  if (text === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(text)) {
    throw CliError.usage(
      `${what} must be one of ${allowed.join(', ')} (got ${JSON.stringify(text)})`,
    );
  }
  return text as T;
}
