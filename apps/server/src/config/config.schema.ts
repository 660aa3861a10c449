import { isIP } from 'node:net';

/**
 * The validated server configuration. Every environment variable the server reads is
 * read once, here (house rule 8); everything else receives this object by injection.
 */
export interface IrpConfig {
  /** PostgreSQL URL; undefined = the embedded database under `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  irpHost: string;
  irpPort: number;
  httpHost: string;
  httpPort: number;
  publicHttpUrl: string;
  domain: string;
  serverName: string;
  openRegistration: boolean;
  allowLocalAddresses: boolean;
  adminPassword: string | undefined;
  /** 32-byte master key for the CA keys at rest; undefined = a key file in `dataDir`. */
  masterKey: Buffer | undefined;
  tlsCertFile: string | undefined;
  tlsKeyFile: string | undefined;
  caCertFile: string | undefined;
  caKeyFile: string | undefined;
  caAlgorithm: 'P-384' | 'P-256' | 'RSA-4096';
  certApproval: 'auto' | 'manual';
  maxCertDays: number;
  authTimeoutSeconds: number;
  idleTimeoutSeconds: number;
  handshakeTimeoutSeconds: number;
  maxFrameBytes: number;
  maxDepth: number;
  maxElements: number;
  maxTextBytes: number;
  maxSubscriptions: number;
  maxBindingsPerUser: number;
  /** Lower clamp of a binding's `expires` (spec §8: 60; lower values are for tests only). */
  addressMinExpirySeconds: number;
  /** How often lapsed bindings are purged and their lapse notified (spec §8). */
  addressPurgeIntervalMs: number;
  maxPkcs12PerUser: number;
  maxSessions: number;
  rateLoginPerMin: number;
  rateRegisterPerMin: number;
  shutdownGraceSeconds: number;
  shutdownRetryAfterSeconds: number;
  logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
}

type Env = Readonly<Record<string, string | undefined>>;

/** Thrown when one or more variables are invalid; the message names every one of them. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  private raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  optional(name: string): string | undefined {
    return this.raw(name);
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      this.problems.push(
        `${name}=${JSON.stringify(raw)}: expected a whole number from ${min} to ${max}`,
      );
      return fallback;
    }
    return Number(raw);
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.raw(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['true', '1', 'yes', 'on'].includes(raw)) return true;
    if (['false', '0', 'no', 'off'].includes(raw)) return false;
    this.problems.push(`${name}=${JSON.stringify(raw)}: expected true or false`);
    return fallback;
  }

  oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const found = choices.find((c) => c.toLowerCase() === raw.toLowerCase());
    if (found === undefined) {
      this.problems.push(`${name}=${JSON.stringify(raw)}: expected one of ${choices.join(', ')}`);
      return fallback;
    }
    return found;
  }

  check(ok: boolean, problem: string): void {
    if (!ok) this.problems.push(problem);
  }
}

const DNS_NAME =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

function parseMasterKey(r: Reader, raw: string | undefined): Buffer | undefined {
  if (raw === undefined) return undefined;
  const key = /^[0-9a-f]{64}$/i.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  r.check(
    key.length === 32 && (/^[0-9a-f]{64}$/i.test(raw) || key.toString('base64') === raw),
    'IRP_MASTER_KEY: expected 32 bytes as 64 hex digits or base64 (value not shown)',
  );
  return key.length === 32 ? key : undefined;
}

/**
 * Reads and validates the configuration from `env`. Throws {@link ConfigError} naming
 * every bad variable at once, so an operator fixes them in one round.
 */
