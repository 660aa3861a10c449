/**
 * Every IRP command (client → server), as one discriminated union on `cmd`.
 * Each carries the client transaction `id` (spec §4) and its typed parameters.
 * Binary parameters are octets; certificate/CSR fields stay the PEM-or-base64
 * text that was sent (see `pemOrBase64ToDer`).
 */
import {
  type AddressVisibility,
  type CertificatePurpose,
  type KeygenAlgorithm,
  type RequestProfile,
  type RevocationReason,
} from './enums.js';
import {
  type Attestation,
  type BindingAddress,
  type Presence,
  type UserProfileFields,
} from './records.js';

interface CommandBase {
  /** Client transaction id: 1–64 of `[A-Za-z0-9._:-]` (spec §4). */
  id: string;
}

// ---- session, spec §6 ----

/** `<hello/>` → the greeting inside the response (spec §6.5). */
export interface HelloCommand extends CommandBase {
  cmd: 'hello';
}
/** `<ping/>` → 1000; resets the idle timer (spec §6.1, §6.5). */
export interface PingCommand extends CommandBase {
  cmd: 'ping';
}
/** `<logout/>` → 1500, then the server closes (spec §6.5). */
export interface LogoutCommand extends CommandBase {
  cmd: 'logout';
}
/** `<login method="sca"/>`: Strong Client Authentication by the TLS certificate (spec §6.2). */
export interface ScaLoginCommand extends CommandBase {
  cmd: 'login';
  method: 'sca';
}
/** `<login method="upa"><user/><password/><newPassword/></login>` (spec §6.3). */
export interface UpaLoginCommand extends CommandBase {
  cmd: 'login';
  method: 'upa';
  /** User id or full IRP address. */
  user: string;
  /** Exactly as sent (never trimmed, spec §3). */
  password: string;
  /** Optional password change on success; exactly as sent. */
  newPassword?: string;
}
/** `login`, by method (spec §6.2, §6.3). */
export type LoginCommand = ScaLoginCommand | UpaLoginCommand;

// ---- identity directory, spec §7 ----

/** `register` (userId, password, profile fields) — open registration only (spec §7.2). */
export interface RegisterCommand extends CommandBase {
  cmd: 'register';
  userId: string;
  password: string;
  profile: UserProfileFields;
}
/** `enroll` (userId, code, password): activates a pending account and logs in (spec §7.2). */
export interface EnrollCommand extends CommandBase {
  cmd: 'enroll';
  userId: string;
  code: string;
  password: string;
}
/** `info` (optional user): own record or another user's directory record (spec §7.2). */
export interface InfoCommand extends CommandBase {
  cmd: 'info';
  user?: string;
}
/**
 * `update` (profile fields present): changes own profile fields (spec §7.2).
 * Naming `userId` or `status` must be answered 2201 with nothing changed: the
 * codec records that they were named instead of refusing, so the service answers.
 */
export interface UpdateCommand extends CommandBase {
  cmd: 'update';
  profile: UserProfileFields;
  /** A `<userId>` element was present. */
  namesUserId: boolean;
  /** A `<status>` element was present. */
  namesStatus: boolean;
}
/** `listUsers` (filter, offset, limit); defaults (0, 50) and ranges are the service's (spec §7.2). */
export interface ListUsersCommand extends CommandBase {
  cmd: 'listUsers';
  filter?: string;
  offset?: number;
  limit?: number;
}
/** `changePassword` (oldPassword, newPassword), both exactly as sent (spec §7.2). */
export interface ChangePasswordCommand extends CommandBase {
  cmd: 'changePassword';
  oldPassword: string;
  newPassword: string;
}
/** `<setAuthPolicy upa="true|false"/>` (spec §7.2). */
export interface SetAuthPolicyCommand extends CommandBase {
  cmd: 'setAuthPolicy';
  upa: boolean;
}

// ---- address registry, spec §8 ----

