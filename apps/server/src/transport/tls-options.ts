import { constants } from 'node:crypto';
import { type TlsOptions } from 'node:tls';
import { ALPN_PROTOCOL, IRP_TLS_CIPHERS, IRP_TLS_MIN_VERSION } from '@irp/protocol';

/** The server's key and certificate chain, and the CAs that client certificates may chain to. */
export interface TlsCredentials {
  key: string | Buffer;
  /** The server certificate followed by its issuing chain, PEM. */
  cert: string | Buffer;
  /** Trusted roots for client certificates (the domain CA), PEM. */
  ca?: string | Buffer | undefined;
}

/** The secure-context part of the listener options: swapped in place on certificate renewal. */
export function secureContextOptions(credentials: TlsCredentials): TlsOptions {
  return {
    key: credentials.key,
    cert: credentials.cert,
    ca: credentials.ca,
    // spec §1: TLS 1.2+, ephemeral key exchange and AEAD only (one list, in @irp/protocol)
    minVersion: IRP_TLS_MIN_VERSION,
    ciphers: IRP_TLS_CIPHERS,
    honorCipherOrder: true,
    dhparam: 'auto',
    // spec §1: no compression, no renegotiation. No stateless session tickets either
    // (Decision, docs/protocol.md): sessions are long-lived, a ticket is only good on the
    // instance whose key sealed it, its key would live unrotated for the process's life,
    // and an idle TLS connection costs ~15 KiB less without one (benchmark figure 8)
    secureOptions:
      constants.SSL_OP_NO_RENEGOTIATION |
      constants.SSL_OP_NO_COMPRESSION |
      constants.SSL_OP_NO_TICKET,
  };
}

/** Full listener options (spec §1). */
export function irpTlsServerOptions(
  credentials: TlsCredentials,
  handshakeTimeoutMs: number,
): TlsOptions {
  return {
    ...secureContextOptions(credentials),
    // A client certificate is requested, never required: it only enables SCA (§1, §6.2),
    // and the server never aborts a handshake because of it (§6.6).
    requestCert: true,
    rejectUnauthorized: false,
    handshakeTimeout: handshakeTimeoutMs,
    // §1: accept a client offering no ALPN (the callback is not called then); refuse one whose
    // list lacks irp/1 — returning undefined makes Node send `no_application_protocol`.
    ALPNCallback: ({ protocols }) =>
      protocols.includes(ALPN_PROTOCOL) ? ALPN_PROTOCOL : undefined,
  };
}
