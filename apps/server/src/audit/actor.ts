/**
 * Who did something, as the audit log records it (spec §13). IRP handlers build it
 * from the session; the operator API builds it from the operator's login.
 */
export interface Actor {
  kind: 'user' | 'operator';
  /**
   * The user id (lower-case) or the operator's name. For an attempt before
   * authentication (login, enroll, register) it is the user id the client named,
   * which may not exist.
   */
  id: string;
  /** How the actor authenticated: `upa`, `sca`, `enrollment-code`, or the operator's method. */
  authMethod?: string;
  /** Source address of the connection or HTTP request. */
  sourceAddress?: string;
  /** Server transaction id of the IRP command (spec §4), if any. */
  txn?: string;
}
