import { sign } from 'node:crypto';
import { CaSigner } from '../ca/ca-signer.js';
import { createDomainCa, type CaKeyAlgorithm } from '../ca/domain-ca.js';
import { parseCertificate } from '../certificate/parsed-certificate.js';
import { buildCsr, parseCsr } from '../csr/csr.js';
import {
  CertificateIssuer,
  type IssueUserCertificateOptions,
} from '../issuance/certificate-issuer.js';
import { generateKeyPair, type KeyAlgorithmName } from '../keys/key-algorithm.js';

/** What one benchmark iteration does. */
export type IssuanceBenchmarkMode =
  /** `issueUserCertificate` from an already verified CSR (the CA's work per certificate). */
  | 'issue'
  /** `parseCsr` (parse, key policy, proof-of-possession verify) + `issueUserCertificate`: the whole request. */
  | 'csr';

/** Options of {@link runIssuanceBenchmark}. */
export interface IssuanceBenchmarkOptions {
  /** CA key algorithm (default `P-384`). */
  readonly caAlgorithm?: CaKeyAlgorithm;
  /** Default `issue`. */
  readonly mode?: IssuanceBenchmarkMode;
  /** Key algorithm of the requesting client (default `P-256`). */
  readonly csrKeyAlgorithm?: KeyAlgorithmName;
  /** Duration of each of the two measurements in ms (default 2000). */
  readonly durationMs?: number;
}

/** Result of {@link runIssuanceBenchmark}. */
export interface IssuanceBenchmarkResult {
  readonly caAlgorithm: CaKeyAlgorithm;
  readonly mode: IssuanceBenchmarkMode;
  readonly csrKeyAlgorithm: KeyAlgorithmName;
  /** Raw `crypto.sign()` calls per second with the same CA KeyObject over a TBSCertificate-sized input. */
  readonly signaturesPerSecond: number;
  /** Certificates issued per second (DER + PEM + serial + SHA-256 fingerprint each). */
  readonly certificatesPerSecond: number;
  /** certificatesPerSecond / signaturesPerSecond. */
  readonly ratio: number;
  /** Size of one issued certificate. */
  readonly certificateBytes: number;
}

/**
 * Measures two functions in alternating slices (so load from other processes
 * affects both alike) and returns their rates per second.
 */
function interleavedRates(totalMs: number, a: () => void, b: () => void): [number, number] {
  const slice = Math.min(100, totalMs);
  const counts = [0, 0];
  const times = [0, 0];
  const fns = [a, b];
  for (let done = 0; done < totalMs; done += slice) {
    for (let i = 0; i < 2; i++) {
      const fn = fns[i] ?? a;
      let n = 0;
      const start = performance.now();
      let now = start;
      while (now - start < slice) {
        fn();
        n++;
        now = performance.now();
      }
      counts[i] = (counts[i] ?? 0) + n;
      times[i] = (times[i] ?? 0) + (now - start);
    }
  }
  return [((counts[0] ?? 0) * 1000) / (times[0] ?? 1), ((counts[1] ?? 0) * 1000) / (times[1] ?? 1)];
}

/**
 * Measures certificate issuance throughput against raw signing with the same
 * CA key (single thread, synchronous). Creates a fresh domain CA and client
 * key, warms both paths up, then measures `crypto.sign` and issuance in alternating 100 ms
 * slices for `durationMs` each. For the benchmark harness; not used by the server.
 */
export async function runIssuanceBenchmark(
  options: IssuanceBenchmarkOptions = {},
): Promise<IssuanceBenchmarkResult> {
  const caAlgorithm = options.caAlgorithm ?? 'P-384';
  const mode = options.mode ?? 'issue';
  const csrKeyAlgorithm = options.csrKeyAlgorithm ?? 'P-256';
  const durationMs = options.durationMs ?? 2000;
  const ca = await createDomainCa({ domain: 'bench.example', algorithm: caAlgorithm });
  const signer = CaSigner.create({
    certificate: ca.intermediate.certificateDer,
    privateKey: ca.intermediate.privateKeyPkcs8Der,
  });
  const issuer = new CertificateIssuer(signer, {
    crlUrl: 'https://dir.bench.example/pki/crl.der',
    ocspUrl: 'https://dir.bench.example/pki/ocsp',
    caIssuersUrl: 'https://dir.bench.example/pki/issuing-ca.der',
  });
  const client = await generateKeyPair(csrKeyAlgorithm);
  const csrDer = buildCsr({
    privateKey: client.privateKey,
    subject: [{ type: 'CN', value: 'ignored' }],
  }).der;
  const parsed = parseCsr(csrDer);
  const base: Omit<IssueUserCertificateOptions, 'subjectKey'> = {
    userId: 'alice',
    domain: 'bench.example',
    displayName: 'Alice Benchmark',
    email: 'alice@bench.example',
    profile: 'user',
    validityDays: 365,
  };
  const issueOnce =
    mode === 'issue'
      ? (): void => void issuer.issueUserCertificate({ ...base, subjectKey: parsed })
      : (): void => void issuer.issueUserCertificate({ ...base, subjectKey: parseCsr(csrDer) });
  const sample = issuer.issueUserCertificate({ ...base, subjectKey: parsed });
  const tbs = parseCertificate(sample.der).tbsDer;
  const hash = signer.algorithm.hash;
  const key = signer.privateKey;
  const signOnce = (): void => void sign(hash, tbs, key);

  interleavedRates(Math.min(400, durationMs / 4), signOnce, issueOnce); // warm-up
  const [signaturesPerSecond, certificatesPerSecond] = interleavedRates(
    durationMs,
    signOnce,
    issueOnce,
  );
  return {
    caAlgorithm,
    mode,
    csrKeyAlgorithm,
    signaturesPerSecond,
    certificatesPerSecond,
    ratio: certificatesPerSecond / signaturesPerSecond,
    certificateBytes: sample.der.length,
  };
}
