import type * as tls from 'node:tls';
import { IRP_TLS_CIPHERS, IRP_TLS_MIN_VERSION } from '@irp/protocol';
import { checkClientCertificate, parseCertificate, type ParsedCertificate } from '@irp/pki';
import { type LocalCredentials } from '../store/profile-store.js';

/**
 * ALPN id of End2End Direct chat between `irp` peers: UTF-8 text over TLS, both
 * sides authenticated by certificates of the domain CA. Not part of IRP itself
 * (the spec leaves the peer protocol to applications).
 */
export const PEER_ALPN = 'irp-peer/1';

/** Who is at the other end, from its certificate. */
export interface PeerIdentity {
  /** The IRP address from the `URI:irp:` SAN, if any. */
  address: string | undefined;
  sha256: string;
  subject: string;
  serial: string;
}

/** The verdict on a peer's certificate. */
export type PeerCheck =
  { ok: true; identity: PeerIdentity } | { ok: false; reason: string; identity?: PeerIdentity };

/** TLS options both sides share: our key and certificate (plus chain), the spec §1 suites. */
export function peerTlsOptions(credentials: LocalCredentials): tls.SecureContextOptions & {
  minVersion: tls.SecureVersion;
  ciphers: string;
  ALPNProtocols: string[];
} {
  return {
    key: credentials.keyPem,
    cert: credentials.certPem + credentials.chainPem.slice(0, -1).join(''),
    minVersion: IRP_TLS_MIN_VERSION,
    ciphers: IRP_TLS_CIPHERS,
    ALPNProtocols: [PEER_ALPN],
  };
}

/** The certificates a TLS peer presented, leaf first (DER). */
export function presentedChain(socket: tls.TLSSocket): Buffer[] {
  const chain: Buffer[] = [];
  const seen = new Set<string>();
  for (
    let c: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
    c?.raw && !seen.has(c.fingerprint256);
    c = c.issuerCertificate
  ) {
    seen.add(c.fingerprint256);
    chain.push(c.raw);
  }
  return chain;
}

function identityOf(cert: ParsedCertificate): PeerIdentity {
  const uri = cert.subjectAltNames.uri.find((u) => u.startsWith('irp:'));
  return {
    address: uri?.slice(4).toLowerCase(),
    sha256: cert.sha256,
    subject: cert.subject,
    serial: cert.serialHex,
  };
}

/**
 * Checks the certificate a peer presented in the handshake (the handshake itself
 * proved the peer holds its key): it must chain to the domain CA, be within its
 * validity, carry EKU clientAuth and name an IRP address. TLS does not verify it
 * for us because users' certificates have no serverAuth EKU (spec §9 profiles),
 * which OpenSSL would require of the listening side.
 */
export function checkPeerCertificate(
  socket: tls.TLSSocket,
  caChainPem: readonly string[],
): PeerCheck {
  const chain = presentedChain(socket);
  const leaf = chain[0];
  if (!leaf) return { ok: false, reason: 'the peer presented no certificate' };
  let cert: ParsedCertificate;
  try {
    cert = parseCertificate(leaf);
  } catch {
    return { ok: false, reason: "the peer's certificate cannot be parsed" };
  }
  const identity = identityOf(cert);
  const ca = caChainPem.map((p) => parseCertificate(p));
  const root = ca[ca.length - 1];
  if (!root) return { ok: false, reason: 'no domain CA to verify against', identity };
  const check = checkClientCertificate({
    certificate: leaf,
    trustAnchors: [root],
    intermediates: [...ca.slice(0, -1), ...chain.slice(1).map((d) => parseCertificate(d))],
  });
  switch (check.status) {
    case 'untrusted':
      return {
        ok: false,
        reason: "the peer's certificate does not chain to the domain CA",
        identity,
      };
    case 'expired':
      return {
        ok: false,
        reason: "the peer's certificate is outside its validity period",
        identity,
      };
    case 'no-client-auth':
      return { ok: false, reason: "the peer's certificate lacks EKU clientAuth", identity };
    case 'ok':
      break;
  }
  if (!identity.address)
    return { ok: false, reason: "the peer's certificate names no IRP address", identity };
  return { ok: true, identity };
}
