import { type SessionPeer } from '../transport/irp-session.js';
import { type UserEntity } from './entities/user.entity.js';

/**
 * Injection token of the {@link ScaAuthenticator}. The PKI feature provides it from a
 * global module; until then `login method="sca"` answers 2200 (spec §6.2).
 */
export const SCA_AUTHENTICATOR = Symbol('SCA_AUTHENTICATOR');

/** Who a verified TLS client certificate belongs to. */
export interface ScaIdentity {
  /** `UserEntity.id` of the user the certificate was issued to (or accepted for). */
  userKey: string;
  /** Serial of the certificate (32 hex digits), kept in the session principal. */
  certificateSerial: string;
  /**
   * The user's row, read in the same statement as the certificate's revocation state
   * (saves the login a round trip); when absent, the identity service reads it.
   */
  user?: UserEntity;
}

/**
 * Strong Client Authentication (spec §6.2): checks the handshake's client
 * certificate — chains to the domain CA, valid now, EKU clientAuth, recorded in the
 * registry as issued to (or accepted for) a user by issuer and serial, not revoked
 * in the registry at this moment. Returns undefined when any check fails. The
 * identity service then also requires that user to be `active`.
 */
export interface ScaAuthenticator {
  authenticate(peer: SessionPeer): Promise<ScaIdentity | undefined>;
}