export function loadConfig(env: Env = process.env): IrpConfig {
  const r = new Reader(env);
  const serverName = r.string('IRP_SERVER_NAME', 'localhost').toLowerCase();
  const domain = r.string('IRP_DOMAIN', 'localhost').toLowerCase();
  const httpPort = r.int('HTTP_PORT', 8080, 0, 65535);
  const irpHost = r.string('IRP_HOST', '::');
  const databaseUrl = r.optional('DATABASE_URL');
  const tlsCertFile = r.optional('IRP_TLS_CERT');
  const tlsKeyFile = r.optional('IRP_TLS_KEY');
  const caCertFile = r.optional('IRP_CA_CERT');
  const caKeyFile = r.optional('IRP_CA_KEY');
  const publicHttpUrl = r
    .string('IRP_PUBLIC_HTTP_URL', `http://${serverName}:${httpPort}`)
    .replace(/\/+$/, '');

  r.check(
    DNS_NAME.test(domain),
    `IRP_DOMAIN=${JSON.stringify(domain)}: expected a DNS domain name`,
  );
  r.check(
    DNS_NAME.test(serverName) || isIP(serverName) !== 0,
    `IRP_SERVER_NAME=${JSON.stringify(serverName)}: expected a DNS name or an IP address`,
  );
  r.check(
    irpHost === '::' || isIP(irpHost) !== 0 || DNS_NAME.test(irpHost),
    `IRP_HOST=${JSON.stringify(irpHost)}: expected an IP address or host name`,
  );
  r.check(
    databaseUrl === undefined || /^postgres(ql)?:\/\//.test(databaseUrl),
    'DATABASE_URL: expected a postgres:// or postgresql:// URL',
  );
  r.check(
    (tlsCertFile === undefined) === (tlsKeyFile === undefined),
    'IRP_TLS_CERT and IRP_TLS_KEY: give both or neither',
  );
  r.check(
    (caCertFile === undefined) === (caKeyFile === undefined),
    'IRP_CA_CERT and IRP_CA_KEY: give both or neither',
  );
  let urlOk: boolean;
  try {
    const url = new URL(publicHttpUrl);
    urlOk = url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    urlOk = false;
  }
  r.check(urlOk, `IRP_PUBLIC_HTTP_URL=${JSON.stringify(publicHttpUrl)}: expected an http(s) URL`);

  const config: IrpConfig = {
    databaseUrl,
    dataDir: r.string('IRP_DATA_DIR', './data'),
    irpHost,
    irpPort: r.int('IRP_PORT', 4604, 0, 65535),
    httpHost: r.string('HTTP_HOST', irpHost),
    httpPort,
    publicHttpUrl,
    domain,
    serverName,
    openRegistration: r.bool('IRP_OPEN_REGISTRATION', false),
    allowLocalAddresses: r.bool('IRP_ALLOW_LOCAL_ADDRESSES', false),
    adminPassword: r.optional('IRP_ADMIN_PASSWORD'),
    masterKey: parseMasterKey(r, r.optional('IRP_MASTER_KEY')),
    tlsCertFile,
    tlsKeyFile,
    caCertFile,
    caKeyFile,
    caAlgorithm: r.oneOf('IRP_CA_ALGORITHM', ['P-384', 'P-256', 'RSA-4096'] as const, 'P-384'),
    certApproval: r.oneOf('IRP_CERT_APPROVAL', ['auto', 'manual'] as const, 'auto'),
    maxCertDays: r.int('IRP_MAX_CERT_DAYS', 365, 1, 3650),
    authTimeoutSeconds: r.int('IRP_AUTH_TIMEOUT_SECONDS', 30, 1, 3600),
    idleTimeoutSeconds: r.int('IRP_IDLE_TIMEOUT_SECONDS', 600, 1, 86400),
    handshakeTimeoutSeconds: r.int('IRP_HANDSHAKE_TIMEOUT_SECONDS', 10, 1, 120),
    maxFrameBytes: r.int('IRP_MAX_FRAME_BYTES', 1_048_576, 1024, 64 * 1_048_576),
    maxDepth: r.int('IRP_MAX_DEPTH', 16, 4, 256),
    maxElements: r.int('IRP_MAX_ELEMENTS', 10_000, 16, 1_000_000),
    maxTextBytes: r.int('IRP_MAX_TEXT_BYTES', 262_144, 1024, 64 * 1_048_576),
    maxSubscriptions: r.int('IRP_MAX_SUBSCRIPTIONS', 1000, 0, 1_000_000),
    maxBindingsPerUser: r.int('IRP_MAX_BINDINGS_PER_USER', 16, 1, 1024),
    addressMinExpirySeconds: r.int('IRP_ADDRESS_MIN_EXPIRY_SECONDS', 60, 1, 60),
    addressPurgeIntervalMs: r.int('IRP_ADDRESS_PURGE_INTERVAL_MS', 1000, 50, 60_000),
    maxPkcs12PerUser: r.int('IRP_MAX_PKCS12_PER_USER', 20, 0, 10_000),
    maxSessions: r.int('IRP_MAX_SESSIONS', 100_000, 1, 10_000_000),
    rateLoginPerMin: r.int('IRP_RATE_LOGIN_PER_MIN', 60, 1, 1_000_000),
    rateRegisterPerMin: r.int('IRP_RATE_REGISTER_PER_MIN', 10, 1, 1_000_000),
    shutdownGraceSeconds: r.int('IRP_SHUTDOWN_GRACE_SECONDS', 10, 0, 600),
    shutdownRetryAfterSeconds: r.int('IRP_SHUTDOWN_RETRY_AFTER', 30, 0, 86400),
    logLevel: r.oneOf(
      'IRP_LOG_LEVEL',
      ['error', 'warn', 'log', 'debug', 'verbose'] as const,
      'log',
    ),
  };
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}
