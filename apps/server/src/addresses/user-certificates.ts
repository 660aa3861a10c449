import { Inject, Injectable, Optional } from '@nestjs/common';

/**
 * Injection token of the {@link UserCertificates} the address registry reads: provided
 * by the PKI feature (globally, e.g. `{ provide: USER_CERTIFICATES, useExisting:
 * CertificateService }` in a `@Global()` module). Until then no user has certificates.
 */
export const USER_CERTIFICATES = Symbol('USER_CERTIFICATES');

/** A certificate of a user, as the attestation check needs it (spec §8.2). */
export interface UserCertificate {
  /** The DER certificate. */
  der: Uint8Array;
  notAfter: Date;
}

/** What the address registry needs to know about a user's certificates (spec §8, §8.2). */
export interface UserCertificates {
  /**
   * SHA-256 fingerprints (64 lower-case hex digits) of the certificates the domain CA
   * issued to the user that are valid now — both profiles, never uploaded ones (spec §8).
   */
  validFingerprints(userKey: string): Promise<string[]>;
  /**
   * The certificate with fingerprint `sha256` if it is a valid certificate of the user
   * (issued by the domain CA, within its validity, not revoked); else undefined.
   */
  certificateOfUser(userKey: string, sha256: string): Promise<UserCertificate | undefined>;
}

/** No certificates at all: the registry's view until the PKI feature provides one. */
export const NO_USER_CERTIFICATES: UserCertificates = {
  validFingerprints: () => Promise.resolve([]),
  certificateOfUser: () => Promise.resolve(undefined),
};

/**
 * The registry's access to certificates: the {@link USER_CERTIFICATES} provider when
 * there is one, else {@link NO_USER_CERTIFICATES}. Calls happen outside any
 * transaction of the registry (the embedded database has a single session).
 */
@Injectable()
export class UserCertificatesPort implements UserCertificates {
  private source: UserCertificates;

  constructor(@Optional() @Inject(USER_CERTIFICATES) source?: UserCertificates) {
    this.source = source ?? NO_USER_CERTIFICATES;
  }

  /** Replaces the source (tests that bring their own certificates); returns the previous one. */
  use(source: UserCertificates): UserCertificates {
    const previous = this.source;
    this.source = source;
    return previous;
  }

  validFingerprints(userKey: string): Promise<string[]> {
    return this.source.validFingerprints(userKey);
  }

  certificateOfUser(userKey: string, sha256: string): Promise<UserCertificate | undefined> {
    return this.source.certificateOfUser(userKey, sha256);
  }
}
