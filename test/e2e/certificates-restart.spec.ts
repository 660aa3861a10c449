import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CaSigner, PkiError, decryptPrivateKey, parseCertificate, parseMasterKey } from '@irp/pki';
import { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { type TestServer } from '../support/test-server.js';
import {
  P256,
  createUser,
  loginUpa,
  opensslCsr,
  scratch,
  startPkiServer,
} from './certificates-support.js';

describe('the domain CA across restarts (issue 4)', () => {
  let database: TestDatabase | undefined;
  let dataDir: string | undefined;
  let server: TestServer | undefined;

  afterAll(async () => {
    await server?.close();
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps the CA (same root) over a restart; its keys are stored only encrypted under the master key', async () => {
    database = await createTestDatabase();
    dataDir = await mkdtemp(join(tmpdir(), 'irp-restart-'));
    const dir = await scratch();
    try {
      server = await startPkiServer({ IRP_CA_ALGORITHM: 'P-256' }, { database, dataDir });
      const first = server;
      await createUser(first, 'carol', { email: 'carol@example.com' });
      const client = await loginUpa(first, 'carol');
      const csr = await opensslCsr(dir, 'carol', P256);
      const issued = await client.call({
        cmd: 'requestCertificate',
        profile: 'device',
        key: { kind: 'csr', csr: csr.csrPem },
      });
      const rootBefore = parseCertificate(first.serverCa).sha256;

      // the master key file: generated (IRP_MASTER_KEY unset), mode 0600
      const keyFile = join(first.dataDir, 'master.key');
      expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
      const masterKey = parseMasterKey(await readFile(keyFile, 'utf8'));

      const [row] = await first.app.get(DataSource).query<
        {
          issuing_certificate: Buffer;
          issuing_key: Buffer;
          root_key: Buffer;
          chain_pem: string;
        }[]
      >('SELECT issuing_certificate, issuing_key, root_key, chain_pem FROM irp_ca');
      if (!row) throw new Error('no CA row');
      const issuing = parseCertificate(row.issuing_certificate);
      const root = parseCertificate(row.chain_pem);
      for (const [envelope, context] of [
        [row.issuing_key, `irp-ca:issuing:${issuing.sha256}`],
        [row.root_key, `irp-ca:root:${root.sha256}`],
      ] as const) {
        expect(envelope.subarray(0, 4).toString('latin1')).toBe('IRPK');
        // unreadable without the master key …
        expect(() => decryptPrivateKey(envelope, randomBytes(32), context)).toThrow(PkiError);
        // … and the plaintext PKCS#8 appears nowhere in the row
        const pkcs8 = Buffer.from(decryptPrivateKey(envelope, masterKey, context));
        expect(envelope.includes(pkcs8.subarray(-32))).toBe(false);
      }
      // with it, the issuing key is the key of the issuing certificate
      const signer = CaSigner.create({
        certificate: row.issuing_certificate,
        privateKey: decryptPrivateKey(
          row.issuing_key,
          masterKey,
          `irp-ca:issuing:${issuing.sha256}`,
        ),
      });
      expect(signer.certificate.sha256).toBe(issuing.sha256);
      await first.close();
      server = undefined;

      // restart on the same database and data directory: the same CA
      // (a different IRP_CA_ALGORITHM changes nothing: the CA exists)
      server = await startPkiServer({ IRP_CA_ALGORITHM: 'RSA-4096' }, { database, dataDir });
      expect(parseCertificate(server.serverCa).sha256).toBe(rootBefore);
      // a certificate issued before the restart still logs in with SCA
      const sca = await server.connect({
        cert: issued.certificate?.pem ?? '',
        key: await dir.read('carol.key'),
      });
      expect(sca.greeting.clientCertificate).toEqual({
        status: 'valid',
        user: 'carol@example.com',
      });
      await sca.call({ cmd: 'login', method: 'sca' });
      await sca.close();
    } finally {
      await dir.remove();
    }
  }, 90_000); // two server starts and openssl: slow when the whole suite shares 2 cores
});
