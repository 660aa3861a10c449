import { chmod, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError } from '../cli/cli.error.js';

/** A DIR endpoint. */
export interface ServerTarget {
  host: string;
  port: number;
}

/** What is remembered about one identity (profile `alice@example.com`); never a secret. */
export interface ProfileData {
  /** The IRP address, `userId@domain` (also the profile's name). */
  address: string;
  userId: string;
  domain: string;
  /** Where the DIR is; absent means DNS SRV of `domain` (spec §1). */
  server?: ServerTarget;
  /** TLS name to verify when it is not the host name. */
  tlsName?: string;
  createdAt: string;
}

/** The key and certificate the profile authenticates with (SCA, peers, signed bindings). */
export interface LocalCredentials {
  keyPem: string;
  certPem: string;
  /** The CA chain from the issuer up to the root (spec §9 `<chain>`). */
  chainPem: string[];
}

/** How `irp` trusts one server: decided at first use, or from `--ca FILE`. */
export interface TrustRecord {
  host: string;
  port: number;
  /** The TLS name verified (when not the host name). */
  tlsName?: string;
  /**
   * `domain-ca`: the server certificate chains to the domain CA, which is trusted;
   * `server-certificate`: no domain CA vouches for it, so the certificate itself is pinned;
   * `ca-file`: given with `--ca`.
   */
  kind: 'domain-ca' | 'server-certificate' | 'ca-file';
  /** PEM the server's TLS certificate is verified against. */
  anchorsPem: string;
  /** Subject and SHA-256 fingerprint of the trusted certificate, as shown at first use. */
  subject: string;
  sha256: string;
  /** The domain the server said it serves. */
  domain?: string;
  acceptedAt: string;
}

interface ConfigFile {
  current?: string;
}

const PRIVATE_FILE = 0o600;
const PRIVATE_DIR = 0o700;
const ADDRESS_RE = /^[a-z0-9][a-z0-9._-]{0,63}@[a-z0-9.-]{1,253}$/;

/**
 * The configuration directory of `irp`: `$IRP_CONFIG_DIR`, else
 * `$XDG_CONFIG_HOME/irp`, else `~/.config/irp`.
 */
export function defaultConfigDir(env: Readonly<Record<string, string | undefined>>): string {
  if (env.IRP_CONFIG_DIR) return env.IRP_CONFIG_DIR;
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'irp');
  return join(homedir(), '.config', 'irp');
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw CliError.local(`cannot read ${path}: ${(e as Error).message}`);
  }
}

async function readJson<T>(path: string): Promise<T | undefined> {
  const text = await readText(path);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw CliError.local(`${path} is not valid JSON`, ['remove or repair it']);
  }
}

/** Writes a file readable by the owner only (keys: spec of the CLI, mode 0600). */
export async function writePrivateFile(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data, { mode: PRIVATE_FILE });
  await chmod(tmp, PRIVATE_FILE); // the umask may have narrowed it; never widen beyond 0600
  await rename(tmp, path);
}

/**
 * The on-disk state of `irp`, all under one directory (mode 0700):
 *
 * ```
 * config.json                      {"current": "alice@example.com"}
 * profiles/<address>/profile.json  ProfileData
 * profiles/<address>/key.pem       private key, PKCS#8 PEM, mode 0600
 * profiles/<address>/cert.pem      the certificate
 * profiles/<address>/chain.pem     the domain CA chain (issuer first)
 * profiles/<address>/pending/<request id>.key.pem   keys awaiting operator approval
 * trust/<host>_<port>.json         TrustRecord
 * ```
 */
export class ProfileStore {
  constructor(readonly dir: string) {}

  private profileDir(address: string): string {
    if (!ADDRESS_RE.test(address)) throw CliError.usage(`not an IRP address: ${address}`);
    return join(this.dir, 'profiles', address);
  }

  private trustPath(target: ServerTarget): string {
    return join(
      this.dir,
      'trust',
      `${target.host.replace(/[^A-Za-z0-9.-]/g, '_')}_${target.port}.json`,
    );
  }

  private async ensureDir(path: string): Promise<void> {
    await mkdir(path, { recursive: true, mode: PRIVATE_DIR });
  }

  /** The current profile's address, if any. */
  async current(): Promise<string | undefined> {
    return (await readJson<ConfigFile>(join(this.dir, 'config.json')))?.current;
  }

