/**
 * The closed value sets of the protocol. A value outside its set is a range
 * error (2004) when decoded. Each list is the runtime twin of its type.
 */

/** Login methods (spec §6.2, §6.3). */
export const LOGIN_METHODS = ['sca', 'upa'] as const;
/** `sca` (TLS client certificate) or `upa` (user id + password). */
export type LoginMethod = (typeof LOGIN_METHODS)[number];

/** `clientCertificate status` in the greeting (spec §6.6). */
export const CLIENT_CERTIFICATE_STATUSES = [
  'none',
  'valid',
  'unknown',
  'expired',
  'revoked',
  'untrusted',
] as const;
/** What the server made of the TLS client certificate (spec §6.6). */
export type ClientCertificateStatus = (typeof CLIENT_CERTIFICATE_STATUSES)[number];

/** User record status (spec §7.1). */
export const USER_STATUSES = ['active', 'disabled', 'pending'] as const;
/** `active`, `disabled` or `pending` (spec §7.1). */
export type UserStatus = (typeof USER_STATUSES)[number];

/** Presence statuses (spec §8). */
export const PRESENCE_STATUSES = ['available', 'away', 'busy', 'dnd', 'offline'] as const;
/** A presence status (spec §8). */
export type PresenceStatus = (typeof PRESENCE_STATUSES)[number];

/** Address families (spec §8). */
export const ADDRESS_FAMILIES = ['ipv4', 'ipv6'] as const;
/** `ipv4` or `ipv6` (spec §8). */
export type AddressFamily = (typeof ADDRESS_FAMILIES)[number];

/** Transports (spec §8). */
export const TRANSPORTS = ['tcp', 'udp', 'quic', 'tls'] as const;
/** A transport of a registered address; `tcp` when absent (spec §8). */
export type Transport = (typeof TRANSPORTS)[number];

/** Binding attestation signature algorithms (spec §8.2). */
export const ATTESTATION_ALGORITHMS = [
  'ecdsa-sha256',
  'ecdsa-sha384',
  'ed25519',
  'rsa-pkcs1-sha256',
] as const;
/** The `alg` of an `<attestation>` (spec §8.2). */
export type AttestationAlgorithm = (typeof ATTESTATION_ALGORITHMS)[number];

/** Address visibility policies (spec §8.1). */
export const ADDRESS_VISIBILITIES = ['domain', 'watchers', 'nobody'] as const;
/** Who may see a user's addresses (spec §8.1). */
export type AddressVisibility = (typeof ADDRESS_VISIBILITIES)[number];

/** Subscription statuses (spec §8.1). */
export const SUBSCRIPTION_STATUSES = ['active', 'pending'] as const;
/** `active` or `pending` (spec §8.1). */
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

/** Watcher statuses (spec §8.1). */
export const WATCHER_STATUSES = ['approved', 'pending'] as const;
/** `approved` or `pending` (spec §8.1). */
export type WatcherStatus = (typeof WATCHER_STATUSES)[number];

/** Certificate profiles a client may request (spec §9). */
export const REQUEST_PROFILES = ['user', 'device'] as const;
/** `user` (clientAuth + emailProtection) or `device` (clientAuth), spec §9. */
export type RequestProfile = (typeof REQUEST_PROFILES)[number];

/** Certificate profiles as shown in responses (spec §9). */
export const CERTIFICATE_PROFILES = ['user', 'device', 'uploaded'] as const;
/** Profile of a stored certificate (spec §9). */
export type CertificateProfile = (typeof CERTIFICATE_PROFILES)[number];

/** Statuses of an end-entity certificate (spec §9). */
export const CERTIFICATE_STATUSES = ['valid', 'revoked', 'expired', 'superseded'] as const;
/** Status of a certificate in a response (spec §9). */
export type CertificateStatus = (typeof CERTIFICATE_STATUSES)[number];

/** Statuses `certificateStatus` can answer: those of §9 plus `unknown`. */
export const CERTIFICATE_QUERY_STATUSES = [...CERTIFICATE_STATUSES, 'unknown'] as const;
/** Answer of `certificateStatus` (spec §9). */
export type CertificateQueryStatus = (typeof CERTIFICATE_QUERY_STATUSES)[number];

/** Revocation reasons a client may give (spec §9, RFC 5280 subset). */
export const REVOCATION_REASONS = [
  'unspecified',
  'keyCompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
] as const;
/** An RFC 5280 revocation reason accepted by IRP (spec §9). */
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

/** Key algorithms for server-side key generation (spec §9). */
export const KEYGEN_ALGORITHMS = ['P-256', 'P-384', 'RSA-3072'] as const;
/** `<keygen algorithm>` (spec §9). */
export type KeygenAlgorithm = (typeof KEYGEN_ALGORITHMS)[number];

/** `getCertificate` purposes (spec §9). */
export const CERTIFICATE_PURPOSES = ['email'] as const;
/** `<purpose>`: `email` selects `user`-profile certificates (spec §9). */
export type CertificatePurpose = (typeof CERTIFICATE_PURPOSES)[number];

/** Statuses of a certificate request (spec §9, §11). */
export const CERTIFICATE_REQUEST_STATUSES = ['pending', 'rejected'] as const;
/** `<request status>`: `pending` (1001) or `rejected` (certificate notify). */
export type CertificateRequestStatus = (typeof CERTIFICATE_REQUEST_STATUSES)[number];

/** Reasons of a `session` notify (spec §11). */
export const SESSION_END_REASONS = [
  'shutdown',
  'disabled',
  'password-changed',
  'revoked',
  'too-slow',
] as const;
/** Why the server is about to close the session (spec §11). */
export type SessionEndReason = (typeof SESSION_END_REASONS)[number];

/** Notify events (spec §11). */
export const NOTIFY_EVENTS = [
  'presence',
  'watch-request',
  'watch-removed',
  'certificate',
  'session',
] as const;
/** The `event` attribute of `<notify>` (spec §11). */
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];
