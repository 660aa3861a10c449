/**
 * Inputs and outputs of the identity services, shared by the IRP controller and,
 * later, the operator REST/GraphQL API. Passwords and codes are passed exactly as
 * the client sent them (spec §3) and never stored or logged.
 */
import { type UserProfileFields, type UserRecord } from '@irp/protocol';
import { type AuthMethod } from '../../transport/irp-session.js';
import { type UserEntity } from '../entities/user.entity.js';

/** Where a request comes from: for rate limits and the audit log. */
export interface RequestOrigin {
  sourceAddress: string;
  /** Server transaction id of the IRP command (spec §4). */
  txn?: string;
}

/** `login method="upa"` (spec §6.3). */
export interface PasswordLogin {
  /** User id or IRP address, as sent. */
  user: string;
  password: string;
  newPassword?: string;
}

/** Context of a login attempt. */
export interface LoginContext extends RequestOrigin {
  /**
   * Failed logins already on this connection (IRP only). When given, the failure that
   * makes it 3 is answered 2501 instead of 2200 (spec §6.3), as IrpProtocolError.
   */
  failuresOnConnection?: number;
}

/** A successful login or enrollment: what the session needs. */
export interface Authenticated {
  /** The principal to put on the session (`IrpSession.authenticate`). */
  principal: {
    userKey: string;
    userId: string;
    address: string;
    method: AuthMethod;
    certificateSerial?: string;
  };
  /** The user's full record (spec §6.4). */
  user: UserRecord;
  /**
   * Fingerprint of the password hash at authentication: store it on the session
   * under `CREDENTIAL_STAMP` so that a later password change elsewhere is noticed.
   */
  credentialStamp: string;
}

/** `register` (spec §7.2). */
export interface RegisterInput {
  userId: string;
  password: string;
  profile: UserProfileFields;
}

/** `enroll` (spec §7.2). */
export interface EnrollInput {
  userId: string;
  code: string;
  password: string;
}

/** An operator creating a user. Without a password the user is `pending` until enrolled. */
export interface CreateUserInput {
  userId: string;
  password?: string;
  profile?: UserProfileFields;
  upaEnabled?: boolean;
}

/** A new enrollment code: shown once to the operator, stored only hashed. */
export interface IssuedEnrollmentCode {
  userId: string;
  code: string;
  expiresAt: Date;
}

/** `update` (spec §7.2). */
export interface UpdateInput {
  profile: UserProfileFields;
  namesUserId?: boolean;
  namesStatus?: boolean;
}

/** `listUsers` (spec §7.2). */
export interface ListUsersQuery {
  filter?: string;
  offset?: number;
  limit?: number;
}

/**
 * Who the acting user of an authenticated command is. Identity only — no profile,
 * status or password hash: the session check may answer from a cache, so whoever
 * needs more of the user reads it from the database.
 */
export type SessionUserIdentity = Pick<UserEntity, 'id' | 'userId'>;

/** The acting user of an authenticated command, as checked for it (spec §12). */
export interface SessionUser {
  entity: SessionUserIdentity;
  method: AuthMethod;
}
