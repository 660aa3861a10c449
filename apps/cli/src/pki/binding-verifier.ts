import { type Binding } from '@irp/protocol';
import {
  buildBindingAttestationText,
  buildCertificatePath,
  parseBindingAttestationText,
  parseCertificate,
  PkiError,
  verifyBindingAttestation,
  type ParsedCertificate,
} from '@irp/pki';
import { CliError } from '../cli/cli.error.js';
import { type CliContext } from '../cli/context.js';
import { call, type Session } from '../net/session.js';
import { splitPemBlocks } from '../store/profile-store.js';

/** What the check of a binding's attestation found (spec §8.2). */
export type AttestationVerdict =
  | { status: 'verified'; cert: string; notAfter: Date }
  | { status: 'unsigned' }
  | { status: 'invalid'; reason: string };

/** True when the signature verifies (false, not an exception, for a key/algorithm mismatch). */
function signatureVerifies(
  cert: ParsedCertificate,
  alg: Parameters<typeof verifyBindingAttestation>[1],
  text: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    return verifyBindingAttestation(cert, alg, text, signature);
  } catch {
    return false;
  }
}

/** Clock skew tolerated on `notBefore`. */
const SKEW_MS = 5 * 60_000;

/** The verdict in words, for human output. */
export function verdictText(v: AttestationVerdict): string {
  switch (v.status) {
    case 'verified':
      return `signed, attestation verified (cert ${v.cert.slice(0, 16)}…)`;
    case 'unsigned':
      return 'unsigned: the addresses are only as good as the server';
    case 'invalid':
      return `ATTESTATION DOES NOT VERIFY: ${v.reason}`;
  }
}

/**
 * The domain CA chain (issuer first, root last): the profile's stored copy, else
 * `getCACertificates` over this authenticated connection (then stored).
 */
export async function domainCaChain(ctx: CliContext, session: Session): Promise<string[]> {
  const address = session.profile?.address;
  if (address) {
    const stored = await ctx.store.chain(address);
    if (stored.length > 0) return stored;
  }
  if (!session.greeting.commands.includes('getCACertificates')) {
    throw CliError.local('the server does not serve its CA certificates (no getCACertificates)');
  }
  const data = await call(session, { cmd: 'getCACertificates' });
  const pems = (data.certificates ?? []).flatMap((c) => splitPemBlocks(c.pem));
  if (pems.length === 0) throw CliError.local('the server returned no CA certificate');
  if (address) await ctx.store.saveChain(address, pems);
  return pems;
}

/**
 * Verifies signed bindings end to end: the signing certificate is fetched by its
 * fingerprint, must chain to the domain CA, be valid now, name the user
 * (`URI:irp:<address>`) and be listed by the registry for the user; the text must
 * state exactly the binding's user, device and addresses, be within its window,
 * and its signature must verify.
 */
export class BindingVerifier {
  private readonly certificates = new Map<string, Promise<ParsedCertificate | undefined>>();
  private readonly root: ParsedCertificate;
  private readonly intermediates: ParsedCertificate[];

  constructor(
    private readonly session: Session,
    caChainPem: readonly string[],
  ) {
    const chain = caChainPem.map((p) => parseCertificate(p));
    const root = chain[chain.length - 1];
    if (!root) throw CliError.local('no domain CA certificate to verify against');
    this.root = root;
    this.intermediates = chain.slice(0, -1);
  }

  private certificate(sha256: string): Promise<ParsedCertificate | undefined> {
    let found = this.certificates.get(sha256);
    if (!found) {
      found = this.session.client
        .request({ cmd: 'getCertificate', query: { by: 'sha256', sha256 } })
        .then((res) => {
          const pem = res.cmd === 'getCertificate' ? res.data.certificates?.[0]?.pem : undefined;
          return pem ? parseCertificate(pem) : undefined;
        });
      this.certificates.set(sha256, found);
    }
    return found;
  }

  /** Checks the attestation of `binding`, a binding of `user` (an IRP address). */
  async verify(
    user: string,
    binding: Binding,
    now: Date = new Date(),
  ): Promise<AttestationVerdict> {
    const att = binding.attestation;
    if (!att) return { status: 'unsigned' };
    const bad = (reason: string): AttestationVerdict => ({ status: 'invalid', reason });
    if (!binding.certificates.includes(att.cert))
      return bad('the signing certificate is not one the registry lists for the user');
    const cert = await this.certificate(att.cert).catch(() => undefined);
    if (!cert || cert.sha256 !== att.cert) return bad('the signing certificate cannot be fetched');
    try {
      buildCertificatePath(cert, { trustAnchors: [this.root], intermediates: this.intermediates });
    } catch {
      return bad('the signing certificate does not chain to the domain CA');
    }
    if (!cert.isValidAt(now)) return bad('the signing certificate is not within its validity');
    if (!cert.subjectAltNames.uri.includes(`irp:${user}`))
      return bad(`the signing certificate is not issued to ${user}`);
    let parsed;
    try {
      parsed = parseBindingAttestationText(att.text);
    } catch (e) {
      return bad(e instanceof PkiError ? e.message : 'unreadable text');
    }
    let expected: string;
    try {
      expected = buildBindingAttestationText({
        user,
        device: binding.device,
        addresses: binding.addresses,
        notBefore: parsed.notBefore,
        notAfter: parsed.notAfter,
      });
    } catch {
      return bad('the binding cannot be stated as an attestation text');
    }
    if (!Buffer.from(expected, 'utf8').equals(Buffer.from(att.text)))
      return bad('the signed text does not state this user, device and addresses');
    if (parsed.notAfter.getTime() < now.getTime()) return bad('the attestation has expired');
    if (parsed.notBefore.getTime() > now.getTime() + SKEW_MS)
      return bad('the attestation is not yet valid');
    if (!signatureVerifies(cert, att.alg, att.text, att.signature))
      return bad('the signature does not verify');
    return { status: 'verified', cert: att.cert, notAfter: parsed.notAfter };
  }
}
