import { type CommandName } from './commands.js';
import { type Greeting } from './greeting.js';
import {
  type Binding,
  type CaCertificate,
  type CertificateInfo,
  type CertificateRequestInfo,
  type CertificateStatusInfo,
  type ObservedAddress,
  type Pkcs12Entry,
  type Pkcs12File,
  type Referral,
  type SessionInfo,
  type Subscription,
  type UserPage,
  type UserRecord,
  type Watcher,
} from './records.js';
import { type IrpResult } from './result.js';

/** Data of a login or enroll response: the session and the user record (spec §6.4). */
export interface SessionData {
  session?: SessionInfo;
  user?: UserRecord;
}

/**
 * The data elements of each command's response (spec §6–§10). Every field is
 * optional: an error response carries none of them.
 */
export interface ResponseDataMap {
  hello: { greeting?: Greeting };
  ping: Record<string, never>;
  logout: Record<string, never>;
  login: SessionData;
  register: { user?: UserRecord };
  enroll: SessionData;
  info: { user?: UserRecord };
  update: { user?: UserRecord };
  listUsers: { users?: UserPage };
  changePassword: Record<string, never>;
  setAuthPolicy: { user?: UserRecord };
  registerAddress: { binding?: Binding; observed?: ObservedAddress };
  unregisterAddress: Record<string, never>;
  /** `user` is the IRP address looked up; `referral` with 2303 for another domain. */
  lookupAddress: { user?: string; bindings?: Binding[]; referral?: Referral };
  subscribe: { subscriptions?: Subscription[] };
  unsubscribe: Record<string, never>;
  setAddressPolicy: Record<string, never>;
  listWatchers: { watchers?: Watcher[] };
  approveWatcher: Record<string, never>;
  removeWatcher: Record<string, never>;
  getCACertificates: { certificates?: CaCertificate[]; crlUrl?: string; ocspUrl?: string };
  /** 1000: certificate + chain (+ pkcs12 with keygen); 1001: request + chain. */
  requestCertificate: {
    certificate?: CertificateInfo;
    chain?: CaCertificate[];
    request?: CertificateRequestInfo;
    pkcs12?: Uint8Array;
  };
  listCertificates: { certificates?: CertificateInfo[] };
  getCertificate: { certificates?: CertificateInfo[] };
  uploadCertificate: { certificate?: CertificateInfo };
  revokeCertificate: { certificate?: CertificateInfo };
  certificateStatus: { certificate?: CertificateStatusInfo };
  uploadPkcs12: { pkcs12?: Pkcs12Entry };
  listPkcs12: { pkcs12?: Pkcs12Entry[] };
  downloadPkcs12: { pkcs12?: Pkcs12File };
  deletePkcs12: Record<string, never>;
}

// Compile-time proof that ResponseDataMap has exactly one entry per command.
const _noMissingResponseData: [Exclude<CommandName, keyof ResponseDataMap>] extends [never]
  ? true
  : false = true;
const _noExtraResponseData: [Exclude<keyof ResponseDataMap, CommandName>] extends [never]
  ? true
  : false = true;
void _noMissingResponseData;
void _noExtraResponseData;

/** A response to a command of name `K` (spec §4). */
export interface CommandResponse<K extends CommandName> {
  /** The client transaction id echoed (`""` when the request had no valid id). */
  id: string;
  cmd: K;
  /** Server transaction id (spec §4). */
  txn: string;
  result: IrpResult;
  data: ResponseDataMap[K];
}

/**
 * A response to a frame refused before a command was identified (spec §4:
 * `cmd=""`), and to an unknown command (2000; `id` echoed when valid).
 */
export interface UnidentifiedResponse {
  id: string;
  cmd: '';
  txn: string;
  result: IrpResult;
  data: Record<string, never>;
}

/** Any response, discriminated by `cmd` (spec §4). */
export type IrpResponse =
  { [K in CommandName]: CommandResponse<K> }[CommandName] | UnidentifiedResponse;