  /** Makes a profile the current one. */
  async setCurrent(address: string): Promise<void> {
    await this.ensureDir(this.dir);
    const config = (await readJson<ConfigFile>(join(this.dir, 'config.json'))) ?? {};
    config.current = address;
    await writePrivateFile(join(this.dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  }

  /** Every profile, sorted by address. */
  async list(): Promise<ProfileData[]> {
    let names: string[];
    try {
      names = await readdir(join(this.dir, 'profiles'));
    } catch {
      return [];
    }
    const profiles: ProfileData[] = [];
    for (const name of names.sort()) {
      if (!ADDRESS_RE.test(name)) continue;
      const p = await this.load(name);
      if (p) profiles.push(p);
    }
    return profiles;
  }

  /**
   * The profile named by an IRP address, or by a user id when exactly one
   * profile has it.
   * @throws CliError (usage) when a user id is ambiguous
   */
  async find(selector: string): Promise<ProfileData | undefined> {
    const wanted = selector.toLowerCase();
    if (wanted.includes('@')) return ADDRESS_RE.test(wanted) ? this.load(wanted) : undefined;
    const matches = (await this.list()).filter((p) => p.userId === wanted);
    if (matches.length > 1) {
      throw CliError.usage(`${selector} names several profiles`, [
        `use the full address: ${matches.map((m) => m.address).join(', ')}`,
      ]);
    }
    return matches[0];
  }

  /** One profile, or undefined. */
  async load(address: string): Promise<ProfileData | undefined> {
    return readJson<ProfileData>(join(this.profileDir(address), 'profile.json'));
  }

  /** Creates or updates a profile. */
  async save(profile: ProfileData): Promise<void> {
    const dir = this.profileDir(profile.address);
    await this.ensureDir(dir);
    await writePrivateFile(join(dir, 'profile.json'), `${JSON.stringify(profile, null, 2)}\n`);
  }

  /** Deletes a profile with its keys. */
  async remove(address: string): Promise<void> {
    await rm(this.profileDir(address), { recursive: true, force: true });
    if ((await this.current()) === address) {
      const config = (await readJson<ConfigFile>(join(this.dir, 'config.json'))) ?? {};
      delete config.current;
      await writePrivateFile(join(this.dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    }
  }

  /** Path of a file of a profile (for messages). */
  path(address: string, file: string): string {
    return join(this.profileDir(address), file);
  }

  /** The profile's key and certificate, if it has both. */
  async credentials(address: string): Promise<LocalCredentials | undefined> {
    const dir = this.profileDir(address);
    const [keyPem, certPem, chain] = await Promise.all([
      readText(join(dir, 'key.pem')),
      readText(join(dir, 'cert.pem')),
      readText(join(dir, 'chain.pem')),
    ]);
    if (keyPem === undefined || certPem === undefined) return undefined;
    return { keyPem, certPem, chainPem: splitPemBlocks(chain ?? '') };
  }

  /** Stores key (0600), certificate and chain, replacing the previous ones. */
  async saveCredentials(address: string, credentials: LocalCredentials): Promise<void> {
    const dir = this.profileDir(address);
    await this.ensureDir(dir);
    await writePrivateFile(join(dir, 'key.pem'), credentials.keyPem);
    await writePrivateFile(join(dir, 'cert.pem'), credentials.certPem);
    await writePrivateFile(join(dir, 'chain.pem'), credentials.chainPem.join(''));
  }

  /** Stores the domain CA chain alone (when the profile has no certificate yet). */
  async saveChain(address: string, chainPem: readonly string[]): Promise<void> {
    const dir = this.profileDir(address);
    await this.ensureDir(dir);
    await writePrivateFile(join(dir, 'chain.pem'), chainPem.join(''));
  }

  /** The stored domain CA chain (possibly empty). */
  async chain(address: string): Promise<string[]> {
    return splitPemBlocks((await readText(join(this.profileDir(address), 'chain.pem'))) ?? '');
  }

  /** Moves the key and certificate aside (`retired/<label>.*.pem`), e.g. after revocation. */
  async retireCredentials(address: string, label: string): Promise<void> {
    const dir = this.profileDir(address);
    await this.ensureDir(join(dir, 'retired'));
    for (const file of ['key.pem', 'cert.pem']) {
      await rename(join(dir, file), join(dir, 'retired', `${label}.${file}`)).catch(
        (e: NodeJS.ErrnoException) => {
          if (e.code !== 'ENOENT') throw e;
        },
      );
    }
  }

  /** Keeps the key of a certificate request awaiting approval. */
  async savePendingKey(address: string, requestId: string, keyPem: string): Promise<void> {
    const dir = join(this.profileDir(address), 'pending');
    await this.ensureDir(dir);
    await writePrivateFile(
      join(dir, `${requestId.replace(/[^A-Za-z0-9._-]/g, '_')}.key.pem`),
      keyPem,
    );
  }

  /** Keys awaiting approval: request id → PEM. */
  async pendingKeys(address: string): Promise<Map<string, string>> {
    const dir = join(this.profileDir(address), 'pending');
    const keys = new Map<string, string>();
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return keys;
    }
    for (const name of names) {
      if (!name.endsWith('.key.pem')) continue;
      const pem = await readText(join(dir, name));
      if (pem !== undefined) keys.set(name.slice(0, -'.key.pem'.length), pem);
    }
    return keys;
  }

  /** Forgets a pending key. */
  async dropPendingKey(address: string, requestId: string): Promise<void> {
    await rm(join(this.profileDir(address), 'pending', `${requestId}.key.pem`), { force: true });
  }

  /** How the server at `target` is trusted, if it is. */
  async trust(target: ServerTarget): Promise<TrustRecord | undefined> {
    return readJson<TrustRecord>(this.trustPath(target));
  }

  /** Every trust record. */
  async trustList(): Promise<TrustRecord[]> {
    let names: string[];
    try {
      names = await readdir(join(this.dir, 'trust'));
    } catch {
      return [];
    }
    const records: TrustRecord[] = [];
    for (const name of names.sort()) {
      if (!name.endsWith('.json')) continue;
      const r = await readJson<TrustRecord>(join(this.dir, 'trust', name));
      if (r) records.push(r);
    }
    return records;
  }

  /** Remembers how to trust a server. */
  async saveTrust(record: TrustRecord): Promise<void> {
    await this.ensureDir(join(this.dir, 'trust'));
    await writePrivateFile(this.trustPath(record), `${JSON.stringify(record, null, 2)}\n`);
  }

  /** Forgets a server's trust; true when there was one. */
  async forgetTrust(target: ServerTarget): Promise<boolean> {
    const existed = (await this.trust(target)) !== undefined;
    await rm(this.trustPath(target), { force: true });
    return existed;
  }
}

/** The PEM blocks of a bundle, each with a trailing newline. */
export function splitPemBlocks(text: string): string[] {
  return (text.match(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g) ?? []).map(
    (b) => `${b}\n`,
  );
}
