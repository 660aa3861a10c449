// Baseline of figure 1: a bare Node TLS server with the same certificate, suites,
// ALPN and requestCert as the IRP listener. It writes one fixed greeting-sized frame
// after the handshake and nothing else — the cost of TLS alone.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:tls';
import { constants } from 'node:crypto';

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
const body = Buffer.from('<irp version="1.0"><greeting>' + 'x'.repeat(900) + '</greeting></irp>');
const frame = Buffer.concat([Buffer.from([0, 0, body.length >> 8, body.length & 255]), body]);
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
    socket.end(frame);
  },
);
server.listen(Number(port), '127.0.0.1', () => process.send?.({ type: 'listening' }));
