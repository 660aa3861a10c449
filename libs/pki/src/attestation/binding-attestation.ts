import { constants, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { canonicalIpv6 } from '../certificate/general-name.js';
import { parseCertificate, ParsedCertificate } from '../certificate/parsed-certificate.js';
import type { PemOrDer } from '../encoding/pem.js';
import { toPrivateKey, type PrivateKeyInput } from '../keys/key-algorithm.js';
import { PkiError } from '../pki.error.js';

/** Signature algorithms of signed bindings (spec §8.2). */
export type AttestationAlgorithm = 'ecdsa-sha256' | 'ecdsa-sha384' | 'ed25519' | 'rsa-pkcs1-sha256';

/** Every {@link AttestationAlgorithm}. */
export const ATTESTATION_ALGORITHMS: readonly AttestationAlgorithm[] = [
  'ecdsa-sha256',
  'ecdsa-sha384',
  'ed25519',
  'rsa-pkcs1-sha256',
];

/** Address families of spec §8. */
export type AddressFamily = 'ipv4' | 'ipv6';
/** Transports of spec §8. */
export type AddressTransport = 'tcp' | 'udp' | 'quic' | 'tls';

/** One address of a binding. */
export interface BindingAddress {
  readonly family: AddressFamily;
  /** Default `tcp`. */
  readonly transport?: AddressTransport;
  /** 1–65535; absent is written as port 0 (spec §8.2). */
  readonly port?: number;
  /** IP address text; canonicalised (IPv6 per RFC 5952). */
  readonly address: string;
}

/** The signed statement of spec §8.2. */
export interface BindingAttestation {
  /** The IRP address, e.g. `alice@example.com`. */
  readonly user: string;
  /** Device name, 1–64 of `[A-Za-z0-9._-]`. */
  readonly device: string;
  readonly addresses: readonly BindingAddress[];
  /** Whole seconds are used (milliseconds are truncated). */
  readonly notBefore: Date;
  readonly notAfter: Date;
}

const HEADER = 'IRP-BINDING-1';
const DEVICE_RE = /^[A-Za-z0-9._-]{1,64}$/;
const USER_RE = /^[\x21-\x3f\x41-\x7e]{1,64}@[a-z0-9.-]{1,253}$/;
const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;
const FAMILIES: readonly string[] = ['ipv4', 'ipv6'];
const TRANSPORTS: readonly string[] = ['tcp', 'udp', 'quic', 'tls'];

function bad(message: string): never {
  throw new PkiError('syntax', `binding attestation: ${message}`);
}

/** RFC 3339 UTC with second precision: `2026-11-25T08:00:00Z`. */
export function formatRfc3339Seconds(date: Date): string {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) bad('invalid time');
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  if (iso.length !== 24) bad('year out of range');
  return `${iso.slice(0, 19)}Z`;
}

function parseTime(text: string): Date {
  const m = TIME_RE.exec(text);
  if (!m) bad(`bad time ${text}`);
  const d = new Date(`${text.slice(0, 19)}.000Z`);
  if (Number.isNaN(d.getTime()) || formatRfc3339Seconds(d) !== text) bad(`bad time ${text}`);
  return d;
}

function canonicalAddress(family: string, address: string): string {
  if (family === 'ipv4') {
    if (!isIPv4(address)) bad(`not an IPv4 address: ${address}`);
    return address
      .split('.')
      .map((p) => String(Number(p)))
      .join('.');
  }
  if (family === 'ipv6') {
    if (!isIPv6(address) || address.includes('%')) bad(`not an IPv6 address: ${address}`);
    return canonicalIpv6(address);
  }
  bad(`bad family ${family}`);
}

function addressLine(a: BindingAddress): string {
  const family: string = a.family;
  const transport: string = a.transport ?? 'tcp';
  if (!FAMILIES.includes(family)) bad(`bad family ${family}`);
  if (!TRANSPORTS.includes(transport)) bad(`bad transport ${transport}`);
  const port = a.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) bad(`bad port ${port}`);
  return `address:${family} ${transport} ${port} ${canonicalAddress(family, a.address)}`;
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Builds the exact text a client signs (spec §8.2): lines joined by LF, no
 * trailing LF; one `address:` line per address as `family transport port
 * address` (port 0 when absent, address canonical), sorted by byte order;
 * times in RFC 3339 UTC with second precision.
 * @throws PkiError `syntax` for values that cannot appear in the text
 */
export function buildBindingAttestationText(attestation: BindingAttestation): string {
  if (!USER_RE.test(attestation.user)) bad('user must be an IRP address userId@domain');
  if (!DEVICE_RE.test(attestation.device)) bad('device must be 1–64 of [A-Za-z0-9._-]');
  if (attestation.addresses.length === 0) bad('at least one address is required');
  const lines = attestation.addresses.map(addressLine).sort(byteOrder);
  return [
    HEADER,
    `user:${attestation.user}`,
    `device:${attestation.device}`,
    ...lines,
    `notBefore:${formatRfc3339Seconds(attestation.notBefore)}`,
    `notAfter:${formatRfc3339Seconds(attestation.notAfter)}`,
  ].join('\n');
}

/**
 * Parses an attestation text strictly: valid UTF-8, exactly the layout of
 * spec §8.2, canonical addresses in byte order (the text must be exactly what
 * {@link buildBindingAttestationText} would produce from the parsed values).
 * Ports written as 0 come back absent.
 * @throws PkiError `syntax`
 */
