/**
 * fast-check arbitraries for every message type. Values are generated in the
 * form the decoder produces (trimmed where spec §3 trims, lists absent rather
 * than empty where the decoder reports absence), so encode∘decode must be the
 * identity on them.
 */
import fc from 'fast-check';
import {
  type CommandName,
  type CommandOf,
  COMMAND_NAMES,
  type IrpCommand,
} from '../messages/commands.js';
import {
  ADDRESS_FAMILIES,
  ADDRESS_VISIBILITIES,
  ATTESTATION_ALGORITHMS,
  CERTIFICATE_PROFILES,
  CERTIFICATE_QUERY_STATUSES,
  CERTIFICATE_REQUEST_STATUSES,
  CERTIFICATE_STATUSES,
  CLIENT_CERTIFICATE_STATUSES,
  KEYGEN_ALGORITHMS,
  LOGIN_METHODS,
  PRESENCE_STATUSES,
  REQUEST_PROFILES,
  REVOCATION_REASONS,
  SESSION_END_REASONS,
  SUBSCRIPTION_STATUSES,
  TRANSPORTS,
  USER_STATUSES,
  WATCHER_STATUSES,
} from '../messages/enums.js';
import { type Greeting } from '../messages/greeting.js';
import { type IrpNotify } from '../messages/notify.js';
import {
  type Attestation,
  type Binding,
  type BindingAddress,
  type CaCertificate,
  type CertificateInfo,
  type UserProfileFields,
  type UserRecord,
} from '../messages/records.js';
import { type IrpResponse, type ResponseDataMap } from '../messages/responses.js';
import { type IrpResult } from '../messages/result.js';
import { RESULT_CODES } from '../result-codes.js';
import { trimXmlSpace } from '../xml/xml-element.js';

/** One character XML 1.0 can carry, biased towards the ones that need escaping. */
export const xmlChar: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom('\t', '\n', '\r', ' ', '&', '<', '>', '"', "'", ']', ';', '#'),
  },
  {
    weight: 6,
    arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCodePoint(c)),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0x80, max: 0xd7ff }).map((c) => String.fromCodePoint(c)),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0xe000, max: 0xfffd }).map((c) => String.fromCodePoint(c)),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)),
  },
);

/** Any text XML can carry, used exactly as sent (passwords, notes). */
export const rawText = (minLength = 0): fc.Arbitrary<string> =>
  fc.string({ unit: xmlChar, minLength, maxLength: 40 });

/** Text as the decoder returns trimmed text; possibly empty. */
export const trimmedText: fc.Arbitrary<string> = rawText().map(trimXmlSpace);

/** Non-empty trimmed text: a required or present trimmed value. */
export const word: fc.Arbitrary<string> = trimmedText.filter((s) => s.length > 0);

/** A valid client transaction id (spec §4). */
export const commandId: fc.Arbitrary<string> = fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/);

/** A time at second precision within 1970–9999 (what RFC 3339 + formatTime carry). */
export const time: fc.Arbitrary<Date> = fc
  .integer({ min: 0, max: 253_402_300_799 })
  .map((s) => new Date(s * 1000));

/** Any safe integer. */
export const integer: fc.Arbitrary<number> = fc.integer({ min: -(2 ** 40), max: 2 ** 40 });

/** Octets. */
export const bytes: fc.Arbitrary<Buffer> = fc
  .uint8Array({ maxLength: 48 })
  .map((b) => Buffer.from(b));

/** Non-empty octets (an empty base64 value reads as "missing"). */
export const nonEmptyBytes: fc.Arbitrary<Buffer> = bytes.filter((b) => b.length > 0);

const nonEmptyList = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T[]> =>
  fc.array(a, { minLength: 1, maxLength: 3 });

// ---- records ----

/** Profile fields as decoded: each absent, or present (possibly empty). */
export const profileFields: fc.Arbitrary<UserProfileFields> = fc.record(
  {
    displayName: trimmedText,
    email: trimmedText,
    givenName: trimmedText,
    surname: trimmedText,
    organization: trimmedText,
    title: trimmedText,
    phone: trimmedText,
    attributes: nonEmptyList(fc.record({ name: word, value: trimmedText })),
  },
  { requiredKeys: [] },
);

/** A user record (§7.1). */
export const userRecord: fc.Arbitrary<UserRecord> = fc
  .tuple(
    fc.record(
      {
        userId: word,
        address: word,
        status: fc.constantFrom(...USER_STATUSES),
        upaEnabled: fc.boolean(),
        createdAt: time,
        updatedAt: time,
      },
      { requiredKeys: ['userId'] },
    ),
    profileFields,
  )
  .map(([u, p]) => ({ ...u, ...p }));

