import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ResultCode } from '@irp/protocol';
import { ClientCertificateVerifier } from '../../apps/server/src/certificates/client-certificate-verifier.service.js';
import { type TestServer } from '../support/test-server.js';
import {
  P256,
  type Scratch,
  createUser,
  loginUpa,
  opensslCsr,
  scratch,
  startPkiServer,
} from './certificates-support.js';

/**
 * SCA over real TLS with the client-certificate cache (spec §6.2, §6.6): the chain's
 * signatures are checked once per certificate, yet a revocation takes effect for the
 * next connection at once — and for a connection that was greeted `valid` before it.
 */
describe('SCA login with a cached certificate verdict', () => {
  let server: TestServer;
  let dir: Scratch;

  beforeAll(async () => {
    server = await startPkiServer();
    dir = await scratch();
    await createUser(server, 'kate');
  });
  afterAll(async () => {
    await server?.close();
    await dir?.remove();
  });

  it('revoke → the next SCA login on a new connection answers 2200 although the crypto verdict is cached', async () => {
    const csr = await opensslCsr(dir, 'kate', P256);
    const upa = await loginUpa(server, 'kate');
    const issued = await upa.call({
      cmd: 'requestCertificate',
      profile: 'device',
      key: { kind: 'csr', csr: csr.csrPem },
    });
    const serial = issued.certificate?.serial ?? '';
    const cert = Buffer.from(issued.certificate?.pem ?? '');
    const key = await dir.read('kate.key');

    const verifier = server.app.get(ClientCertificateVerifier);
    const checks = vi.spyOn(
      verifier as unknown as { checkCertificate: (...args: unknown[]) => unknown },
      'checkCertificate',
    );
    try {
      const first = await server.connect({ cert, key });
      expect(first.greeting.clientCertificate).toEqual({
        status: 'valid',
        user: 'kate@example.com',
      });
      await first.call({ cmd: 'login', method: 'sca' });
      await first.close();
      // greeted `valid` before the revocation, logs in after it
      const greeted = await server.connect({ cert, key });
      expect(greeted.greeting.clientCertificate?.status).toBe('valid');

      await upa.call({ cmd: 'revokeCertificate', serial, reason: 'keyCompromise' });

      const late = await greeted.request({ cmd: 'login', method: 'sca' });
      expect(late.result.code).toBe(ResultCode.AuthenticationError);
      await greeted.close();
      const next = await server.connect({ cert, key });
      expect(next.greeting.clientCertificate).toEqual({
        status: 'revoked',
        user: 'kate@example.com',
      });
      const login = await next.request({ cmd: 'login', method: 'sca' });
      expect(login.result.code).toBe(ResultCode.AuthenticationError);
      await next.close();
      // every verdict after the first came from the cache
      expect(checks).toHaveBeenCalledTimes(1);
    } finally {
      checks.mockRestore();
      await upa.close();
    }
  });
});
