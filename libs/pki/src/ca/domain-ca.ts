import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import {
  parseCertificate,
  parseCertificates,
  type ParsedCertificate,
} from '../certificate/parsed-certificate.js';
import { randomSerial } from '../certificate/certificate-builder.js';
import { keyIdentifier } from '../certificate/extensions.js';
import { encodeName, type NameAttribute } from '../encoding/name.js';
import type { PemOrDer } from '../encoding/pem.js';
import {
  describeKey,
  generateKeyPair,
  toPrivateKey,
  type KeyAlgorithmDescription,
  type PrivateKeyInput,
} from '../keys/key-algorithm.js';
import { PkiError } from '../pki.error.js';
import { assertCaCertificate, assertKeyMatches } from './ca-signer.js';

/** Key algorithms offered for a new domain CA. */
export type CaKeyAlgorithm = 'P-384' | 'P-256' | 'RSA-4096';

/** Options of {@link createDomainCa}. */
export interface CreateDomainCaOptions {
  /** The IRP domain, e.g. `example.com`. */
  readonly domain: string;
  /** Organisation written as `O=` in both CA subjects (default: the domain). */
  readonly organization?: string;
  /** Key algorithm of both CA keys (default `P-384`). `P-256` is faster to sign with. */
  readonly algorithm?: CaKeyAlgorithm;
  /** Root CN (default `<domain> IRP Root CA`). */
  readonly rootCommonName?: string;
  /** Intermediate CN (default `<domain> IRP Issuing CA`). */
  readonly intermediateCommonName?: string;
  /** Root validity in days (default 7305, ~20 years). */
  readonly rootValidityDays?: number;
  /** Intermediate validity in days (default 3653, ~10 years; clamped to the root's notAfter). */
  readonly intermediateValidityDays?: number;
  /** Creation time (default now). */
  readonly now?: Date;
}