export const bindingAddress: fc.Arbitrary<BindingAddress> = fc.record(
  {
    family: fc.constantFrom(...ADDRESS_FAMILIES),
    address: word,
    port: integer,
    transport: fc.constantFrom(...TRANSPORTS),
  },
  { requiredKeys: ['family', 'address'] },
);

export const presence = fc.record(
  { status: fc.constantFrom(...PRESENCE_STATUSES), note: rawText(1) },
  { requiredKeys: ['status'] },
);

export const attestation: fc.Arbitrary<Attestation> = fc.record({
  cert: word,
  alg: fc.constantFrom(...ATTESTATION_ALGORITHMS),
  text: nonEmptyBytes,
  signature: nonEmptyBytes,
});

export const binding: fc.Arbitrary<Binding> = fc.record(
  {
    device: word,
    expiresAt: time,
    updatedAt: time,
    addresses: fc.array(bindingAddress, { maxLength: 3 }),
    presence,
    service: word,
    certificates: fc.array(word, { maxLength: 3 }),
    attestation,
  },
  { requiredKeys: ['device', 'expiresAt', 'addresses', 'certificates'] },
);

export const certificateInfo: fc.Arbitrary<CertificateInfo> = fc.record(
  {
    serial: word,
    sha256: word,
    notBefore: time,
    notAfter: time,
    status: fc.constantFrom(...CERTIFICATE_STATUSES),
    profile: fc.constantFrom(...CERTIFICATE_PROFILES),
    revokedAt: time,
    reason: fc.constantFrom(...REVOCATION_REASONS),
    pem: word,
  },
  { requiredKeys: ['serial', 'sha256', 'notBefore', 'notAfter', 'status'] },
);

export const caCertificate: fc.Arbitrary<CaCertificate> = fc.record({
  sha256: word,
  notBefore: time,
  notAfter: time,
  pem: word,
});

const pkcs12Entry = fc.record({
  id: word,
  name: word,
  size: integer,
  sha256: word,
  createdAt: time,
});
const requestInfo = fc.record({
  id: word,
  status: fc.constantFrom(...CERTIFICATE_REQUEST_STATUSES),
});
const sessionInfo = fc.record({
  method: fc.constantFrom(...LOGIN_METHODS),
  user: word,
  expiresIdleSeconds: integer,
});

// ---- commands ----

type CommandArbs = { [K in CommandName]: fc.Arbitrary<Omit<CommandOf<K>, 'id' | 'cmd'>> };

const none = fc.constant({});
const oneUser = fc.record({ user: word });
const onePkcs12Id = fc.record({ pkcs12Id: word });

const COMMAND_PARAMS: CommandArbs = {
  hello: none,
  ping: none,
  logout: none,
  login: fc.oneof(
    fc.constant({ method: 'sca' as const }),
    fc.record(
      {
        method: fc.constant('upa' as const),
        user: word,
        password: rawText(1),
        newPassword: rawText(1),
      },
      { requiredKeys: ['method', 'user', 'password'] },
    ),
  ),
  register: fc.record({ userId: word, password: rawText(1), profile: profileFields }),
  enroll: fc.record({ userId: word, code: word, password: rawText(1) }),
  info: fc.record({ user: word }, { requiredKeys: [] }),
  update: fc.record({
    profile: profileFields,
    namesUserId: fc.boolean(),
    namesStatus: fc.boolean(),
  }),
  listUsers: fc.record({ filter: word, offset: integer, limit: integer }, { requiredKeys: [] }),
  changePassword: fc.record({ oldPassword: rawText(1), newPassword: rawText(1) }),
  setAuthPolicy: fc.record({ upa: fc.boolean() }),
  registerAddress: fc.oneof(
    fc.record(
      {
        device: word,
        addresses: nonEmptyList(bindingAddress),
        expires: integer,
        presence,
        service: word,
        attestation,
      },
      { requiredKeys: ['addresses'] },
    ),
    fc.record(
      { device: word, addresses: fc.constant<BindingAddress[]>([]), expires: fc.constant(0) },
      { requiredKeys: ['addresses', 'expires'] },
    ),
  ),
  unregisterAddress: fc.record({ device: word }, { requiredKeys: [] }),
  lookupAddress: oneUser,
  subscribe: fc.record({ users: nonEmptyList(word) }),
  unsubscribe: fc.record({ users: fc.array(word, { maxLength: 3 }) }),
  setAddressPolicy: fc.record({ visibility: fc.constantFrom(...ADDRESS_VISIBILITIES) }),
  listWatchers: none,
  approveWatcher: oneUser,
  removeWatcher: oneUser,
  getCACertificates: none,
  requestCertificate: fc.record(
    {
      profile: fc.constantFrom(...REQUEST_PROFILES),
      key: fc.oneof(
        fc.record({ kind: fc.constant('csr' as const), csr: word }),
        fc.record({
          kind: fc.constant('keygen' as const),
          algorithm: fc.constantFrom(...KEYGEN_ALGORITHMS),
          passphrase: rawText(1),
        }),
      ),
      validityDays: integer,
      renews: word,
    },
    { requiredKeys: ['profile', 'key'] },
  ),
  listCertificates: fc.record({ user: word }, { requiredKeys: [] }),
  getCertificate: fc.record({
    query: fc.oneof(
      fc.record({ by: fc.constant('serial' as const), serial: word }),
      fc.record({ by: fc.constant('sha256' as const), sha256: word }),
      fc.record(
        { by: fc.constant('user' as const), user: word, purpose: fc.constant('email' as const) },
        { requiredKeys: ['by', 'user'] },
      ),
    ),
  }),
  uploadCertificate: fc.record({ certificate: word, chain: fc.array(word, { maxLength: 3 }) }),
  revokeCertificate: fc.record(
    { serial: word, reason: fc.constantFrom(...REVOCATION_REASONS) },
    { requiredKeys: ['serial'] },
  ),
  certificateStatus: fc.record({
    query: fc.oneof(
      fc.record({ by: fc.constant('serial' as const), serial: word }),
      fc.record({ by: fc.constant('sha256' as const), sha256: word }),
    ),
  }),
  uploadPkcs12: fc.record({ name: word, data: nonEmptyBytes }),
  listPkcs12: none,
  downloadPkcs12: onePkcs12Id,
  deletePkcs12: onePkcs12Id,
};

