import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDomainCa, derToPem, parseMasterKey, type DomainCa } from '@irp/pki';
import { DomainCaService } from './domain-ca.service.js';
import { loadMasterKey } from './master-key.js';
import { startPkiServices, type PkiTestContext } from './testing/pki-testing.js';

const quiet = new Logger('test');
quiet.warn = () => undefined;

describe('the master key (issue 4)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'irp-master-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is generated once into <dataDir>/master.key with mode 0600 and read back after', async () => {
    const first = await loadMasterKey({ masterKey: undefined, dataDir: dir }, quiet);
    expect(first).toHaveLength(32);
    expect((await stat(join(dir, 'master.key'))).mode & 0o777).toBe(0o600);
    expect(parseMasterKey(await readFile(join(dir, 'master.key'), 'utf8'))).toEqual(first);
    expect(await loadMasterKey({ masterKey: undefined, dataDir: dir }, quiet)).toEqual(first);
    const given = randomBytes(32);
    expect(await loadMasterKey({ masterKey: given, dataDir: dir }, quiet)).toBe(given);
  });
});

describe('DomainCaService', () => {
  let t: PkiTestContext;
  beforeAll(async () => {
    t = await startPkiServices();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('creates exactly one CA when several instances start together on one database', async () => {
    await t.dataSource.query('DELETE FROM irp_crl');
    await t.dataSource.query('DELETE FROM irp_ca');
    const instances = [1, 2, 3].map(() => new DomainCaService(t.config, t.dataSource));
    const loaded = await Promise.all(instances.map((i) => i.ready()));
    const roots = new Set(loaded.map((ca) => ca.root.sha256));
    expect(roots.size).toBe(1);
    expect(await t.dataSource.query('SELECT count(*)::int AS n FROM irp_ca')).toEqual([{ n: 1 }]);
    expect(await t.dataSource.query('SELECT crl_number FROM irp_crl')).toEqual([
      { crl_number: '0' },
    ]);
    // a root and an issuing intermediate, with the configured algorithm
    expect(loaded[0]?.certificates.map((c) => c.isCa)).toEqual([true, true]);
    expect(loaded[0]?.signer.keyAlgorithm.label).toBe('ECDSA P-256');
  });

  it('cannot load the CA without its master key: start-up fails', async () => {
    const other = new DomainCaService({ ...t.config, masterKey: randomBytes(32) }, t.dataSource);
    await expect(other.ready()).rejects.toThrow(/cannot be decrypted/);
  });
});

describe('DomainCaService with an imported CA (IRP_CA_CERT/IRP_CA_KEY)', () => {
  let dir: string;
  let operatorCa: DomainCa;
  let t: PkiTestContext | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'irp-import-'));
    operatorCa = await createDomainCa({
      domain: 'example.com',
      algorithm: 'P-256',
      organization: 'Operator',
    });
    await writeFile(
      join(dir, 'ca.pem'),
      operatorCa.intermediate.certificatePem + operatorCa.root.certificatePem,
    );
    await writeFile(
      join(dir, 'ca.key'),
      derToPem(operatorCa.intermediate.privateKeyPkcs8Der, 'PRIVATE KEY'),
    );
    await writeFile(join(dir, 'other.pem'), operatorCa.root.certificatePem);
  });
  afterAll(async () => {
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('issues from the operator CA; the chain is the file; IRP_CA_CERT cannot later name another CA', async () => {
    t = await startPkiServices({
      IRP_CA_CERT: join(dir, 'ca.pem'),
      IRP_CA_KEY: join(dir, 'ca.key'),
    });
    const ca = t.domainCa.ca;
    expect(ca.certificates.map((c) => c.sha256)).toEqual([
      operatorCa.intermediate.sha256,
      operatorCa.root.sha256,
    ]);
    expect(ca.root.sha256).toBe(operatorCa.root.sha256);
    const [row] = await t.dataSource.query<
      {
        origin: string;
        root_key: Buffer | null;
      }[]
    >('SELECT origin, root_key FROM irp_ca');
    expect(row).toEqual({ origin: 'imported', root_key: null });
    const other = new DomainCaService(
      { ...t.config, caCertFile: join(dir, 'other.pem') },
      t.dataSource,
    );
    await expect(other.ready()).rejects.toThrow(/not the CA this deployment already uses/);
  });
});
