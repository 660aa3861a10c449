// Baseline of figure 1: a bare Node TLS server with the IRP listener's own TLS options
// (irpTlsServerOptions: same suites, ALPN, requestCert) and the same certificate. After the handshake it writes one
// precomputed greeting frame and nothing else — the cost of TLS alone. The load
// generator is the same IrpClient for both, so the ratio isolates the server.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:tls';
import { encodeFrame, encodeGreeting } from '@irp/protocol';
import { irpTlsServerOptions } from '../apps/server/dist/transport/tls-options.js';

const [certFile, keyFile, port] = process.argv.slice(2);
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
  irpTlsServerOptions({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, 10_000),
  (socket) => {
    socket.getPeerCertificate(true); // the IRP server inspects it too
    socket.on('error', () => socket.destroy());
    socket.write(frame); // the client closes, as it does with the IRP server
  },
);
server.listen(Number(port), '127.0.0.1', () => process.send?.({ type: 'listening' }));
