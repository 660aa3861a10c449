import {
  type AddressFamily,
  type AttestationAlgorithm,
  type CertificateProfile,
  type CertificateQueryStatus,
  type CertificateRequestStatus,
  type CertificateStatus,
  type LoginMethod,
  type PresenceStatus,
  type RevocationReason,
  type SubscriptionStatus,
  type Transport,
  type UserStatus,
  type WatcherStatus,
} from './enums.js';

/** A free user attribute `<attribute name="…">value</attribute>` (spec §7.1). */
export interface UserAttribute {
  name: string;
  value: string;
}

/**
 * Profile fields a client may send in `register` and `update` (spec §7.1, §7.2).
 * A field that is absent is `undefined`; a field sent empty is `""`.
 */
export interface UserProfileFields {
  displayName?: string;
  email?: string;
  givenName?: string;
  surname?: string;
  organization?: string;
  title?: string;
  phone?: string;
  /** `<attribute name="…">` elements in order; `undefined` when none was sent. */
  attributes?: UserAttribute[];
}

/**
 * A `<user>` record (spec §7.1). Another user's directory record carries only
 * userId, address, displayName, email, organization, title and status.
 */
export interface UserRecord extends UserProfileFields {
  userId: string;
  /** The IRP address `userId@domain`. */
  address?: string;
  status?: UserStatus;
  upaEnabled?: boolean;
  createdAt?: Date;
  updatedAt?: Date;
}

/** `<session method user expiresIdleSeconds/>` of a login or enroll response (spec §6.4). */
export interface SessionInfo {
  method: LoginMethod;
  /** The IRP address of the logged-in user. */
  user: string;
  expiresIdleSeconds: number;
}

/** An `<address family port transport>addr</address>` (spec §8). */
export interface BindingAddress {
  family: AddressFamily;
  /** The address text as sent (request) or canonical (response). */
  address: string;
  /** 1–65535 in valid data; absent when not given. */
  port?: number;
  /** Absent means `tcp`. */
  transport?: Transport;
}

/** `<presence status>note</presence>` (spec §8). The note is never trimmed (spec §3). */
export interface Presence {
  status: PresenceStatus;
  note?: string;
}

/**
 * `<attestation cert alg text>signature</attestation>` of a signed binding
 * (spec §8.2). `text` and `signature` are the decoded octets.
 */
export interface Attestation {
  /** SHA-256 fingerprint (hex) of the signing certificate. */
  cert: string;
  alg: AttestationAlgorithm;
  /** The signed `IRP-BINDING-1` text (base64 on the wire). */
  text: Uint8Array;
  /** The signature (base64 on the wire; ECDSA as DER). */
  signature: Uint8Array;
}

/** A `<binding>` in registerAddress / lookupAddress responses and presence notifies (spec §8). */
export interface Binding {
  device: string;
  expiresAt: Date;
  updatedAt?: Date;
  addresses: BindingAddress[];
  presence?: Presence;
  service?: string;
  /** SHA-256 fingerprints of the user's valid CA-issued certificates (`<certificate sha256/>`). */
  certificates: string[];
  attestation?: Attestation;
}

/** `<observed family port>addr</observed>`: the source the server saw (spec §8). */
export interface ObservedAddress {
  family: AddressFamily;
  address: string;
  port?: number;
}

/** `<referral domain/>`: the user belongs to another domain (spec §8). */
export interface Referral {
  domain: string;
}

/** `<subscription user status/>` (spec §8.1). */
export interface Subscription {
  /** The IRP address. */
  user: string;
  status: SubscriptionStatus;
}

/** `<watcher user status since/>` (spec §8.1). */
export interface Watcher {
  /** The IRP address. */
  user: string;
  status: WatcherStatus;
  since?: Date;
}

/**
 * An end-entity `<certificate serial sha256 notBefore notAfter status profile
 * revokedAt reason>PEM</certificate>` (spec §9). `pem` is absent in lists.
 */
export interface CertificateInfo {
  serial: string;
  sha256: string;
  notBefore: Date;
  notAfter: Date;
  status: CertificateStatus;
  profile?: CertificateProfile;
  revokedAt?: Date;
  reason?: RevocationReason;
  pem?: string;
}

/** A CA `<certificate sha256 notBefore notAfter>PEM</certificate>` (spec §9). */
export interface CaCertificate {
  sha256: string;
  notBefore: Date;
  notAfter: Date;
  pem: string;
}

/** `<certificate serial sha256 status revokedAt reason/>` of certificateStatus (spec §9). */
export interface CertificateStatusInfo {
  /** Absent only for an `unknown` certificate asked for by sha256. */
  serial?: string;
  /** Absent only for an `unknown` certificate asked for by serial. */
  sha256?: string;
  status: CertificateQueryStatus;
  revokedAt?: Date;
  reason?: RevocationReason;
}

/** `<request id status/>`: a certificate request awaiting or refused approval (spec §9, §11). */
export interface CertificateRequestInfo {
  id: string;
  status: CertificateRequestStatus;
}

/** `<pkcs12 id name size sha256 createdAt/>` (spec §10). */
export interface Pkcs12Entry {
  id: string;
  name: string;
  size: number;
  sha256: string;
  createdAt: Date;
}

/** A PKCS#12 entry with its content (downloadPkcs12, spec §10). */
export interface Pkcs12File extends Pkcs12Entry {
  data: Uint8Array;
}

/** `<users total offset limit>` of a listUsers response (spec §7.2). */
export interface UserPage {
  total: number;
  offset: number;
  limit: number;
  users: UserRecord[];
}
