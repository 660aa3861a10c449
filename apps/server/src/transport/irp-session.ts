import { encodeFrame, encodeNotify, type Greeting, type IrpNotify } from '@irp/protocol';

/**
 * A notify encoded once and pushed as the same framed bytes to many sessions: a
 * presence change goes to every watcher of the owner, so encoding per session would
 * repeat the same work hundreds of times (benchmark figure 7).
 */
export class EncodedNotify {
  private framed: Buffer | undefined;

  constructor(readonly notify: IrpNotify) {}

  /** The frame (length prefix + XML); encoded at the first use, then shared. */
  get frame(): Buffer {
    this.framed ??= encodeFrame(encodeNotify(this.notify));
    return this.framed;
  }
}

/** Spec §6.1 states. `connected` lasts until the greeting is sent. */
export type SessionState = 'connected' | 'unauthenticated' | 'authenticated' | 'closed';

/** How the session was logged in (spec §6.2, §6.3). */
export type AuthMethod = 'sca' | 'upa';

/** Reasons of `<notify event="session">` (spec §11). */
export type SessionCloseReason =
  'shutdown' | 'disabled' | 'password-changed' | 'revoked' | 'too-slow';

/** The authenticated principal of a session. */
export interface SessionPrincipal {
  /** Internal user key (database id). */
  userKey: string;
  /** The user id, lower-case (spec §7.1). */
  userId: string;
  /** The IRP address `userId@domain`. */
  address: string;
  method: AuthMethod;
  /** SCA only: serial (32 hex digits) of the certificate that authenticated the session. */
  certificateSerial?: string;
}

/** The TLS peer as the transport saw it. */
export interface SessionPeer {
  /** Source address; IPv4 in dotted form, never `::ffff:a.b.c.d` (spec §8). */
  address: string;
  family: 'ipv4' | 'ipv6';
  port: number;
  /** DER of the client certificate presented in the handshake, if any. */
  certificate?: Buffer;
}

/**
 * The per-connection session as feature handlers see it (through `IrpContext`).
 * The transport owns the object; handlers of one connection run one at a time, in
 * order, so they can read and change it without locking.
 */
export interface IrpSession {
  /** Unique id of this connection within the server process. */
  readonly id: string;
  readonly state: SessionState;
  readonly peer: SessionPeer;
  /** Server transaction id of the command being handled (spec §4). */
  readonly txn: string;
  readonly principal: SessionPrincipal | undefined;
  readonly connectedAt: Date;
  /** Marks the session authenticated (login, enroll). */
  authenticate(principal: SessionPrincipal): void;
  /** Pushes a notify to this client (queued, bounded; spec §11). */
  notify(notify: IrpNotify | EncodedNotify): void;
  /**
   * Closes the session. With a reason, a `session` notify is sent first. When called
   * while a command is being handled, the close happens after its response.
   */
  close(reason?: SessionCloseReason): void;
  /** The greeting as it stands now (spec §6.6) — `hello` answers with it. */
  greeting(): Promise<Greeting>;
  /** Per-session state that features keep (counters, subscriptions), keyed by a symbol of theirs. */
  readonly attributes: Map<symbol, unknown>;
}
