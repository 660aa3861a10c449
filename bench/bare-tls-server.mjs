// Baseline of figure 1: a bare Node TLS server with the same certificate, suites,
// ALPN and requestCert as the IRP listener. After the handshake it writes one
// precomputed greeting frame and nothing else — the cost of TLS alone. The load
// generator is the same IrpClient for both, so the ratio isolates the server.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:tls';
import { constants } from 'node:crypto';
import { encodeFrame, encodeGreeting } from '@irp/protocol';

const [certFile, keyFile, port] = process.argv.slice(2);
const CIPHERS = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');
const frame = encodeFrame(
  encodeGreeting({
    server: 'localhost',
    domain: 'localhost',
    serverTime: new Date(),
    versions: ['1.0'],
    authMethods: ['sca', 'upa'],
    clientCertificate: { status: 'none' },
    registration: { open: true, enrollment: true },
    commands: [
      'hello',
      'info',
      'login',
      'logout',
      'lookupAddress',
      'ping',
      'register',
      'registerAddress',
    ],
    limits: {
      maxFrameBytes: 1048576,
      maxDepth: 16,
      maxElements: 10000,
      maxTextBytes: 262144,
      authTimeoutSeconds: 30,
      idleTimeoutSeconds: 600,
      maxSubscriptions: 1000,
      maxBindingsPerUser: 16,
      maxPkcs12PerUser: 20,
      maxCertificateDays: 365,
      allowLocalAddresses: true,
    },
  }),
);
const server = createServer(
  {
    cert: readFileSync(certFile),
    key: readFileSync(keyFile),
    minVersion: 'TLSv1.2',
    ciphers: CIPHERS,
    honorCipherOrder: true,
    requestCert: true,
    rejectUnauthorized: false,
    secureOptions: constants.SSL_OP_NO_RENEGOTIATION | constants.SSL_OP_NO_COMPRESSION,
    ALPNCallback: ({ protocols }) => (protocols.includes('irp/1') ? 'irp/1' : undefined),
  },
  (socket) => {
    socket.getPeerCertificate(true); // the IRP server inspects it too
    socket.on('error', () => socket.destroy());
    socket.write(frame); // the client closes, as it does with the IRP server
  },
);
server.listen(Number(port), '127.0.0.1', () => process.send?.({ type: 'listening' }));
