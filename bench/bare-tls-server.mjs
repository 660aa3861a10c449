// Baseline of figure 1: a bare Node TLS server with the IRP listener's own TLS options
// (irpTlsServerOptions: same suites, ALPN, requestCert) and the same certificate. After the handshake it writes one
// precomputed greeting frame — the cost of TLS alone. The load generator is the same
// IrpClient for both, so the ratio isolates the server.
//
// For figure 5's transport floor it also answers every request frame with a
// precomputed response (a successful `login`, else a `lookupAddress` with three
// bindings — what the IRP server answers in figure 5), only the id copied in: the same
// TLS exchange with no IRP work at all.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:tls';
import { FrameDecoder, encodeFrame, encodeGreeting, encodeResponse } from '@irp/protocol';
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
const ID = 'ID-PLACEHOLDER';
const binding = (i) => ({
  device: `bench${i}`,
  expiresAt: new Date(Date.now() + 3_600_000),
  updatedAt: new Date(),
  addresses: [
    { family: 'ipv6', address: `2001:db8::${i + 1}`, port: 4605, transport: 'tcp' },
    { family: 'ipv4', address: '192.0.2.10', port: 4605, transport: 'tcp' },
  ],
  certificates: ['ab'.repeat(32)],
});
const template = (response) => {
  const [head, tail] = encodeResponse(response).toString('utf8').split(ID);
  return (id) => encodeFrame(`${head}${id}${tail}`);
};
const success = { code: 1000, message: 'Command completed successfully' };
const loginResponse = template({
  id: ID,
  cmd: 'login',
  txn: 'bare-1',
  result: success,
  data: {
    user: { userId: 'bench1', address: 'bench1@localhost', status: 'active', upaEnabled: true },
  },
});
const lookupResponse = template({
  id: ID,
  cmd: 'lookupAddress',
  txn: 'bare-1',
  result: success,
  data: { user: 'bench1@localhost', bindings: [0, 1, 2].map(binding) },
});
const REQUEST = /<([A-Za-z]+) id="([^"]*)"/;

const server = createServer(
  irpTlsServerOptions({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, 10_000),
  (socket) => {
    socket.getPeerCertificate(true); // the IRP server inspects it too
    socket.on('error', () => socket.destroy());
    socket.write(frame); // the client closes, as it does with the IRP server
    const frames = new FrameDecoder(1_048_576);
    socket.on('data', (chunk) => {
      for (const body of frames.push(chunk)) {
        const m = REQUEST.exec(body.toString('latin1', 0, 200));
        if (!m) continue;
        socket.write(m[1] === 'login' ? loginResponse(m[2]) : lookupResponse(m[2]));
      }
    });
  },
);
server.listen(Number(port), '127.0.0.1', () => process.send?.({ type: 'listening' }));
