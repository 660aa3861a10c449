import { describe, expect, it, beforeAll } from 'vitest';
import { type Binding } from '@irp/protocol';
import {
  CaSigner,
  CertificateIssuer,
  createDomainCa,
  generateKeyPair,
  parseCertificate,
  type IssuedCertificate,
} from '@irp/pki';
import { type Session } from '../net/session.js';
import { type LocalCredentials } from '../store/profile-store.js';
import { BindingVerifier } from './binding-verifier.js';
import { signBinding } from './local-credentials.js';

/**
 * What `addr lookup`, `addr watch` and `peer connect` accept as a signed binding
 * (spec §8.2), against a real domain CA: the text, the signer and the signature
 * must all check out, each on its own.
 */
describe('BindingVerifier', () => {
  let chain: string[];
  let alice: LocalCredentials & { cert: IssuedCertificate };
  let bob: LocalCredentials & { cert: IssuedCertificate };
  let stranger: LocalCredentials & { cert: IssuedCertificate };

  async function user(
    issuer: CertificateIssuer,
    userId: string,
  ): Promise<LocalCredentials & { cert: IssuedCertificate }> {
    const pair = await generateKeyPair('P-256');
    const cert = issuer.issueUserCertificate({
      subjectKey: pair.publicKey,
      userId,
      domain: 'example.com',
      profile: 'user',
    });
    return {
      keyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      certPem: cert.pem,
      chainPem: chain,
      cert,
    };
  }

  beforeAll(async () => {
    const ca = await createDomainCa({ domain: 'example.com', algorithm: 'P-256' });
    chain = [ca.intermediate.certificatePem, ca.root.certificatePem];
    const issuer = new CertificateIssuer(
      CaSigner.create({
        certificate: ca.intermediate.certificateDer,
        privateKey: ca.intermediate.privateKeyPkcs8Der,
      }),
      { crlUrl: 'http://dir.example.com/crl', ocspUrl: 'http://dir.example.com/ocsp' },
    );
    alice = await user(issuer, 'alice');
    bob = await user(issuer, 'bob');
    const other = await createDomainCa({ domain: 'example.com', algorithm: 'P-256' });
    const otherIssuer = new CertificateIssuer(
      CaSigner.create({
        certificate: other.intermediate.certificateDer,
        privateKey: other.intermediate.privateKeyPkcs8Der,
      }),
      { crlUrl: 'http://x/crl', ocspUrl: 'http://x/ocsp' },
    );
    stranger = await user(otherIssuer, 'alice');
  });

  /** A session whose getCertificate serves the given certificates by fingerprint. */
  function session(...certs: IssuedCertificate[]): Session {
    return {
      client: {
        request: (cmd: { query: { sha256: string } }) => {
          const found = certs.find((c) => c.sha256 === cmd.query.sha256);
          return Promise.resolve({
            cmd: 'getCertificate',
            result: { code: found ? 1000 : 2303, message: '' },
            data: found ? { certificates: [{ pem: found.pem }] } : {},
          });
        },
      },
    } as unknown as Session;
  }

  function signed(creds: LocalCredentials, over: Partial<Binding> = {}, seconds = 600): Binding {
    const addresses = [
      { family: 'ipv4' as const, address: '192.0.2.7', port: 4605, transport: 'tcp' as const },
    ];
    const attestation = signBinding(
      creds,
      { user: 'alice@example.com', device: 'laptop', addresses },
      seconds,
    );
    return {
      device: 'laptop',
      expiresAt: new Date(Date.now() + seconds * 1000),
      addresses,
      certificates: [parseCertificate(creds.certPem).sha256],
      attestation,
      ...over,
    };
  }

  it('verifies a binding alice signed', async () => {
    const v = await new BindingVerifier(session(alice.cert), chain).verify(
      'alice@example.com',
      signed(alice),
    );
    expect(v).toMatchObject({ status: 'verified', cert: alice.cert.sha256 });
  });

  it('calls a binding without attestation unsigned', async () => {
    const { attestation: _omit, ...plain } = signed(alice);
    expect(
      await new BindingVerifier(session(alice.cert), chain).verify('alice@example.com', plain),
    ).toEqual({ status: 'unsigned' });
  });

  it.each([
    [
      'an address changed after signing',
      () => signed(alice, { addresses: [{ family: 'ipv4', address: '192.0.2.8', port: 4605 }] }),
      /does not state/,
    ],
    ['another device', () => signed(alice, { device: 'phone' }), /does not state/],
    [
      'a signer the registry does not list for the user',
      () => signed(alice, { certificates: [bob.cert.sha256] }),
      /not one the registry lists/,
    ],
    [
      'a certificate of another user',
      () => ({ ...signed(bob), certificates: [bob.cert.sha256] }),
      /not issued to alice@example\.com/,
    ],
    ['a certificate of another CA', () => signed(stranger), /does not chain to the domain CA/],
    ['an expired attestation', () => signed(alice, {}, -120), /expired/],
    [
      'a signature over other bytes',
      () => {
        const b = signed(alice);
        return {
          ...b,
          attestation: {
            ...b.attestation!,
            signature: signed(alice, {}, 900).attestation!.signature,
          },
        };
      },
      /signature does not verify/,
    ],
  ] as const)('refuses %s', async (_what, make, reason) => {
    const v = await new BindingVerifier(session(alice.cert, bob.cert, stranger.cert), chain).verify(
      'alice@example.com',
      make(),
    );
    expect(v.status).toBe('invalid');
    expect(v.status === 'invalid' ? v.reason : '').toMatch(reason);
  });
});