export function parseBindingAttestationText(text: string | Uint8Array): BindingAttestation {
  let s: string;
  if (typeof text === 'string') s = text;
  else {
    try {
      s = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(text);
    } catch {
      bad('text is not valid UTF-8');
    }
  }
  const lines = s.split('\n');
  if (lines[0] !== HEADER) bad(`first line must be ${HEADER}`);
  if (lines.length < 6) bad('too few lines');
  const field = (line: string | undefined, name: string): string => {
    if (line === undefined || !line.startsWith(`${name}:`)) bad(`expected ${name}:`);
    return line.slice(name.length + 1);
  };
  const user = field(lines[1], 'user');
  const device = field(lines[2], 'device');
  const addressLines = lines.slice(3, -2);
  const notBefore = parseTime(field(lines[lines.length - 2], 'notBefore'));
  const notAfter = parseTime(field(lines[lines.length - 1], 'notAfter'));
  const addresses: BindingAddress[] = addressLines.map((line) => {
    const parts = field(line, 'address').split(' ');
    if (parts.length !== 4) bad('address line must be "family transport port address"');
    const [family = '', transport = '', portText = '', address = ''] = parts;
    if (!/^(0|[1-9]\d{0,4})$/.test(portText)) bad(`bad port ${portText}`);
    if (!FAMILIES.includes(family)) bad(`bad family ${family}`);
    if (!TRANSPORTS.includes(transport)) bad(`bad transport ${transport}`);
    const port = Number(portText);
    return {
      family: family as AddressFamily,
      transport: transport as AddressTransport,
      ...(port === 0 ? {} : { port }),
      address,
    };
  });
  const parsed: BindingAttestation = { user, device, addresses, notBefore, notAfter };
  if (buildBindingAttestationText(parsed) !== s)
    bad('text is not in canonical form (order, address form or layout)');
  return parsed;
}

/**
 * Checks the time window rule of spec §8.2: `notAfter` in the future and at
 * most `maxSeconds` (default 86 400) after `notBefore`, and `notBefore` not
 * after `notAfter`.
 * @throws PkiError `policy`
 */
export function checkBindingAttestationWindow(
  attestation: BindingAttestation,
  now: Date = new Date(),
  maxSeconds = 86_400,
): void {
  const nb = attestation.notBefore.getTime();
  const na = attestation.notAfter.getTime();
  if (na <= now.getTime())
    throw new PkiError('policy', 'attestation notAfter is not in the future');
  if (na < nb) throw new PkiError('policy', 'attestation notAfter is before notBefore');
  if (na - nb > maxSeconds * 1000)
    throw new PkiError('policy', `attestation window exceeds ${maxSeconds} s`);
}

function keyTypeFor(alg: AttestationAlgorithm): 'ec' | 'ed25519' | 'rsa' {
  switch (alg) {
    case 'ecdsa-sha256':
    case 'ecdsa-sha384':
      return 'ec';
    case 'ed25519':
      return 'ed25519';
    case 'rsa-pkcs1-sha256':
      return 'rsa';
    default:
      throw new PkiError('unsupported', `unknown attestation algorithm ${String(alg)}`);
  }
}

function nodeParams(
  alg: AttestationAlgorithm,
  key: KeyObject,
): [string | null, Parameters<typeof nodeSign>[2]] {
  const want = keyTypeFor(alg);
  if (key.asymmetricKeyType !== want) {
    throw new PkiError(
      'mismatch',
      `algorithm ${alg} does not fit a ${key.asymmetricKeyType ?? 'unknown'} key`,
    );
  }
  switch (alg) {
    case 'ecdsa-sha256':
      return ['sha256', { key, dsaEncoding: 'der' }];
    case 'ecdsa-sha384':
      return ['sha384', { key, dsaEncoding: 'der' }];
    case 'ed25519':
      return [null, key];
    case 'rsa-pkcs1-sha256':
      return ['sha256', { key, padding: constants.RSA_PKCS1_PADDING }];
  }
}

function textBytes(text: string | Uint8Array): Uint8Array {
  return typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
}

/**
 * Signs an attestation text (ECDSA signatures DER-encoded, spec §8.2).
 * @throws PkiError `mismatch` when `alg` does not fit the key type
 */
export function signBindingAttestation(
  privateKey: PrivateKeyInput,
  alg: AttestationAlgorithm,
  text: string | Uint8Array,
): Uint8Array {
  const key = toPrivateKey(privateKey);
  const [hash, params] = nodeParams(alg, key);
  return nodeSign(hash, textBytes(text), params);
}

/**
 * Verifies an attestation signature with the public key of the signing
 * certificate. The algorithm must fit the certificate's key type (ecdsa-* for
 * EC keys of any allowed curve, ed25519, rsa-pkcs1-sha256 for RSA).
 * Whether the certificate is a valid certificate of the caller is the server's check.
 * @returns true when the signature verifies, false otherwise
 * @throws PkiError `mismatch` (alg vs key type), `unsupported` (unknown alg), `syntax` (certificate unreadable)
 */
export function verifyBindingAttestation(
  certificate: PemOrDer | ParsedCertificate,
  alg: AttestationAlgorithm,
  text: string | Uint8Array,
  signature: Uint8Array,
): boolean {
  const cert =
    certificate instanceof ParsedCertificate ? certificate : parseCertificate(certificate);
  const [hash, params] = nodeParams(alg, cert.publicKey);
  try {
    return nodeVerify(hash, textBytes(text), params as Parameters<typeof nodeVerify>[2], signature);
  } catch {
    return false;
  }
}