/** `registerAddress` (spec §8, §8.2). */
export interface RegisterAddressCommand extends CommandBase {
  cmd: 'registerAddress';
  /** Absent means `default` (the service applies it). */
  device?: string;
  /** 1..n addresses; may be empty only when `expires` is 0. */
  addresses: BindingAddress[];
  /** Seconds; 0 removes the binding; clamping is the service's. */
  expires?: number;
  presence?: Presence;
  service?: string;
  attestation?: Attestation;
}
/** `unregisterAddress` (device; absent means `default`), spec §8. */
export interface UnregisterAddressCommand extends CommandBase {
  cmd: 'unregisterAddress';
  device?: string;
}
/** `lookupAddress` (user: user id or IRP address), spec §8. */
export interface LookupAddressCommand extends CommandBase {
  cmd: 'lookupAddress';
  user: string;
}
/** `subscribe` (user, repeatable, at least one), spec §8, §8.1. */
export interface SubscribeCommand extends CommandBase {
  cmd: 'subscribe';
  users: string[];
}
/** `unsubscribe` (user, repeatable); no `<user>` at all means every subscription of the session. */
export interface UnsubscribeCommand extends CommandBase {
  cmd: 'unsubscribe';
  users: string[];
}
/** `<setAddressPolicy visibility="domain|watchers|nobody"/>` (spec §8.1). */
export interface SetAddressPolicyCommand extends CommandBase {
  cmd: 'setAddressPolicy';
  visibility: AddressVisibility;
}
/** `listWatchers` (spec §8.1). */
export interface ListWatchersCommand extends CommandBase {
  cmd: 'listWatchers';
}
/** `approveWatcher` (user), spec §8.1. */
export interface ApproveWatcherCommand extends CommandBase {
  cmd: 'approveWatcher';
  user: string;
}
/** `removeWatcher` (user; also denies a pending request), spec §8.1. */
export interface RemoveWatcherCommand extends CommandBase {
  cmd: 'removeWatcher';
  user: string;
}

// ---- PKI, spec §9 ----

/** `getCACertificates` (spec §9). */
export interface GetCACertificatesCommand extends CommandBase {
  cmd: 'getCACertificates';
}
/** The key source of a certificate request: a CSR, or server-side key generation (spec §9). */
export type CertificateKeySource =
  | { kind: 'csr'; /** PEM or base64 DER, as sent */ csr: string }
  | {
      kind: 'keygen';
      algorithm: KeygenAlgorithm;
      /** Exactly as sent (never trimmed, spec §3). */
      passphrase: string;
    };
/** `<requestCertificate profile>` with `<csr>` or `<keygen>` (spec §9). */
export interface RequestCertificateCommand extends CommandBase {
  cmd: 'requestCertificate';
  profile: RequestProfile;
  key: CertificateKeySource;
  validityDays?: number;
  /** Serial (hex) of a valid certificate of the caller to supersede. */
  renews?: string;
}
/** `listCertificates` (optional user; default self), spec §9. */
export interface ListCertificatesCommand extends CommandBase {
  cmd: 'listCertificates';
  user?: string;
}
/** The one selector of `getCertificate` (spec §9). */
export type CertificateQuery =
  | { by: 'serial'; serial: string }
  | { by: 'sha256'; sha256: string }
  | { by: 'user'; user: string; purpose?: CertificatePurpose };
/** `getCertificate` (one of serial, sha256, user [+ purpose]), spec §9. */
export interface GetCertificateCommand extends CommandBase {
  cmd: 'getCertificate';
  query: CertificateQuery;
}
/** `uploadCertificate` (certificate, optional chain), each PEM or base64 as sent (spec §9). */
export interface UploadCertificateCommand extends CommandBase {
  cmd: 'uploadCertificate';
  certificate: string;
  /** Issuer first; empty when no `<chain>` was sent. */
  chain: string[];
}
/** `revokeCertificate` (serial, reason; absent reason means `unspecified`), spec §9. */
export interface RevokeCertificateCommand extends CommandBase {
  cmd: 'revokeCertificate';
  serial: string;
  reason?: RevocationReason;
}
/** The one selector of `certificateStatus` (spec §9). */
export type CertificateStatusQuery =
  { by: 'serial'; serial: string } | { by: 'sha256'; sha256: string };
