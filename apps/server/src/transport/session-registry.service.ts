import { Injectable } from '@nestjs/common';
import { type IrpNotify } from '@irp/protocol';
import { type IrpSession, type SessionCloseReason } from './irp-session.js';

/**
 * The live sessions of this server instance, indexed by user. Services use it to push
 * notifies to a user's sessions and to close them (account disabled, password
 * changed, certificate revoked — spec §6.3, §6.6, §12).
 */
@Injectable()
export class SessionRegistry {
  private readonly byUser = new Map<string, Set<IrpSession>>();
  private readonly closeListeners = new Set<(session: IrpSession) => void>();
  private count = 0;

  /**
   * Calls `listener` once for every connection that closes, so features drop the
   * per-session state they keep outside the session (subscriptions). Returns a
   * function that removes the listener.
   */
  onSessionClosed(listener: (session: IrpSession) => void): () => void {
    this.closeListeners.add(listener);
    return () => {
      this.closeListeners.delete(listener);
    };
  }

  /** Called by the transport for every new connection. */
  add(_session: IrpSession): void {
    this.count++;
  }

  /** Called by the transport when a session logs in. */
  authenticated(session: IrpSession): void {
    const key = session.principal?.userKey;
    if (key === undefined) return;
    let set = this.byUser.get(key);
    if (!set) this.byUser.set(key, (set = new Set()));
    set.add(session);
  }

  /** Called by the transport when a connection closes. */
  remove(session: IrpSession): void {
    this.count--;
    const key = session.principal?.userKey;
    if (key !== undefined) {
      const set = this.byUser.get(key);
      set?.delete(session);
      if (set?.size === 0) this.byUser.delete(key);
    }
    for (const listener of this.closeListeners) {
      try {
        listener(session);
      } catch {
        // a feature's cleanup must not keep the others from running
      }
    }
  }

  /** Number of open connections on this instance. */
  get size(): number {
    return this.count;
  }

  /** The open authenticated sessions of a user (by internal user key). */
  sessionsOf(userKey: string): IrpSession[] {
    return [...(this.byUser.get(userKey) ?? [])].filter((s) => s.state === 'authenticated');
  }

  /** Pushes `notify` to every session of the user, except `except`. */
  notifyUser(userKey: string, notify: IrpNotify, except?: IrpSession): void {
    for (const session of this.sessionsOf(userKey)) if (session !== except) session.notify(notify);
  }

  /**
   * Closes the user's sessions with a `session` notify, except `except`. `filter`
   * narrows the sessions (e.g. the SCA sessions of one certificate). A session in the
   * middle of a command is closed after its response. Returns how many were closed.
   */
  closeUserSessions(
    userKey: string,
    reason: SessionCloseReason,
    options: { except?: IrpSession; filter?: (s: IrpSession) => boolean } = {},
  ): number {
    let closed = 0;
    for (const session of this.sessionsOf(userKey)) {
      if (session === options.except || (options.filter && !options.filter(session))) continue;
      session.close(reason);
      closed++;
    }
    return closed;
  }
}
