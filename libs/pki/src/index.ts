/**
 * @irp/pki — the crypto library of the Domain Identity Registry (IRP spec §6.2,
 * §8.2, §9, §10). Pure: option objects in, DER/PEM bytes and plain objects out;
 * no I/O, no environment, no logging.
 */
export { PkiError, PKI_ERROR_CODES, type PkiErrorCode } from './pki.error.js';

// Encoding helpers
export {
  derToPem,
  pemToDer,
  toDer,
  decodePemBlocks,
  type PemLabel,
  type PemBlock,
  type PemOrDer,
} from './encoding/pem.js';
export {
  sha256Fingerprint,
  formatSerialHex,
  normalizeSerialHex,
  isDomainSerialHex,
  toHex,
} from './encoding/hex.js';
export { formatName, type NameAttribute, type NameAttributeType } from './encoding/name.js';

// Keys
export {
  generateKeyPair,
  describeKey,
  toPrivateKey,
  toPublicKey,
  KEY_ALGORITHM_NAMES,
  MIN_RSA_BITS,
  MAX_RSA_BITS,
  type KeyAlgorithmName,
  type KeyAlgorithmDescription,
  type EcCurveName,
  type GeneratedKeyPair,
  type PrivateKeyInput,
  type PublicKeyInput,
} from './keys/key-algorithm.js';
export {
  encryptPrivateKey,
  decryptPrivateKey,
  parseMasterKey,
  KEY_ENVELOPE_MAGIC,
} from './keys/key-encryption.js';

// Certificates
export {
  ParsedCertificate,
  parseCertificate,
  parseCertificates,
  KEY_USAGE_NAMES,
  type KeyUsageName,
  type CertificateExtension,
  type SubjectAltNames,
} from './certificate/parsed-certificate.js';
export { canonicalIpv6, type GeneralName } from './certificate/general-name.js';
export { importSpki, type ImportedPublicKey } from './keys/spki.js';

// CA
export { CaSigner, type CaSignerOptions } from './ca/ca-signer.js';
export {
  createDomainCa,
  importCa,
  type CaKeyAlgorithm,
  type CreateDomainCaOptions,
  type CaMaterial,
  type DomainCa,
  type ImportCaOptions,
  type ImportedCa,
} from './ca/domain-ca.js';

// CSR
export {
  parseCsr,
  buildCsr,
  type ParsedCsr,
  type BuildCsrOptions,
  type BuiltCsr,
} from './csr/csr.js';

// Issuance
export {
  CertificateIssuer,
  type CertificateIssuerOptions,
  type CertificateProfile,
  type SubjectKeyInput,
  type IssueUserCertificateOptions,
  type IssueServerCertificateOptions,
  type IssuedCertificate,
} from './issuance/certificate-issuer.js';
export {
  issueServerTlsCredentials,
  type ServerTlsCredentialsOptions,
  type ServerTlsCredentials,
} from './issuance/server-tls.js';

// Revocation
export {
  REVOCATION_REASON_CODES,
  USER_REVOCATION_REASONS,
  isRevocationReason,
  type RevocationReason,
} from './revocation/revocation-reason.js';
export {
  buildCrl,
  type BuildCrlOptions,
  type BuiltCrl,
  type CrlEntry,
} from './revocation/crl-builder.js';
export {
  OcspResponder,
  ocspErrorResponse,
  type OcspCertStatus,
  type OcspStatusLookup,
  type OcspErrorStatus,
  type OcspResult,
  type OcspResponderOptions,
} from './revocation/ocsp-responder.js';

// PKCS#12
export {
  buildPkcs12,
  DEFAULT_PKCS12_ITERATIONS,
  type BuildPkcs12Options,
} from './pkcs12/pkcs12-builder.js';
export {
  inspectPkcs12,
  readPkcs12,
  type Pkcs12Info,
  type Pkcs12ContentType,
  type Pkcs12Contents,
} from './pkcs12/pkcs12-reader.js';

// Validation
export {
  buildCertificatePath,
  checkClientCertificate,
  checkUploadedCertificate,
  type PathOptions,
  type ClientCertificateStatus,
  type ClientCertificateCheck,
  type ClientCertificateOptions,
  type UploadedCertificateOptions,
  type UploadedCertificate,
} from './validation/certificate-validation.js';

// Signed bindings
export {
  buildBindingAttestationText,
  parseBindingAttestationText,
  checkBindingAttestationWindow,
  signBindingAttestation,
  verifyBindingAttestation,
  formatRfc3339Seconds,
  ATTESTATION_ALGORITHMS,
  type AttestationAlgorithm,
  type AddressFamily,
  type AddressTransport,
  type BindingAddress,
  type BindingAttestation,
} from './attestation/binding-attestation.js';

// Benchmark hook (bench/)
export {
  runIssuanceBenchmark,
  type IssuanceBenchmarkMode,
  type IssuanceBenchmarkOptions,
  type IssuanceBenchmarkResult,
} from './benchmark/issuance-benchmark.js';
