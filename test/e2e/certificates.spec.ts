import { spawn } from 'node:child_process';
import { createServer as netServer } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IrpClient } from '@irp/client';
import { type CertificateInfo, type IrpNotify, ResultCode } from '@irp/protocol';
import { CaTlsCredentials } from '../../apps/server/src/certificates/ca-tls-credentials.js';
import { openssl } from '../support/openssl.js';
import { type TestServer } from '../support/test-server.js';
import {
  P256,
  PASSWORD,
  type Scratch,
  createUser,
  httpGet,
  loginUpa,
  ok,
  opensslCsr,
  scratch,
  startPkiServer,
} from './certificates-support.js';

/** A free TCP port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = netServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * `openssl s_server -Verify 1 -CAfile <chain> -crl_check -verify_return_error` with the given CRL, and one
 * `openssl s_client` with the client certificate: did the server accept the client?
 */
async function sServerAccepts(
  dir: Scratch,
  clientCert: string,
  clientKey: string,
  crlPem: string,
): Promise<{ accepted: boolean; output: string }> {
  const port = await freePort();
  await dir.write('crl-now.pem', crlPem);
  const server = spawn(
    'openssl',
    [
      's_server',
      '-accept',
      `127.0.0.1:${port}`,
      '-cert',
      dir.file('sserver.crt'),
      '-key',
      dir.file('sserver.key'),
      '-Verify',
      '1',
      '-CAfile',
      dir.file('chain.pem'),
      '-crl_check',
      // without it s_server reports verify errors but carries on
      '-verify_return_error',
      '-CRL',
      dir.file('crl-now.pem'),
      '-www',
      '-naccept',
      '1',
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let serverOutput = '';
  server.stdout.on('data', (d: Buffer) => (serverOutput += d.toString()));
  server.stderr.on('data', (d: Buffer) => (serverOutput += d.toString()));
  try {
    const deadline = Date.now() + 10_000;
    while (!serverOutput.includes('ACCEPT') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const client = await openssl(
      [
        's_client',
        '-connect',
        `127.0.0.1:${port}`,
        '-cert',
        clientCert,
        '-key',
        clientKey,
        '-quiet',
        '-ign_eof',
      ],
      'GET / HTTP/1.0\r\n\r\n',
    );
    return {
      accepted: /HTTP\/1\.0 200 ok/i.test(client.output),
      output: `${client.output}\n--- s_server ---\n${serverOutput.replace(/Ciphers supported[\s\S]*?(?=\n[A-Z-]{3,}|$)/, '…')}`,
    };
  } finally {
    server.kill('SIGKILL');
  }
}

function notifiesOf(client: IrpClient): IrpNotify[] {
  const notifies: IrpNotify[] = [];
  client.on('notify', (n) => notifies.push(n));
  return notifies;
}

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the domain CA and the certificate lifecycle over IRP, judged by openssl (spec §6.2, §9)', () => {
  let server: TestServer;
  let dir: Scratch;
  /** The P-256 certificate issued from an openssl CSR. */
  let issued: CertificateInfo;
  let certPath: string;
  let keyPath: string;

  beforeAll(async () => {
    server = await startPkiServer();
    dir = await scratch();
    await createUser(server, 'alice', { displayName: 'Alice Liddell', email: 'alice@example.com' });
    await createUser(server, 'bob', { displayName: 'Bob' });
    const chain = await httpGet(`${server.httpUrl}/pki/ca.pem`);
    await dir.write('chain.pem', chain.body);
    await dir.write('root.pem', server.serverCa);
    // a server certificate for openssl s_server (self-signed: s_client does not verify it)
    await ok([
      'req',
      '-x509',
      '-nodes',
      ...P256,
      '-keyout',
      dir.file('sserver.key'),
      '-out',
      dir.file('sserver.crt'),
      '-subj',
      '/CN=localhost',
      '-days',
      '1',
    ]);
  });
  afterAll(async () => {
    await server?.close();
    await dir?.remove();
  });

  it('serves the CA chain over IRP before login and at GET /pki/ca.pem; openssl verifies it', async () => {
    const client = await server.connect();
    const data = await client.call({ cmd: 'getCACertificates' });
    const [issuing, root] = data.certificates ?? [];
    expect(data.certificates).toHaveLength(2);
    // PEM text comes back trimmed (spec §3)
    expect(root?.pem).toBe(server.serverCa.trim());
    expect(data.crlUrl).toMatch(/\/pki\/crl$/);
    expect(data.ocspUrl).toMatch(/\/pki\/ocsp$/);
    const http = await httpGet(`${server.httpUrl}/pki/ca.pem`);
    expect(http.type).toContain('application/pem-certificate-chain');
    expect(http.body.toString()).toBe(`${issuing?.pem ?? ''}\n${root?.pem ?? ''}\n`);
    await dir.write('issuing.pem', issuing?.pem ?? '');
    expect(
      await ok(['verify', '-CAfile', dir.file('root.pem'), dir.file('issuing.pem')]),
    ).toContain('OK');
    // the issuing CA is P-384 by default (IRP_CA_ALGORITHM)
    expect(await ok(['x509', '-in', dir.file('issuing.pem'), '-noout', '-text'])).toMatch(
      /NIST CURVE: P-384|secp384r1/,
    );
    await client.close();
  });

  it('issues from an openssl P-256 CSR a certificate openssl verifies, built from the directory, not the CSR', async () => {
    const csr = await opensslCsr(dir, 'alice', P256);
    keyPath = csr.keyPath;
    const client = await loginUpa(server, 'alice');
    const response = await client.request({
      cmd: 'requestCertificate',
      profile: 'user',
      key: { kind: 'csr', csr: csr.csrPem },
      validityDays: 100_000,
    });
    expect(response.result.code).toBe(ResultCode.Success);
    if (!('data' in response) || !response.data.certificate) throw new Error('no certificate');
    issued = response.data.certificate;
    expect(issued.status).toBe('valid');
    expect(issued.profile).toBe('user');
    expect(issued.serial).toMatch(/^[0-7][0-9a-f]{31}$/);
    expect(issued.sha256).toMatch(/^[0-9a-f]{64}$/);
    // validityDays above maxCertificateDays (365) is clamped
    expect(issued.notAfter.getTime() - Date.now()).toBeLessThanOrEqual(365 * 86_400_000 + 5000);
    expect(issued.notAfter.getTime() - Date.now()).toBeGreaterThan(364 * 86_400_000);
    expect(response.data.chain?.map((c) => `${c.pem}\n`).join('')).toBe(
      (await dir.read('chain.pem')).toString(),
    );
    certPath = await dir.write('alice.crt', issued.pem ?? '');

    expect(
      await ok([
        'verify',
        '-CAfile',
        dir.file('root.pem'),
        '-untrusted',
        dir.file('issuing.pem'),
        '-purpose',
        'sslclient',
        certPath,
      ]),
    ).toContain(`${certPath}: OK`);
    const text = await ok(['x509', '-in', certPath, '-noout', '-text']);
    expect(text).toMatch(
      /Extended Key Usage:\s*\n\s*TLS Web Client Authentication, E-mail Protection\n/,
    );
    expect(text).toMatch(
      /Subject Alternative Name:\s*\n\s*email:alice@example.com, URI:irp:alice@example.com\n/,
    );
    expect(text).toMatch(/Subject: CN ?= ?Alice Liddell\n/);
    expect(text).not.toMatch(/Mallory|Evil|mallory|Code Signing|TLS Web Server/);
    expect(text).toContain(`URI:${server.config.publicHttpUrl}/pki/crl`);
    expect(text).toContain(`OCSP - URI:${server.config.publicHttpUrl}/pki/ocsp`);
    const serial = (await ok(['x509', '-in', certPath, '-noout', '-serial'])).trim();
    expect(serial).toBe(`serial=${issued.serial.toUpperCase()}`);
    // 16 octets in the DER INTEGER: 02 10 …
    const der = Buffer.from((issued.pem ?? '').replace(/-----[^-]+-----|\s/g, ''), 'base64');
    expect(
      der.includes(Buffer.concat([Buffer.from([0x02, 0x10]), Buffer.from(issued.serial, 'hex')])),
    ).toBe(true);
    const fingerprint = await ok(['x509', '-in', certPath, '-noout', '-fingerprint', '-sha256']);
    expect(fingerprint.replace(/^.*=|:|\s/g, '').toLowerCase()).toBe(issued.sha256);
    await client.close();
  });

  it('refuses an RSA-1024 key with 2306 and a CSR whose signature does not verify with 2005', async () => {
    const client = await loginUpa(server, 'alice');
    const weak = await opensslCsr(dir, 'weak', ['-newkey', 'rsa:1024']);
    const r1 = await client.request({
      cmd: 'requestCertificate',
      profile: 'device',
      key: { kind: 'csr', csr: weak.csrPem },
    });
    expect(r1.result.code).toBe(ResultCode.PolicyError);

    const good = await opensslCsr(dir, 'tampered', P256);
    const der = Buffer.from(good.csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 1] = (der[der.length - 1] ?? 0) ^ 0x01; // the last octet of the signature
    const r2 = await client.request({
      cmd: 'requestCertificate',
      profile: 'device',
      key: { kind: 'csr', csr: der.toString('base64') },
    });
    expect(r2.result.code).toBe(ResultCode.ValueSyntax);
    expect(await client.call({ cmd: 'listCertificates' })).toMatchObject({
      certificates: [{ serial: issued.serial }],
    });
    await client.close();
  });

  it('logs in with SCA after the greeting said valid; setAuthPolicy then disables UPA (2200)', async () => {
    const cert = await dir.read('alice.crt');
    const key = await dir.read('alice.key');
    const sca = await server.connect({ cert, key });
    expect(sca.greeting.clientCertificate).toEqual({ status: 'valid', user: 'alice@example.com' });
    const login = await sca.call({ cmd: 'login', method: 'sca' });
    expect(login.session).toMatchObject({ method: 'sca', user: 'alice@example.com' });

    // only an SCA session may change the policy
    const upa = await loginUpa(server, 'alice');
    expect((await upa.request({ cmd: 'setAuthPolicy', upa: false })).result.code).toBe(
      ResultCode.AuthorizationError,
    );
    await upa.close();

    const off = await sca.call({ cmd: 'setAuthPolicy', upa: false });
    expect(off.user?.upaEnabled).toBe(false);
    const refused = await server.connect();
    const r = await refused.request({
      cmd: 'login',
      method: 'upa',
      user: 'alice',
      password: PASSWORD,
    });
    expect(r.result.code).toBe(ResultCode.AuthenticationError);
    await refused.close();

    expect((await sca.call({ cmd: 'setAuthPolicy', upa: true })).user?.upaEnabled).toBe(true);
    await (await loginUpa(server, 'alice')).close();
    await sca.close();
  });

  it('openssl s_server -Verify 1 -crl_check accepts the issued client certificate', async () => {
    const crl = await httpGet(`${server.httpUrl}/pki/crl`);
    await dir.write('crl0.der', crl.body);
    const pem = await ok(['crl', '-inform', 'DER', '-in', dir.file('crl0.der')]);
    const result = await sServerAccepts(dir, certPath, keyPath, pem);
    expect(result.accepted, result.output).toBe(true);
  });

  it('revokeCertificate takes effect at once: session closed, SCA 2200, OCSP revoked, CRL lists it, s_server refuses', async () => {
    const cert = await dir.read('alice.crt');
    const key = await dir.read('alice.key');
    const sca = await server.connect({ cert, key });
    await sca.call({ cmd: 'login', method: 'sca' });
    const sessionNotifies = notifiesOf(sca);
    const other = await loginUpa(server, 'alice');
    const otherNotifies = notifiesOf(other);
    const crlBefore = await httpGet(`${server.httpUrl}/pki/crl`);
    await dir.write('crl-before.der', crlBefore.body);

    const revoked = await sca.call({
      cmd: 'revokeCertificate',
      serial: issued.serial.toUpperCase(),
      reason: 'keyCompromise',
    });
    expect(revoked.certificate).toMatchObject({
      serial: issued.serial,
      status: 'revoked',
      reason: 'keyCompromise',
    });
    // the revoking SCA session is closed after its response (spec §6.6) …
    await until('the SCA session to close', () => sca.isClosed);
    expect(sessionNotifies).toContainEqual({ event: 'session', reason: 'revoked' });
    // … and the owner's other sessions are told (spec §9)
    await until('the certificate notify', () => otherNotifies.length > 0);
    expect(otherNotifies[0]).toMatchObject({
      event: 'certificate',
      certificate: { serial: issued.serial, status: 'revoked' },
    });
    expect(other.isClosed).toBe(false);
    await other.close();

    // SCA: the greeting says revoked, login → 2200
    const again = await server.connect({ cert, key });
    expect(again.greeting.clientCertificate).toEqual({
      status: 'revoked',
      user: 'alice@example.com',
    });
    const login = await again.request({ cmd: 'login', method: 'sca' });
    expect(login.result.code).toBe(ResultCode.AuthenticationError);
    await again.close();

    // certificateStatus
    const bob = await loginUpa(server, 'bob');
    const status = await bob.call({
      cmd: 'certificateStatus',
      query: { by: 'serial', serial: issued.serial },
    });
    expect(status.certificate).toMatchObject({
      serial: issued.serial,
      sha256: issued.sha256,
      status: 'revoked',
      reason: 'keyCompromise',
    });
    // another user no longer gets it
    const gone = await bob.request({
      cmd: 'getCertificate',
      query: { by: 'serial', serial: issued.serial },
    });
    expect(gone.result.code).toBe(ResultCode.ObjectDoesNotExist);
    await bob.close();

    // OCSP (POST), openssl as the client
    const ocsp = await openssl([
      'ocsp',
      '-issuer',
      dir.file('issuing.pem'),
      '-cert',
      certPath,
      '-url',
      `${server.httpUrl}/pki/ocsp`,
      '-CAfile',
      dir.file('chain.pem'),
      '-resp_text',
    ]);
    expect(ocsp.output).toContain('Response verify OK');
    expect(ocsp.output).toContain(`${certPath}: revoked`);
    expect(ocsp.output).toMatch(/Reason: keyCompromise/);

    // CRL: DER, application/pkix-crl, lists the serial, number increased, signed by the issuing CA
    const crl = await httpGet(`${server.httpUrl}/pki/crl`);
    expect(crl.status).toBe(200);
    expect(crl.type).toBe('application/pkix-crl');
    await dir.write('crl.der', crl.body);
    const text = await ok([
      'crl',
      '-inform',
      'DER',
      '-in',
      dir.file('crl.der'),
      '-noout',
      '-text',
      '-CAfile',
      dir.file('chain.pem'),
    ]);
    expect(text).toContain(`Serial Number: ${issued.serial.toUpperCase()}`);
    expect(text).toMatch(/Key Compromise/);
    expect(text).toMatch(/Next Update: /);
    const numberOf = (t: string): number => Number(/CRL Number:\s*\n\s*(\d+)/.exec(t)?.[1]);
    const before = await ok([
      'crl',
      '-inform',
      'DER',
      '-in',
      dir.file('crl-before.der'),
      '-noout',
      '-text',
    ]);
    expect(numberOf(text)).toBeGreaterThan(numberOf(before));
    expect(
      await ok([
        'crl',
        '-inform',
        'DER',
        '-in',
        dir.file('crl.der'),
        '-noout',
        '-CAfile',
        dir.file('chain.pem'),
      ]),
    ).toMatch(/verify OK/);

    // openssl s_server with the new CRL refuses the certificate
    const pem = await ok(['crl', '-inform', 'DER', '-in', dir.file('crl.der')]);
    const result = await sServerAccepts(dir, certPath, keyPath, pem);
    expect(result.accepted, result.output).toBe(false);
    expect(result.output).toMatch(/certificate revoked/i);

    // revoking it again → 2304
    const alice = await loginUpa(server, 'alice');
    const twice = await alice.request({ cmd: 'revokeCertificate', serial: issued.serial });
    expect(twice.result.code).toBe(ResultCode.StatusProhibits);
    await alice.close();
  });

  it('answers OCSP GET requests (RFC 6960 A.1) and good for a valid certificate', async () => {
    const alice = await loginUpa(server, 'alice');
    const csr = await opensslCsr(dir, 'alice2', P256);
    const fresh = await alice.call({
      cmd: 'requestCertificate',
      profile: 'device',
      key: { kind: 'csr', csr: csr.csrPem },
    });
    const path = await dir.write('alice2.crt', fresh.certificate?.pem ?? '');
    await ok([
      'ocsp',
      '-issuer',
      dir.file('issuing.pem'),
      '-cert',
      path,
      '-reqout',
      dir.file('req.der'),
      '-no_nonce',
    ]);
    const request = await dir.read('req.der');
    const response = await httpGet(
      `${server.httpUrl}/pki/ocsp/${encodeURIComponent(request.toString('base64'))}`,
    );
    expect(response.type).toBe('application/ocsp-response');
    await dir.write('resp.der', response.body);
    const out = await ok([
      'ocsp',
      '-respin',
      dir.file('resp.der'),
      '-issuer',
      dir.file('issuing.pem'),
      '-cert',
      path,
      '-CAfile',
      dir.file('chain.pem'),
    ]);
    expect(out).toContain(`${path}: good`);
    // a serial the CA never issued → unknown
    const unknown = await openssl([
      'ocsp',
      '-issuer',
      dir.file('issuing.pem'),
      '-serial',
      '0x0123456789abcdef0123456789abcdef',
      '-url',
      `${server.httpUrl}/pki/ocsp`,
      '-CAfile',
      dir.file('chain.pem'),
    ]);
    expect(unknown.output).toMatch(/: unknown/);
    await alice.close();
  });

  it('keygen returns a PKCS#12 that openssl pkcs12 opens with the passphrase, holding key and certificate', async () => {
    const alice = await loginUpa(server, 'alice');
    const passphrase = ' spaces kept exactly ';
    const data = await alice.call({
      cmd: 'requestCertificate',
      profile: 'device',
      key: { kind: 'keygen', algorithm: 'P-256', passphrase },
    });
    expect(data.pkcs12).toBeInstanceOf(Uint8Array);
    expect(data.certificate?.status).toBe('valid');
    await dir.write('keygen.p12', data.pkcs12 ?? new Uint8Array());
    const out = await ok([
      'pkcs12',
      '-in',
      dir.file('keygen.p12'),
      '-passin',
      `pass:${passphrase}`,
      '-nodes',
    ]);
    expect(out).toContain('-----BEGIN PRIVATE KEY-----');
    expect(out).toContain(data.certificate?.pem?.trim().split('\n')[1] ?? 'missing');
    const wrong = await openssl([
      'pkcs12',
      '-in',
      dir.file('keygen.p12'),
      '-passin',
      'pass:wrong',
      '-nodes',
    ]);
    expect(wrong.code).not.toBe(0);
    // the key in the file belongs to the certificate, and the certificate works for SCA
    await dir.write('keygen.pem', out);
    const sca = await server.connect({ pfx: data.pkcs12 && Buffer.from(data.pkcs12), passphrase });
    expect(sca.greeting.clientCertificate.status).toBe('valid');
    await sca.close();
    await alice.close();
  });

  it('renews: the old certificate becomes superseded, its SCA session stays open', async () => {
    const csr = await opensslCsr(dir, 'renew-old', P256);
    const alice = await loginUpa(server, 'alice');
    const old = await alice.call({
      cmd: 'requestCertificate',
      profile: 'user',
      key: { kind: 'csr', csr: csr.csrPem },
    });
    const sca = await server.connect({
      cert: old.certificate?.pem ?? '',
      key: await dir.read('renew-old.key'),
    });
    await sca.call({ cmd: 'login', method: 'sca' });
    const next = await opensslCsr(dir, 'renew-new', P256);
    const renewed = await sca.call({
      cmd: 'requestCertificate',
      profile: 'user',
      key: { kind: 'csr', csr: next.csrPem },
      renews: old.certificate?.serial ?? '',
    });
    expect(renewed.certificate?.status).toBe('valid');
    const list = await alice.call({ cmd: 'listCertificates' });
    expect(list.certificates?.find((c) => c.serial === old.certificate?.serial)).toMatchObject({
      status: 'superseded',
      reason: 'superseded',
    });
    await sca.ping();
    expect(sca.isClosed).toBe(false);
    const crl = await httpGet(`${server.httpUrl}/pki/crl`);
    await dir.write('crl-renew.der', crl.body);
    expect(
      await ok(['crl', '-inform', 'DER', '-in', dir.file('crl-renew.der'), '-noout', '-text']),
    ).toContain(`Serial Number: ${old.certificate?.serial.toUpperCase() ?? '?'}`);
    await sca.close();
    await alice.close();
  });

  it('renews the listener certificate from the CA and swaps it in without a restart', async () => {
    const peerSerial = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket = tlsConnect({
          host: '127.0.0.1',
          port: server.irpPort,
          ca: server.serverCa,
          ALPNProtocols: ['irp/1'],
        });
        socket.once('secureConnect', () => {
          const serial = socket.getPeerCertificate().serialNumber;
          socket.destroy();
          resolve(serial.toLowerCase());
        });
        socket.once('error', reject);
      });
    const tls = server.app.get(CaTlsCredentials);
    const before = await peerSerial();
    expect(before).toBe(tls.certificate?.serialHex);
    await tls.renew();
    const after = await peerSerial();
    expect(after).not.toBe(before);
    expect(after).toBe(tls.certificate?.serialHex);
    // the listener's certificate is one of the CA's: OCSP knows it
    const bob = await loginUpa(server, 'bob');
    expect(
      (await bob.call({ cmd: 'certificateStatus', query: { by: 'serial', serial: after } }))
        .certificate?.status,
    ).toBe('valid');
    await bob.close();
  });
});
