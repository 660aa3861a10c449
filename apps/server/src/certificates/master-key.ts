import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type LoggerService } from '@nestjs/common';
import { parseMasterKey } from '@irp/pki';
import { type IrpConfig } from '../config/config.schema.js';

/** The file that holds the master key when `IRP_MASTER_KEY` is unset. */
export const MASTER_KEY_FILE = 'master.key';

/**
 * The 32-byte key that encrypts the CA keys at rest (AES-256-GCM, issue 4):
 * `IRP_MASTER_KEY`, else `<IRP_DATA_DIR>/master.key` — generated at first start with
 * mode 0600 (exclusive create, so instances sharing the directory agree on one key)
 * and announced with a warning. The key itself is never logged.
 */
export async function loadMasterKey(
  config: Pick<IrpConfig, 'masterKey' | 'dataDir'>,
  log: LoggerService,
): Promise<Uint8Array> {
  if (config.masterKey) return config.masterKey;
  if (config.dataDir === 'memory') {
    log.warn(
      'IRP_MASTER_KEY is not set and the data directory is in memory: using a throw-away key',
    );
    return randomBytes(32);
  }
  const path = join(config.dataDir, MASTER_KEY_FILE);
  try {
    return await readKeyFile(path, log);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  try {
    await writeFile(path, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // another instance created it first: use theirs
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readKeyFile(path, log);
    throw error;
  }
  log.warn(
    `IRP_MASTER_KEY is not set: generated ${path} (mode 0600) to encrypt the CA keys. ` +
      'Back it up, or set IRP_MASTER_KEY: without it the CA key cannot be decrypted.',
  );
  return key;
}

async function readKeyFile(path: string, log: LoggerService): Promise<Uint8Array> {
  const text = await readFile(path, 'utf8');
  const mode = (await stat(path)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    log.warn(`${path} is readable by others (mode ${mode.toString(8)}): chmod 600 it`);
  }
  try {
    return parseMasterKey(text);
  } catch {
    throw new Error(`${path} does not hold a master key (64 hex digits or base64 of 32 bytes)`);
  }
}