/** One CA certificate with its key, as stored by the server. */
export interface CaMaterial {
  readonly certificateDer: Uint8Array;
  /** PEM with a trailing newline. */
  readonly certificatePem: string;
  /** PKCS#8 DER of the private key: encrypt with {@link encryptPrivateKey} before storing. */
  readonly privateKeyPkcs8Der: Uint8Array;
  readonly keyAlgorithm: KeyAlgorithmDescription;
  /** 32 lower-case hex digits. */
  readonly serialHex: string;
  /** SHA-256 of the DER, 64 lower-case hex digits. */
  readonly sha256: string;
  /** RFC 4514 subject. */
  readonly subject: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** Result of {@link createDomainCa}. */
export interface DomainCa {
  /** Self-signed root (pathLen 1). The root key can be kept offline once the intermediate exists. */
  readonly root: CaMaterial;
  /** Issuing intermediate (pathLen 0), signs end-entity certificates, CRLs and OCSP responses. */
  readonly intermediate: CaMaterial;
}

const DAY_MS = 86_400_000;

/** WebCrypto parameters per CA algorithm: how to import the PKCS#8 key, and how to sign with it. */
const WEBCRYPTO_ALGORITHMS: Readonly<
  Record<
    CaKeyAlgorithm,
    {
      readonly importParams: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams;
      readonly signingAlgorithm: webcrypto.EcdsaParams | webcrypto.Algorithm;
    }
  >
> = {
  'P-384': {
    importParams: { name: 'ECDSA', namedCurve: 'P-384' },
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-384' },
  },
  'P-256': {
    importParams: { name: 'ECDSA', namedCurve: 'P-256' },
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
  },
  'RSA-4096': {
    importParams: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5' },
  },
};
/** CA certificates are backdated by one hour so that clients with skewed clocks accept them at once. */
const CA_BACKDATE_MS = 3_600_000;

function days(value: number | undefined, fallback: number, what: string): number {
  const d = value ?? fallback;
  if (!Number.isInteger(d) || d < 1 || d > 36_525)
    throw new PkiError('argument', `${what} must be 1–36525 days`);
  return d;
}

function toMaterial(
  certificate: ParsedCertificate,
  privateKeyPkcs8Der: Uint8Array,
  keyAlgorithm: KeyAlgorithmDescription,
): CaMaterial {
  return {
    certificateDer: certificate.der,
    certificatePem: certificate.toPem(),
    privateKeyPkcs8Der,
    keyAlgorithm,
    serialHex: certificate.serialHex,
    sha256: certificate.sha256,
    subject: certificate.subject,
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
  };
}

/**
 * Creates a domain CA: a self-signed root and an issuing intermediate signed by it.
 *
 * Root: `CN=<rootCommonName>, O=<organization>`, BasicConstraints critical
 * cA=TRUE pathLen=1, KeyUsage critical keyCertSign+cRLSign, SKI. Intermediate:
 * same with pathLen=0, KeyUsage digitalSignature+keyCertSign+cRLSign
 * (digitalSignature because it also signs OCSP responses directly), SKI and
 * AKI. Signature: ECDSA with SHA-384 (P-384), SHA-256 (P-256), or
 * sha256WithRSAEncryption (RSA-4096). Both notBefore are backdated by one hour.
 */
export async function createDomainCa(options: CreateDomainCaOptions): Promise<DomainCa> {
  const domain = options.domain.trim().toLowerCase();
  if (
    // single-label names (`localhost`, the server's default domain) are DNS names too
    !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(domain) ||
    domain.length > 253
  ) {
    throw new PkiError('argument', 'domain must be a DNS name');
  }
  const algorithm = options.algorithm ?? 'P-384';
  if (!['P-384', 'P-256', 'RSA-4096'].includes(algorithm)) {
    throw new PkiError('argument', `unsupported CA algorithm ${algorithm}`);
  }
  const organization = options.organization ?? domain;
  const now = options.now ?? new Date();
  const notBefore = new Date(Math.floor((now.getTime() - CA_BACKDATE_MS) / 1000) * 1000);
  const rootDays = days(options.rootValidityDays, 7305, 'rootValidityDays');
  const intDays = days(options.intermediateValidityDays, 3653, 'intermediateValidityDays');
  const rootNotAfter = new Date(notBefore.getTime() + rootDays * DAY_MS);
  const intNotAfter = new Date(
    Math.min(notBefore.getTime() + intDays * DAY_MS, rootNotAfter.getTime()),
  );

  const [rootKeys, intKeys] = await Promise.all([
    generateKeyPair(algorithm),
    generateKeyPair(algorithm),
  ]);
  const nameOf = (cn: string): Buffer => {
    const attrs: NameAttribute[] = [
      { type: 'O', value: organization },
      { type: 'CN', value: cn },
    ];
    return encodeName(attrs);
  };
  const rootName = nameOf(options.rootCommonName ?? `${domain} IRP Root CA`);
  const intName = nameOf(options.intermediateCommonName ?? `${domain} IRP Issuing CA`);
  const rootKid = keyIdentifier(rootKeys.publicKeySpkiDer).toString('hex');
  const intKid = keyIdentifier(intKeys.publicKeySpkiDer).toString('hex');
  const { importParams, signingAlgorithm } = WEBCRYPTO_ALGORITHMS[algorithm];
  // @peculiar/x509 signs through WebCrypto: node's webcrypto, with the root key imported from PKCS#8.
  const crypto = webcrypto;
  const rootSigningKey = await webcrypto.subtle.importKey(
    'pkcs8',
    rootKeys.privateKeyPkcs8Der,
    importParams,
    false,
    ['sign'],
  );
  const ca = (pathLength: number): x509.BasicConstraintsExtension =>
    new x509.BasicConstraintsExtension(true, pathLength, true);
  const F = x509.KeyUsageFlags;

  const rootCert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial().toString('hex'),
      issuer: new x509.Name(rootName),
      subject: new x509.Name(rootName),
      notBefore,
      notAfter: rootNotAfter,
      publicKey: rootKeys.publicKeySpkiDer,
      signingKey: rootSigningKey,
      signingAlgorithm,
      extensions: [
        ca(1),
        new x509.KeyUsagesExtension(F.keyCertSign | F.cRLSign, true),
        new x509.SubjectKeyIdentifierExtension(rootKid),
      ],
    },
    crypto,
  );
  const intCert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial().toString('hex'),
      issuer: new x509.Name(rootName),
      subject: new x509.Name(intName),
      notBefore,
      notAfter: intNotAfter,
      publicKey: intKeys.publicKeySpkiDer,
      signingKey: rootSigningKey,
      signingAlgorithm,
      extensions: [
        ca(0),
        new x509.KeyUsagesExtension(F.digitalSignature | F.keyCertSign | F.cRLSign, true),
        new x509.SubjectKeyIdentifierExtension(intKid),
        new x509.AuthorityKeyIdentifierExtension(rootKid),
      ],
    },
    crypto,
  );
  const rootDer = new Uint8Array(rootCert.rawData);
  const intDer = new Uint8Array(intCert.rawData);
  const keyAlgorithm = describeKey(rootKeys.privateKey);
  return {
    root: toMaterial(parseCertificate(rootDer), rootKeys.privateKeyPkcs8Der, keyAlgorithm),
    intermediate: toMaterial(parseCertificate(intDer), intKeys.privateKeyPkcs8Der, keyAlgorithm),
  };
}