/** `certificateStatus` (serial or sha256), spec §9. */
export interface CertificateStatusCommand extends CommandBase {
  cmd: 'certificateStatus';
  query: CertificateStatusQuery;
}

// ---- PKCS#12 backups, spec §10 ----

/** `uploadPkcs12` (name, data base64 → octets), spec §10. */
export interface UploadPkcs12Command extends CommandBase {
  cmd: 'uploadPkcs12';
  name: string;
  data: Uint8Array;
}
/** `listPkcs12` (spec §10). */
export interface ListPkcs12Command extends CommandBase {
  cmd: 'listPkcs12';
}
/** `downloadPkcs12` (`<id>`, here `pkcs12Id` so as not to clash with the transaction id), spec §10. */
export interface DownloadPkcs12Command extends CommandBase {
  cmd: 'downloadPkcs12';
  pkcs12Id: string;
}
/** `deletePkcs12` (`<id>` → `pkcs12Id`), spec §10. */
export interface DeletePkcs12Command extends CommandBase {
  cmd: 'deletePkcs12';
  pkcs12Id: string;
}

/** Every IRP command, discriminated by `cmd` (spec §6–§10). */
export type IrpCommand =
  | HelloCommand
  | PingCommand
  | LogoutCommand
  | LoginCommand
  | RegisterCommand
  | EnrollCommand
  | InfoCommand
  | UpdateCommand
  | ListUsersCommand
  | ChangePasswordCommand
  | SetAuthPolicyCommand
  | RegisterAddressCommand
  | UnregisterAddressCommand
  | LookupAddressCommand
  | SubscribeCommand
  | UnsubscribeCommand
  | SetAddressPolicyCommand
  | ListWatchersCommand
  | ApproveWatcherCommand
  | RemoveWatcherCommand
  | GetCACertificatesCommand
  | RequestCertificateCommand
  | ListCertificatesCommand
  | GetCertificateCommand
  | UploadCertificateCommand
  | RevokeCertificateCommand
  | CertificateStatusCommand
  | UploadPkcs12Command
  | ListPkcs12Command
  | DownloadPkcs12Command
  | DeletePkcs12Command;

/** The element name of a command. */
export type CommandName = IrpCommand['cmd'];

/** The command of a given name. */
export type CommandOf<K extends CommandName> = Extract<IrpCommand, { cmd: K }>;

/**
 * A command without its transaction id, for senders that generate ids
 * (distributes over the union, unlike `Omit<IrpCommand, 'id'>`).
 */
export type IrpCommandInput = IrpCommand extends infer C
  ? C extends IrpCommand
    ? Omit<C, 'id'> & { id?: string }
    : never
  : never;

/** Every command name, in spec order (§6–§10). */
export const COMMAND_NAMES = Object.freeze([
  'hello',
  'ping',
  'logout',
  'login',
  'register',
  'enroll',
  'info',
  'update',
  'listUsers',
  'changePassword',
  'setAuthPolicy',
  'registerAddress',
  'unregisterAddress',
  'lookupAddress',
  'subscribe',
  'unsubscribe',
  'setAddressPolicy',
  'listWatchers',
  'approveWatcher',
  'removeWatcher',
  'getCACertificates',
  'requestCertificate',
  'listCertificates',
  'getCertificate',
  'uploadCertificate',
  'revokeCertificate',
  'certificateStatus',
  'uploadPkcs12',
  'listPkcs12',
  'downloadPkcs12',
  'deletePkcs12',
] as const satisfies readonly CommandName[]) satisfies readonly CommandName[];

// Compile-time proof that COMMAND_NAMES lists every command.
type MissingCommandNames = Exclude<CommandName, (typeof COMMAND_NAMES)[number]>;
const _allCommandsListed: [MissingCommandNames] extends [never] ? true : MissingCommandNames = true;
void _allCommandsListed;

const COMMAND_NAME_SET: ReadonlySet<string> = new Set<string>(COMMAND_NAMES);

/** True when `name` is the element name of an IRP command (narrows the type). */
export function isCommandName(name: string): name is CommandName {
  return COMMAND_NAME_SET.has(name);
}
