import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { testCa } from '../testing/fixtures.js';
import { issueServerTlsCredentials } from './server-tls.js';

describe('issueServerTlsCredentials', () => {
  it('gives a key and chain a Node TLS server can use, and a client trusting the root verifies', async () => {
    const t = await testCa('P-384');
    const creds = await issueServerTlsCredentials(t.issuer, {
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      chain: [t.ca.intermediate.certificateDer],
    });
    expect(creds.certificateChainPem.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    const server = createServer(
      { key: creds.privateKeyPem, cert: creds.certificateChainPem, minVersion: 'TLSv1.3' },
      (s) => {
        s.end('hello');
      },
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: t.rootPem });
      await once(socket, 'secureConnect');
      expect(socket.authorized).toBe(true);
      socket.destroy();
    } finally {
      server.close();
    }
  });
});
