import { derToPem, type PemOrDer, toDer } from '../encoding/pem.js';
import { generateKeyPair, type KeyAlgorithmName } from '../keys/key-algorithm.js';
import type { CertificateIssuer, IssuedCertificate } from './certificate-issuer.js';

/** Options of {@link issueServerTlsCredentials}. */
export interface ServerTlsCredentialsOptions {
  /** DNS names of the IRP listener (SAN dNSName; the first is the CN). */
  readonly dnsNames: readonly string[];
  /** IP addresses of the listener (SAN iPAddress). */
  readonly ipAddresses?: readonly string[];
  /** Key algorithm (default `P-256`: fast ECDHE-ECDSA handshakes). */
  readonly keyAlgorithm?: KeyAlgorithmName;
  /** Validity in days (default 397). */
  readonly validityDays?: number;
  /** CA certificates to append to the chain PEM, issuing CA first, root last (spec §9 `<chain>` order). */
  readonly chain?: readonly PemOrDer[];
  /** Issuance time (default now). */
  readonly now?: Date;
}

/** Key, certificate and chain for `tls.createServer({ key, cert })`. */
export interface ServerTlsCredentials {
  /** PKCS#8 PEM of the new private key (the server keeps it; encrypt it at rest). */
  readonly privateKeyPem: string;
  /** The server certificate followed by the chain, PEM, ready for the `cert` option. */
  readonly certificateChainPem: string;
  /** The issued certificate alone. */
  readonly certificate: IssuedCertificate;
}

/**
 * Generates a key pair and issues the IRP listener's TLS server certificate
 * from the domain's issuing CA (EKU serverAuth, SAN DNS + IP, spec §1).
 */
export async function issueServerTlsCredentials(
  issuer: CertificateIssuer,
  options: ServerTlsCredentialsOptions,
): Promise<ServerTlsCredentials> {
  const keys = await generateKeyPair(options.keyAlgorithm ?? 'P-256');
  const certificate = issuer.issueServerCertificate({
    subjectKey: keys.publicKey,
    dnsNames: options.dnsNames,
    ...(options.ipAddresses ? { ipAddresses: options.ipAddresses } : {}),
    ...(options.validityDays === undefined ? {} : { validityDays: options.validityDays }),
    ...(options.now ? { now: options.now } : {}),
  });
  const chainPem = (options.chain ?? [])
    .map((c) => derToPem(toDer(c, ['CERTIFICATE']), 'CERTIFICATE'))
    .join('');
  return {
    privateKeyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certificateChainPem: certificate.pem + chainPem,
    certificate,
  };
}