/** An arbitrary command of the given name. */
export function commandOf<K extends CommandName>(name: K): fc.Arbitrary<CommandOf<K>> {
  const params = COMMAND_PARAMS[name] as fc.Arbitrary<object>;
  return fc
    .tuple(commandId, params)
    .map(([id, p]) => ({ cmd: name, id, ...p }) as unknown as CommandOf<K>);
}

/** An arbitrary command of any kind. */
export const command: fc.Arbitrary<IrpCommand> = fc.oneof(
  ...COMMAND_NAMES.map((n) => commandOf(n) as fc.Arbitrary<IrpCommand>),
);

// ---- responses ----

type DataArbs = { [K in CommandName]: fc.Arbitrary<ResponseDataMap[K]> };
const noData = fc.constant({});

export const greeting: fc.Arbitrary<Greeting> = fc.record({
  server: word,
  domain: word,
  serverTime: time,
  versions: fc.array(word, { maxLength: 3 }),
  authMethods: fc.subarray([...LOGIN_METHODS]),
  clientCertificate: fc.record(
    { status: fc.constantFrom(...CLIENT_CERTIFICATE_STATUSES), user: word },
    { requiredKeys: ['status'] },
  ),
  registration: fc.record({ open: fc.boolean(), enrollment: fc.boolean() }),
  commands: fc.array(word, { maxLength: 5 }),
  limits: fc.record({
    maxFrameBytes: integer,
    maxDepth: integer,
    maxElements: integer,
    maxTextBytes: integer,
    authTimeoutSeconds: integer,
    idleTimeoutSeconds: integer,
    maxSubscriptions: integer,
    maxBindingsPerUser: integer,
    maxPkcs12PerUser: integer,
    maxCertificateDays: integer,
    allowLocalAddresses: fc.boolean(),
  }),
});

const sessionData = fc.record({ session: sessionInfo, user: userRecord }, { requiredKeys: [] });
const userData = fc.record({ user: userRecord }, { requiredKeys: [] });
const certificateList = fc.record(
  { certificates: nonEmptyList(certificateInfo) },
  { requiredKeys: [] },
);
const oneCertificate = fc.record({ certificate: certificateInfo }, { requiredKeys: [] });

