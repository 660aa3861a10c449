import { type ClientCertificateStatus } from '@irp/protocol';
import { type SessionPeer } from './irp-session.js';

/** Injection token of the {@link ClientCertificateInspector} (provided by the PKI module). */
export const CLIENT_CERTIFICATE_INSPECTOR = Symbol('CLIENT_CERTIFICATE_INSPECTOR');

/** What the server made of the handshake's client certificate (spec §6.6). */
export interface ClientCertificateReport {
  status: ClientCertificateStatus;
  user?: string;
}

/** Judges the client certificate for the greeting's `clientCertificate` element. */
export interface ClientCertificateInspector {
  inspect(peer: SessionPeer): Promise<ClientCertificateReport>;
}

/** Used until a CA is configured: any certificate is `untrusted`. */
export const noClientCertificateInspector: ClientCertificateInspector = {
  inspect: (peer) => Promise.resolve({ status: peer.certificate ? 'untrusted' : 'none' }),
};
