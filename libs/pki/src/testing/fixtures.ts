import { CaSigner } from '../ca/ca-signer.js';
import { createDomainCa, type CaKeyAlgorithm, type DomainCa } from '../ca/domain-ca.js';
import { CertificateIssuer } from '../issuance/certificate-issuer.js';

/** URLs written into test certificates. */
export const TEST_URLS = {
  crlUrl: 'http://dir.example.com/pki/crl.der',
  ocspUrl: 'http://dir.example.com/pki/ocsp',
  caIssuersUrl: 'http://dir.example.com/pki/issuing-ca.der',
} as const;

/** A domain CA plus signer and issuer, for tests. */
export interface TestCa {
  readonly ca: DomainCa;
  readonly signer: CaSigner;
  readonly issuer: CertificateIssuer;
  /** Root PEM, intermediate PEM. */
  readonly rootPem: string;
  readonly intermediatePem: string;
}

const cache = new Map<string, Promise<TestCa>>();

/** A (cached per algorithm) domain CA for `example.com`. */
export function testCa(algorithm: CaKeyAlgorithm = 'P-384'): Promise<TestCa> {
  let p = cache.get(algorithm);
  if (!p) {
    p = (async () => {
      const ca = await createDomainCa({
        domain: 'example.com',
        algorithm,
        organization: 'Example Org',
      });
      const signer = CaSigner.create({
        certificate: ca.intermediate.certificateDer,
        privateKey: ca.intermediate.privateKeyPkcs8Der,
      });
      const issuer = new CertificateIssuer(signer, { ...TEST_URLS, maxValidityDays: 365 });
      return {
        ca,
        signer,
        issuer,
        rootPem: ca.root.certificatePem,
        intermediatePem: ca.intermediate.certificatePem,
      };
    })();
    cache.set(algorithm, p);
  }
  return p;
}