const RESPONSE_DATA: DataArbs = {
  hello: fc.record({ greeting }, { requiredKeys: [] }),
  ping: noData,
  logout: noData,
  login: sessionData,
  register: userData,
  enroll: sessionData,
  info: userData,
  update: userData,
  listUsers: fc.record(
    {
      users: fc.record({
        total: integer,
        offset: integer,
        limit: integer,
        users: fc.array(userRecord, { maxLength: 3 }),
      }),
    },
    { requiredKeys: [] },
  ),
  changePassword: noData,
  setAuthPolicy: userData,
  registerAddress: fc.record(
    {
      binding,
      observed: fc.record(
        { family: fc.constantFrom(...ADDRESS_FAMILIES), address: word, port: integer },
        { requiredKeys: ['family', 'address'] },
      ),
    },
    { requiredKeys: [] },
  ),
  unregisterAddress: noData,
  lookupAddress: fc.record(
    { user: word, bindings: nonEmptyList(binding), referral: fc.record({ domain: word }) },
    { requiredKeys: [] },
  ),
  subscribe: fc.record(
    {
      subscriptions: nonEmptyList(
        fc.record({ user: word, status: fc.constantFrom(...SUBSCRIPTION_STATUSES) }),
      ),
    },
    { requiredKeys: [] },
  ),
  unsubscribe: noData,
  setAddressPolicy: noData,
  listWatchers: fc.record(
    {
      watchers: nonEmptyList(
        fc.record(
          { user: word, status: fc.constantFrom(...WATCHER_STATUSES), since: time },
          { requiredKeys: ['user', 'status'] },
        ),
      ),
    },
    { requiredKeys: [] },
  ),
  approveWatcher: noData,
  removeWatcher: noData,
  getCACertificates: fc.record(
    { certificates: nonEmptyList(caCertificate), crlUrl: word, ocspUrl: word },
    { requiredKeys: [] },
  ),
  requestCertificate: fc.record(
    {
      certificate: certificateInfo,
      chain: fc.array(caCertificate, { maxLength: 2 }),
      request: requestInfo,
      pkcs12: nonEmptyBytes,
    },
    { requiredKeys: [] },
  ),
  listCertificates: certificateList,
  getCertificate: certificateList,
  uploadCertificate: oneCertificate,
  revokeCertificate: oneCertificate,
  certificateStatus: fc.record(
    {
      certificate: fc.record(
        {
          serial: word,
          sha256: word,
          status: fc.constantFrom(...CERTIFICATE_QUERY_STATUSES),
          revokedAt: time,
          reason: fc.constantFrom(...REVOCATION_REASONS),
        },
        { requiredKeys: ['status'] },
      ),
    },
    { requiredKeys: [] },
  ),
  uploadPkcs12: fc.record({ pkcs12: pkcs12Entry }, { requiredKeys: [] }),
  listPkcs12: fc.record({ pkcs12: nonEmptyList(pkcs12Entry) }, { requiredKeys: [] }),
  downloadPkcs12: fc.record(
    { pkcs12: fc.tuple(pkcs12Entry, nonEmptyBytes).map(([e, data]) => ({ ...e, data })) },
    { requiredKeys: [] },
  ),
  deletePkcs12: noData,
};

export const result: fc.Arbitrary<IrpResult> = fc.record(
  {
    code: fc.constantFrom(...RESULT_CODES),
    message: trimmedText,
    retryAfter: integer,
    reason: word,
  },
  { requiredKeys: ['code', 'message'] },
);

const responseEnvelope = fc.record({
  id: fc.oneof(commandId, fc.constant('')),
  txn: rawText(),
  result,
});

/** An arbitrary response to a command of the given name. */
export function responseOf<K extends CommandName>(name: K): fc.Arbitrary<IrpResponse> {
  const data = RESPONSE_DATA[name] as fc.Arbitrary<object>;
  return fc
    .tuple(responseEnvelope, data)
    .map(([env, d]) => ({ ...env, cmd: name, data: d }) as IrpResponse);
}

/** An arbitrary response of any kind, including `cmd=""`. */
export const response: fc.Arbitrary<IrpResponse> = fc.oneof(
  responseEnvelope.map((env): IrpResponse => ({ ...env, cmd: '', data: {} })),
  ...COMMAND_NAMES.map((n) => responseOf(n)),
);

// ---- notifies ----

export const notify: fc.Arbitrary<IrpNotify> = fc.oneof(
  fc.record({
    event: fc.constant('presence' as const),
    user: word,
    bindings: fc.array(binding, { maxLength: 3 }),
  }),
  fc.record({
    event: fc.constantFrom('watch-request' as const, 'watch-removed' as const),
    user: word,
  }),
  fc.record({ event: fc.constant('certificate' as const), certificate: certificateInfo }),
  fc.record({ event: fc.constant('certificate' as const), request: requestInfo }),
  fc.record(
    {
      event: fc.constant('session' as const),
      reason: fc.constantFrom(...SESSION_END_REASONS),
      retryAfter: integer,
    },
    { requiredKeys: ['event', 'reason'] },
  ),
);
