import { type Attestation } from '@irp/protocol';
import {
  PkiError,
  buildBindingAttestationText,
  checkBindingAttestationWindow,
  parseBindingAttestationText,
  verifyBindingAttestation,
} from '@irp/pki';
import { DomainError, DomainErrorCode } from '../common/domain.error.js';
import { type CanonicalAddress } from './address-validation.js';
import { type UserCertificate } from './user-certificates.js';

/** What the signed text must state: the request's user, device and addresses (spec §8.2). */
export interface AttestationExpectation {
  /** The caller's IRP address, lower-case (`alice@example.com`). */
  user: string;
  device: string;
  addresses: readonly CanonicalAddress[];
}

function refuse(message: string): never {
  throw new DomainError(DomainErrorCode.Policy, `attestation refused: ${message}`, {
    field: 'attestation',
  });
}

/**
 * Checks a signed binding (spec §8.2) and returns its `notAfter`, which bounds the
 * binding's expiry. Refused with 2306 unless: `certificate` (the caller's valid
 * certificate named by `cert`) exists; the text is an `IRP-BINDING-1` text in
 * canonical form whose user, device and addresses are exactly the request's; its
 * `notAfter` is in the future and at most 86 400 s after `notBefore`; and the
 * signature verifies with that certificate's key by the named algorithm.
 */
export function checkAttestation(
  attestation: Attestation,
  expected: AttestationExpectation,
  certificate: UserCertificate | undefined,
  now: Date = new Date(),
): Date {
  if (!certificate) refuse('the signing certificate is not a valid certificate of the caller');
  let parsed;
  try {
    parsed = parseBindingAttestationText(attestation.text);
  } catch (error) {
    if (error instanceof PkiError)
      refuse(`the text is not an IRP-BINDING-1 text (${error.message})`);
    throw error;
  }
  // exactly the text the request implies, with the client's own validity window
  const wanted = buildBindingAttestationText({
    ...expected,
    notBefore: parsed.notBefore,
    notAfter: parsed.notAfter,
  });
  if (Buffer.compare(Buffer.from(wanted, 'utf8'), Buffer.from(attestation.text)) !== 0) {
    refuse('the text does not state the user, device and addresses of this request');
  }
  try {
    checkBindingAttestationWindow(parsed, now);
  } catch (error) {
    if (error instanceof PkiError) refuse(error.message);
    throw error;
  }
  let verified = false;
  try {
    verified = verifyBindingAttestation(
      certificate.der,
      attestation.alg,
      attestation.text,
      attestation.signature,
    );
  } catch (error) {
    if (!(error instanceof PkiError)) throw error;
  }
  if (!verified) refuse('the signature does not verify');
  return parsed.notAfter;
}
