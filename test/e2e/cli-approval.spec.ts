import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificatesService } from '../../apps/server/src/certificates/certificates.service.js';
import { assertCliBuilt, Machine, startCliTestServer } from './cli-support.js';
import { OPERATOR } from './identity-support.js';

/**
 * A server that requires operator approval of certificates (spec §9: 1001 with
 * `<request status="pending"/>`): `irp cert request` keeps the key and says so,
 * `irp cert fetch` installs the certificate once an operator approved it.
 */
describe('irp: certificate requests awaiting approval', () => {
  let server: Awaited<ReturnType<typeof startCliTestServer>>;
  let frank: Machine;

  beforeAll(async () => {
    await assertCliBuilt();
    server = await startCliTestServer({ IRP_CERT_APPROVAL: 'manual' });
    frank = await Machine.create('frank', { IRP_PASSWORD: 'frank-Long-Password-5' });
  });
  afterAll(async () => {
    await server?.close();
    await frank?.dispose();
  });

  it('keeps the key of a pending request and installs the certificate after approval', async () => {
    expect(
      (await frank.run(['register', 'frank', '--server', server.serverArg, '--ca', server.caFile]))
        .code,
    ).toBe(0);
    const pending = await frank.json<{ pending: boolean; request: { id: string; status: string } }>(
      ['cert', 'request'],
    );
    expect(pending).toMatchObject({ pending: true, request: { status: 'pending' } });
    const human = await frank.run(['cert', 'fetch']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('not approved yet');
    expect((await frank.json<{ method: string }>(['whoami'])).method).toBe('upa');

    await server.app.get(CertificatesService).approveRequest(OPERATOR, pending.request.id);
    const fetched = await frank.json<{ installed: string[] }>(['cert', 'fetch']);
    expect(fetched.installed).toHaveLength(1);
    expect((await frank.json<{ method: string }>(['whoami'])).method).toBe('sca');
  });
});
