import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ResultCode } from '@irp/protocol';
import { DataSource } from 'typeorm';
import {
  CERTIFICATE_TOPIC,
  type CertificateEvent,
  CertificateEventsService,
} from '../../apps/server/src/certificates/certificate-events.service.js';
import { ClientCertificateVerifier } from '../../apps/server/src/certificates/client-certificate-verifier.service.js';
import { EVENT_BUS, type EventBus } from '../../apps/server/src/events/event-bus.js';
import { UsersService } from '../../apps/server/src/identity/users.service.js';
import { type TestServer } from '../support/test-server.js';
import {
  OPERATOR,
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

  it('greets a known certificate without reading its record; a disable here, or a revocation made elsewhere, shows at the next greeting', async () => {
    await createUser(server, 'liam');
    const csr = await opensslCsr(dir, 'liam', P256);
    const upa = await loginUpa(server, 'liam');
    const issued = await upa.call({
      cmd: 'requestCertificate',
      profile: 'device',
      key: { kind: 'csr', csr: csr.csrPem },
    });
    await upa.close();
    const cert = Buffer.from(issued.certificate?.pem ?? '');
    const key = await dir.read('liam.key');
    const dataSource = server.app.get(DataSource);
    // the record is read as a prepared statement, on TypeORM's pool
    const pool = (dataSource.driver as unknown as { master: { query: (c: unknown) => unknown } })
      .master;
    const query = vi.spyOn(pool, 'query');
    const recordReads = () =>
      query.mock.calls.filter(([config]) =>
        /FROM irp_certificate c JOIN irp_user/.test((config as { text?: string }).text ?? ''),
      ).length;
    const greeting = async () => {
      const c = await server.connect({ cert, key });
      const status = c.greeting.clientCertificate;
      await c.close();
      return status;
    };
    try {
      expect(await greeting()).toEqual({ status: 'valid', user: 'liam@example.com' });
      const reads = recordReads();
      expect(reads).toBeGreaterThan(0); // the first greeting read it
      expect(await greeting()).toEqual({ status: 'valid', user: 'liam@example.com' });
      expect(recordReads()).toBe(reads); // from the cache
      // the user disabled on this instance: the next greeting knows (user-state cache)
      const users = server.app.get(UsersService);
      await users.disableUser(OPERATOR, 'liam');
      expect((await greeting())?.status).toBe('unknown');
      await users.enableUser(OPERATOR, 'liam');
      expect((await greeting())?.status).toBe('valid');
      // another instance revokes: its transaction updates the row and publishes the event
      const events = server.app.get(CertificateEventsService);
      const bus = server.app.get<EventBus>(EVENT_BUS);
      await dataSource.transaction(async (m) => {
        const rows = await m.query<{ id: string; user_key: string }[]>(
          `UPDATE irp_certificate SET revoked_at = now(), revocation_reason = 'keyCompromise'
           WHERE serial = $1 RETURNING id, user_key`,
          [issued.certificate?.serial],
        );
        const row = rows[0]!;
        const event: CertificateEvent = {
          k: 'revoked',
          u: row.user_key,
          c: row.id,
          s: issued.certificate?.serial ?? '',
          o: `not-${events.instanceId}`,
        };
        await bus.publish(m, CERTIFICATE_TOPIC, JSON.stringify(event));
      });
      const deadline = Date.now() + 1000;
      let status = await greeting();
      while (status?.status !== 'revoked' && Date.now() < deadline) status = await greeting();
      expect(status).toEqual({ status: 'revoked', user: 'liam@example.com' });
    } finally {
      query.mockRestore();
    }
  });
});