/** Options of {@link importCa}. */
export interface ImportCaOptions {
  /** The operator's issuing CA certificate (PEM/base64/DER). */
  readonly certificate: PemOrDer;
  /** Its private key (PEM in PKCS#8, SEC1 or PKCS#1 form, possibly encrypted; or PKCS#8 DER). */
  readonly privateKey: PrivateKeyInput;
  /** Passphrase of an encrypted PEM key. */
  readonly passphrase?: string;
  /** The issuer chain above the certificate, issuer first, up to and including the root (PEM bundle or list). */
  readonly chain?: string | readonly PemOrDer[];
  /** Time of the validity check (default now). */
  readonly now?: Date;
}

/** Result of {@link importCa}. */
export interface ImportedCa extends CaMaterial {
  /** The chain above the certificate (DER, issuer first), verified. */
  readonly chainDer: readonly Uint8Array[];
}

/**
 * Validates an operator-supplied CA certificate and private key for use as the
 * issuing CA: the certificate is a CA allowed to sign certificates (cA=TRUE,
 * keyCertSign), within its validity, the key matches it and passes the key
 * policy, and each certificate of `chain` issued the one before it.
 * @throws PkiError `syntax`, `chain`, `mismatch`, `policy`, `validity`, `decrypt`
 */
export function importCa(options: ImportCaOptions): ImportedCa {
  const certificate = parseCertificate(options.certificate);
  const key = toPrivateKey(options.privateKey, options.passphrase);
  assertCaCertificate(certificate);
  assertKeyMatches(certificate, key);
  const keyAlgorithm = describeKey(key);
  const now = options.now ?? new Date();
  if (!certificate.isValidAt(now))
    throw new PkiError('validity', 'CA certificate is outside its validity period');
  const chain = options.chain === undefined ? [] : parseCertificates(options.chain);
  let child = certificate;
  for (const issuer of chain) {
    assertCaCertificate(issuer);
    if (!child.isIssuedBy(issuer))
      throw new PkiError('chain', `${child.subject} was not issued by ${issuer.subject}`);
    child = issuer;
  }
  return {
    ...toMaterial(certificate, key.export({ type: 'pkcs8', format: 'der' }), keyAlgorithm),
    chainDer: chain.map((c) => c.der),
  };
}
