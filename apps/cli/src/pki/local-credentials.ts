import { createPublicKey, type KeyObject } from 'node:crypto';
import { type Attestation, type BindingAddress } from '@irp/protocol';
import {
  buildBindingAttestationText,
  generateKeyPair,
  KEY_ALGORITHM_NAMES,
  parseCertificate,
  signBindingAttestation,
  toPrivateKey,
  type AttestationAlgorithm,
  type KeyAlgorithmName,
} from '@irp/pki';
import { CliError } from '../cli/cli.error.js';
import { type LocalCredentials } from '../store/profile-store.js';

/** Default key algorithm of `irp cert request` (the issue: P-256). */
export const DEFAULT_KEY_ALGORITHM: KeyAlgorithmName = 'P-256';

/**
 * Parses `--algo` (case-insensitive: p-256, ed25519, rsa-3072 …).
 * @throws CliError (usage)
 */
export function parseKeyAlgorithm(text: string | undefined): KeyAlgorithmName {
  if (text === undefined) return DEFAULT_KEY_ALGORITHM;
  const found = KEY_ALGORITHM_NAMES.find((n) => n.toLowerCase() === text.toLowerCase());
  if (!found) throw CliError.usage(`--algo must be one of ${KEY_ALGORITHM_NAMES.join(', ')}`);
  return found;
}

/** Generates a key pair and returns the private key as PKCS#8 PEM. */
export async function generateKeyPem(algorithm: KeyAlgorithmName): Promise<string> {
  const pair = await generateKeyPair(algorithm);
  return pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** The SubjectPublicKeyInfo DER of a key (private or public), for comparisons. */
export function spkiOf(key: KeyObject): Buffer {
  return (key.type === 'private' ? createPublicKey(key) : key).export({
    type: 'spki',
    format: 'der',
  });
}

/** True when the private key belongs to the certificate. */
export function keyMatchesCertificate(keyPem: string, certPem: string): boolean {
  return spkiOf(toPrivateKey(keyPem)).equals(spkiOf(parseCertificate(certPem).publicKey));
}

/** The attestation algorithm that fits a key (spec §8.2). */
export function attestationAlgorithmFor(key: KeyObject): AttestationAlgorithm {
  switch (key.asymmetricKeyType) {
    case 'ec':
      return key.asymmetricKeyDetails?.namedCurve === 'prime256v1'
        ? 'ecdsa-sha256'
        : 'ecdsa-sha384';
    case 'ed25519':
      return 'ed25519';
    case 'rsa':
      return 'rsa-pkcs1-sha256';
    case 'rsa-pss':
    case 'dsa':
    case 'ed448':
    case 'x25519':
    case 'x448':
    case undefined:
      throw CliError.local(`a ${key.asymmetricKeyType ?? 'unknown'} key cannot sign a binding`);
  }
}

/**
 * Signs a binding (spec §8.2): the `IRP-BINDING-1` text for the user, device and
 * addresses, valid from now for `seconds`, signed with the profile's key.
 */
export function signBinding(
  credentials: LocalCredentials,
  binding: { user: string; device: string; addresses: readonly BindingAddress[] },
  seconds: number,
  now: Date = new Date(),
): Attestation {
  const key = toPrivateKey(credentials.keyPem);
  const alg = attestationAlgorithmFor(key);
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + seconds * 1000);
  const text = buildBindingAttestationText({
    user: binding.user,
    device: binding.device,
    addresses: binding.addresses.map((a) => ({
      family: a.family,
      address: a.address,
      ...(a.port !== undefined ? { port: a.port } : {}),
      ...(a.transport !== undefined ? { transport: a.transport } : {}),
    })),
    notBefore,
    notAfter,
  });
  return {
    cert: parseCertificate(credentials.certPem).sha256,
    alg,
    text: Buffer.from(text, 'utf8'),
    signature: signBindingAttestation(key, alg, text),
  };
}
