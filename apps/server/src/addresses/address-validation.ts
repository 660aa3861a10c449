import {
  type AddressFamily,
  type Attestation,
  type BindingAddress,
  type Presence,
  type Transport,
} from '@irp/protocol';
import { DomainError, DomainErrorCode } from '../common/domain.error.js';
import { classifyIp, formatIp, parseIp } from './ip-address.js';

/**
 * The rules of spec §8 for a `registerAddress` request, as pure functions: what is
 * refused with which code, and the canonical form that is stored.
 */

/** Spec §8: 1–64 of `[A-Za-z0-9._-]`; absent means `default`. */
export const DEVICE_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const DEFAULT_DEVICE = 'default';
/** Spec §8: 1–8 addresses per binding. */
export const MAX_ADDRESSES = 8;
/** Spec §8: `expires` is clamped to [60, 86400]; 0 removes the binding. */
export const MIN_EXPIRES_SECONDS = 60;
export const MAX_EXPIRES_SECONDS = 86_400;
/** Decision: `expires` absent means one hour, the value of the spec's example. */
export const DEFAULT_EXPIRES_SECONDS = 3600;
/** Spec §8: a presence note is at most 256 characters. */
export const MAX_NOTE_CHARS = 256;
/** Decision: a service label is 1–64 characters without control characters. */
export const MAX_SERVICE_CHARS = 64;

/** An address as stored and shown: canonical text, transport always present. */
export interface CanonicalAddress {
  family: AddressFamily;
  address: string;
  port?: number;
  transport: Transport;
}

/** A validated registration (spec §8). */
export interface ValidRegistration {
  device: string;
  /** True when `expires` was 0: remove the device's binding. */
  remove: boolean;
  addresses: CanonicalAddress[];
  /** Clamped lifetime in seconds (meaningless when `remove`). */
  expiresSeconds: number;
  presence?: Presence;
  service?: string;
  attestation?: Attestation;
}

/** What a registration request carries (the `registerAddress` command's fields). */
export interface RegistrationRequest {
  device?: string | undefined;
  addresses: readonly BindingAddress[];
  expires?: number | undefined;
  presence?: Presence | undefined;
  service?: string | undefined;
  attestation?: Attestation | undefined;
}

/** Policy switches of the validation (configuration). */
export interface ValidationOptions {
  /** `IRP_ALLOW_LOCAL_ADDRESSES`: accept loopback and link-local addresses. */
  allowLocalAddresses: boolean;
  /** The lower clamp of `expires` (60 by spec; lower only in tests). */
  minExpiresSeconds?: number;
}

/** Validates a device name (spec §8); absent or empty → `default`. */
export function validateDevice(device: string | undefined): string {
  if (device === undefined || device === '') return DEFAULT_DEVICE;
  if (!DEVICE_PATTERN.test(device)) {
    throw new DomainError(DomainErrorCode.ValueSyntax, 'device must be 1-64 of [A-Za-z0-9._-]', {
      field: 'device',
    });
  }
  return device;
}

/**
 * Canonicalises one address (spec §8): the text must be an address of the stated
 * family (else 2005), IPv6 is rewritten per RFC 5952, the port is 1–65535 (else 2004),
 * and unspecified, multicast, broadcast and IPv4-mapped addresses are refused (2306),
 * as are loopback and link-local ones unless `allowLocalAddresses`.
 */
export function canonicalAddress(
  input: BindingAddress,
  options: ValidationOptions,
): CanonicalAddress {
  const ip = parseIp(input.address);
  if (!ip || ip.family !== input.family) {
    throw new DomainError(
      DomainErrorCode.ValueSyntax,
      `${JSON.stringify(input.address)} is not an ${input.family === 'ipv4' ? 'IPv4' : 'IPv6'} address`,
      { field: 'address' },
    );
  }
  if (input.port !== undefined && (input.port < 1 || input.port > 65_535)) {
    throw new DomainError(DomainErrorCode.ValueRange, `port ${input.port} is outside 1-65535`, {
      field: 'port',
    });
  }
  const kind = classifyIp(ip);
  const local = kind === 'loopback' || kind === 'link-local';
  if (kind !== 'unicast' && !(local && options.allowLocalAddresses)) {
    throw new DomainError(DomainErrorCode.Policy, `${kind} addresses may not be registered`, {
      field: 'address',
    });
  }
  const address: CanonicalAddress = {
    family: ip.family,
    address: formatIp(ip),
    transport: input.transport ?? 'tcp',
  };
  if (input.port !== undefined) address.port = input.port;
  return address;
}

/**
 * Clamps `expires` (spec §8): absent → {@link DEFAULT_EXPIRES_SECONDS}, negative →
 * 2004, 0 → remove, else into [min, 86400].
 */
export function clampExpires(
  expires: number | undefined,
  minSeconds = MIN_EXPIRES_SECONDS,
): number {
  if (expires === undefined) return DEFAULT_EXPIRES_SECONDS;
  if (expires < 0)
    throw new DomainError(DomainErrorCode.ValueRange, 'expires must not be negative', {
      field: 'expires',
    });
  if (expires === 0) return 0;
  return Math.min(Math.max(expires, minSeconds), MAX_EXPIRES_SECONDS);
}

/**
 * Validates a whole registration in a fixed order — device, expires, addresses (count,
 * then each in order), presence, service — so that the first problem decides the code.
 * With `expires` 0 only the device matters: the binding is removed.
 */
export function validateRegistration(
  request: RegistrationRequest,
  options: ValidationOptions,
): ValidRegistration {
  const device = validateDevice(request.device);
  const expiresSeconds = clampExpires(request.expires, options.minExpiresSeconds);
  if (expiresSeconds === 0) return { device, remove: true, addresses: [], expiresSeconds: 0 };
  if (request.addresses.length === 0) {
    throw new DomainError(DomainErrorCode.MissingParameter, 'at least one <address> is required', {
      field: 'address',
    });
  }
  if (request.addresses.length > MAX_ADDRESSES) {
    throw new DomainError(
      DomainErrorCode.ValueRange,
      `at most ${MAX_ADDRESSES} addresses per binding`,
      { field: 'address' },
    );
  }
  const addresses = request.addresses.map((a) => canonicalAddress(a, options));
  const registration: ValidRegistration = { device, remove: false, addresses, expiresSeconds };
  if (request.presence) {
    const note = request.presence.note;
    // characters = Unicode code points (what PostgreSQL's char_length counts)
    if (note !== undefined && [...note].length > MAX_NOTE_CHARS) {
      throw new DomainError(
        DomainErrorCode.ValueRange,
        `presence note longer than ${MAX_NOTE_CHARS} characters`,
        {
          field: 'presence',
        },
      );
    }
    registration.presence =
      note === undefined || note === ''
        ? { status: request.presence.status }
        : { ...request.presence };
  }
  if (request.service !== undefined && request.service !== '') {
    if ([...request.service].length > MAX_SERVICE_CHARS) {
      throw new DomainError(
        DomainErrorCode.ValueRange,
        `service longer than ${MAX_SERVICE_CHARS} characters`,
        {
          field: 'service',
        },
      );
    }
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(request.service)) {
      throw new DomainError(DomainErrorCode.ValueSyntax, 'service contains control characters', {
        field: 'service',
      });
    }
    registration.service = request.service;
  }
  if (request.attestation) registration.attestation = request.attestation;
  return registration;
}
