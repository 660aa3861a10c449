import { type SessionEndReason } from './enums.js';
import { type Binding, type CertificateInfo, type CertificateRequestInfo } from './records.js';

/** `<notify event="presence" user>`: all live bindings of a watched user (spec §8, §11). */
export interface PresenceNotify {
  event: 'presence';
  /** The IRP address. */
  user: string;
  /** Possibly empty. */
  bindings: Binding[];
}
/** `<notify event="watch-request" user/>`: someone asks to watch the owner (spec §8.1). */
export interface WatchRequestNotify {
  event: 'watch-request';
  user: string;
}
/** `<notify event="watch-removed" user/>`: a watch ended (spec §8.1). */
export interface WatchRemovedNotify {
  event: 'watch-removed';
  user: string;
}
/**
 * `<notify event="certificate">` with the `<certificate>` (PEM when newly issued,
 * none when revoked) or `<request id status="rejected"/>` (spec §11).
 */
export type CertificateNotify =
  | { event: 'certificate'; certificate: CertificateInfo; request?: undefined }
  | { event: 'certificate'; request: CertificateRequestInfo; certificate?: undefined };
/** `<notify event="session" reason retryAfter/>`: the server is about to close (spec §11). */
export interface SessionNotify {
  event: 'session';
  reason: SessionEndReason;
  /** Seconds; for `shutdown`. */
  retryAfter?: number;
}

/** Every unsolicited server event, discriminated by `event` (spec §11). */
export type IrpNotify =
  PresenceNotify | WatchRequestNotify | WatchRemovedNotify | CertificateNotify | SessionNotify;
