import { type ClientCertificateStatus, type LoginMethod } from './enums.js';

/** The `<limits …/>` of the greeting (spec §6.6). */
export interface GreetingLimits {
  maxFrameBytes: number;
  maxDepth: number;
  maxElements: number;
  maxTextBytes: number;
  authTimeoutSeconds: number;
  idleTimeoutSeconds: number;
  maxSubscriptions: number;
  maxBindingsPerUser: number;
  maxPkcs12PerUser: number;
  maxCertificateDays: number;
  allowLocalAddresses: boolean;
}

/**
 * The `<greeting>` the server sends right after the TLS handshake and in reply
 * to `hello` (spec §6.6).
 */
export interface Greeting {
  /** Host name of the server. */
  server: string;
  /** The domain this DIR serves. */
  domain: string;
  serverTime: Date;
  /** Protocol versions spoken, e.g. `['1.0']`. */
  versions: string[];
  authMethods: LoginMethod[];
  /** What the server made of the TLS client certificate; `user` when recorded for one. */
  clientCertificate: { status: ClientCertificateStatus; user?: string };
  registration: { open: boolean; enrollment: boolean };
  /** Every command this server implements (names; may include ones this library does not know). */
  commands: string[];
  limits: GreetingLimits;
}
