/**
 * Decoders/encoders of the records shared by several messages: user record
 * (§7.1), binding and its parts (§8, §8.2), certificates (§9), PKCS#12 entries
 * (§10).
 */
import {
  ADDRESS_FAMILIES,
  ATTESTATION_ALGORITHMS,
  CERTIFICATE_PROFILES,
  CERTIFICATE_QUERY_STATUSES,
  CERTIFICATE_REQUEST_STATUSES,
  CERTIFICATE_STATUSES,
  LOGIN_METHODS,
  PRESENCE_STATUSES,
  REVOCATION_REASONS,
  SUBSCRIPTION_STATUSES,
  TRANSPORTS,
  USER_STATUSES,
  WATCHER_STATUSES,
} from '../messages/enums.js';
import {
  type Attestation,
  type Binding,
  type BindingAddress,
  type CaCertificate,
  type CertificateInfo,
  type CertificateRequestInfo,
  type CertificateStatusInfo,
  type ObservedAddress,
  type Pkcs12Entry,
  type Pkcs12File,
  type Presence,
  type SessionInfo,
  type Subscription,
  type UserAttribute,
  type UserPage,
  type UserProfileFields,
  type UserRecord,
  type Watcher,
} from '../messages/records.js';
import { el, type XmlElement, type XmlNode } from '../xml/xml-element.js';
import {
  childrenNamed,
  type DecodeContext,
  optionalAttr,
  optionalChild,
  optionalEnumAttr,
  optionalIntAttr,
  optionalText,
  optionalTimeAttr,
  optionalTimeText,
  presentText,
  requiredAttr,
  requiredEnumAttr,
  requiredIntAttr,
  requiredText,
  requiredTimeAttr,
  setIfDefined,
  requiredOwnText,
  textOf,
  toBoolean,
  toBytes,
  toEnum,
} from './decode-helpers.js';
import { b64, int, optInt, optTime, textEl, time } from './encode-helpers.js';

// ---- user record and profile fields, spec §7.1 ----

/** The profile field elements of §7.1, in the order they are written. */
export const PROFILE_FIELDS = [
  'displayName',
  'email',
  'givenName',
  'surname',
  'organization',
  'title',
  'phone',
] as const satisfies readonly (keyof UserProfileFields)[];

/** Reads `<attribute name="…">value</attribute>` children; undefined when none. */
export function decodeAttributes(
  parent: XmlElement,
  ctx: DecodeContext,
): UserAttribute[] | undefined {
  const elements = childrenNamed(parent, 'attribute');
  if (elements.length === 0) return undefined;
  return elements.map((a) => ({ name: requiredAttr(a, 'name', ctx), value: textOf(a) }));
}

/** Reads the profile fields present in `parent` (empty values kept as `""`). */
export function decodeProfile(parent: XmlElement, ctx: DecodeContext): UserProfileFields {
  const profile: UserProfileFields = {};
  for (const field of PROFILE_FIELDS) setIfDefined(profile, field, presentText(parent, field, ctx));
  setIfDefined(profile, 'attributes', decodeAttributes(parent, ctx));
  return profile;
}

/** Writes the profile fields that are defined. */
export function encodeProfile(p: UserProfileFields): XmlNode[] {
  const nodes: XmlNode[] = [];
  for (const field of PROFILE_FIELDS) {
    const node = textEl(field, p[field]);
    if (node) nodes.push(node);
  }
  for (const a of p.attributes ?? []) nodes.push(el('attribute', { name: a.name }, a.value));
  return nodes;
}

/** Decodes a `<user>` record (spec §7.1). */
export function decodeUserRecord(u: XmlElement, ctx: DecodeContext): UserRecord {
  const record: UserRecord = { userId: requiredText(u, 'userId', ctx) };
  setIfDefined(record, 'address', optionalText(u, 'address', ctx));
  Object.assign(record, decodeProfile(u, ctx));
  const status = optionalText(u, 'status', ctx);
  if (status !== undefined) record.status = toEnum(status, USER_STATUSES, '<status>', ctx);
  const upa = optionalText(u, 'upaEnabled', ctx);
  if (upa !== undefined) record.upaEnabled = toBoolean(upa, '<upaEnabled>', ctx);
  setIfDefined(record, 'createdAt', optionalTimeText(u, 'createdAt', ctx));
  setIfDefined(record, 'updatedAt', optionalTimeText(u, 'updatedAt', ctx));
  return record;
}

/** Encodes a `<user>` record (spec §7.1). */
export function encodeUserRecord(u: UserRecord): XmlNode {
  return el(
    'user',
    undefined,
    el('userId', undefined, u.userId),
    textEl('address', u.address),
    ...encodeProfile(u),
    textEl('status', u.status),
    textEl('upaEnabled', u.upaEnabled === undefined ? undefined : String(u.upaEnabled)),
    textEl('createdAt', optTime(u.createdAt, 'user/createdAt')),
    textEl('updatedAt', optTime(u.updatedAt, 'user/updatedAt')),
  );
}

/** Decodes `<session method user expiresIdleSeconds/>` (spec §6.4). */
export function decodeSessionInfo(s: XmlElement, ctx: DecodeContext): SessionInfo {
  return {
    method: requiredEnumAttr(s, 'method', LOGIN_METHODS, ctx),
    user: requiredAttr(s, 'user', ctx),
    expiresIdleSeconds: requiredIntAttr(s, 'expiresIdleSeconds', ctx),
  };
}

/** Encodes `<session/>` (spec §6.4). */
export function encodeSessionInfo(s: SessionInfo): XmlNode {
  return el('session', {
    method: s.method,
    user: s.user,
    expiresIdleSeconds: int(s.expiresIdleSeconds, 'session/@expiresIdleSeconds'),
  });
}

/** Decodes `<users total offset limit>` with its `<user>` records (spec §7.2). */
export function decodeUserPage(p: XmlElement, ctx: DecodeContext): UserPage {
  return {
    total: requiredIntAttr(p, 'total', ctx),
    offset: requiredIntAttr(p, 'offset', ctx),
    limit: requiredIntAttr(p, 'limit', ctx),
    users: childrenNamed(p, 'user').map((u) => decodeUserRecord(u, ctx)),
  };
}

/** Encodes `<users>` (spec §7.2). */
export function encodeUserPage(p: UserPage): XmlNode {
  return el(
    'users',
    {
      total: int(p.total, 'users/@total'),
      offset: int(p.offset, 'users/@offset'),
      limit: int(p.limit, 'users/@limit'),
    },
    ...p.users.map(encodeUserRecord),
  );
}

// ---- bindings, spec §8 ----

/** Decodes `<address family port transport>addr</address>` (spec §8). */
export function decodeAddress(a: XmlElement, ctx: DecodeContext): BindingAddress {
  const address: BindingAddress = {
    family: requiredEnumAttr(a, 'family', ADDRESS_FAMILIES, ctx),
    address: requiredOwnText(a, ctx),
  };
  setIfDefined(address, 'port', optionalIntAttr(a, 'port', ctx));
  setIfDefined(address, 'transport', optionalEnumAttr(a, 'transport', TRANSPORTS, ctx));
  return address;
}

/** Encodes an `<address>` (spec §8). */
export function encodeAddress(a: BindingAddress): XmlNode {
  return el(
    'address',
    { family: a.family, port: optInt(a.port, 'address/@port'), transport: a.transport },
    a.address,
  );
}

/** Decodes `<presence status>note</presence>`; the note is never trimmed (spec §3). */
export function decodePresence(p: XmlElement, ctx: DecodeContext): Presence {
  const presence: Presence = { status: requiredEnumAttr(p, 'status', PRESENCE_STATUSES, ctx) };
  if (p.text.length > 0) presence.note = p.text;
  return presence;
}

/** Encodes `<presence>` (spec §8). */
export function encodePresence(p: Presence): XmlNode {
  return el('presence', { status: p.status }, p.note);
}

/** Decodes `<attestation cert alg text>signature</attestation>` (spec §8.2). */
export function decodeAttestation(a: XmlElement, ctx: DecodeContext): Attestation {
  return {
    cert: requiredAttr(a, 'cert', ctx),
    alg: requiredEnumAttr(a, 'alg', ATTESTATION_ALGORITHMS, ctx),
    text: toBytes(requiredAttr(a, 'text', ctx), 'text attribute of <attestation>', ctx),
    signature: toBytes(requiredOwnText(a, ctx), 'signature of <attestation>', ctx),
  };
}

/** Encodes `<attestation>` (spec §8.2). */
export function encodeAttestation(a: Attestation): XmlNode {
  return el('attestation', { cert: a.cert, alg: a.alg, text: b64(a.text) }, b64(a.signature));
}

/** Decodes a `<binding device expiresAt updatedAt>` (spec §8). */
export function decodeBinding(b: XmlElement, ctx: DecodeContext): Binding {
  const binding: Binding = {
    device: requiredAttr(b, 'device', ctx),
    expiresAt: requiredTimeAttr(b, 'expiresAt', ctx),
    addresses: childrenNamed(b, 'address').map((a) => decodeAddress(a, ctx)),
    certificates: childrenNamed(b, 'certificate').map((c) => requiredAttr(c, 'sha256', ctx)),
  };
  setIfDefined(binding, 'updatedAt', optionalTimeAttr(b, 'updatedAt', ctx));
  const presence = optionalChild(b, 'presence', ctx);
  if (presence) binding.presence = decodePresence(presence, ctx);
  setIfDefined(binding, 'service', optionalText(b, 'service', ctx));
  const attestation = optionalChild(b, 'attestation', ctx);
  if (attestation) binding.attestation = decodeAttestation(attestation, ctx);
  return binding;
}

/** Encodes a `<binding>` (spec §8). */
export function encodeBinding(b: Binding): XmlNode {
  return el(
    'binding',
    {
      device: b.device,
      expiresAt: time(b.expiresAt, 'binding/@expiresAt'),
      updatedAt: optTime(b.updatedAt, 'binding/@updatedAt'),
    },
    ...b.addresses.map(encodeAddress),
    b.presence && encodePresence(b.presence),
    textEl('service', b.service),
    ...b.certificates.map((sha256) => el('certificate', { sha256 })),
    b.attestation && encodeAttestation(b.attestation),
  );
}

/** Decodes `<observed family port>addr</observed>` (spec §8). */
export function decodeObserved(o: XmlElement, ctx: DecodeContext): ObservedAddress {
  const observed: ObservedAddress = {
    family: requiredEnumAttr(o, 'family', ADDRESS_FAMILIES, ctx),
    address: requiredOwnText(o, ctx),
  };
  setIfDefined(observed, 'port', optionalIntAttr(o, 'port', ctx));
  return observed;
}

/** Encodes `<observed>` (spec §8). */
export function encodeObserved(o: ObservedAddress): XmlNode {
  return el('observed', { family: o.family, port: optInt(o.port, 'observed/@port') }, o.address);
}

/** Decodes `<subscription user status/>` (spec §8.1). */
export function decodeSubscription(s: XmlElement, ctx: DecodeContext): Subscription {
  return {
    user: requiredAttr(s, 'user', ctx),
    status: requiredEnumAttr(s, 'status', SUBSCRIPTION_STATUSES, ctx),
  };
}

/** Encodes `<subscription/>` (spec §8.1). */
export function encodeSubscription(s: Subscription): XmlNode {
  return el('subscription', { user: s.user, status: s.status });
}

/** Decodes `<watcher user status since/>` (spec §8.1). */
export function decodeWatcher(w: XmlElement, ctx: DecodeContext): Watcher {
  const watcher: Watcher = {
    user: requiredAttr(w, 'user', ctx),
    status: requiredEnumAttr(w, 'status', WATCHER_STATUSES, ctx),
  };
  setIfDefined(watcher, 'since', optionalTimeAttr(w, 'since', ctx));
  return watcher;
}

/** Encodes `<watcher/>` (spec §8.1). */
export function encodeWatcher(w: Watcher): XmlNode {
  return el('watcher', {
    user: w.user,
    status: w.status,
    since: optTime(w.since, 'watcher/@since'),
  });
}

// ---- certificates, spec §9 ----

/** Decodes an end-entity `<certificate …>PEM?</certificate>` (spec §9). */
export function decodeCertificateInfo(c: XmlElement, ctx: DecodeContext): CertificateInfo {
  const cert: CertificateInfo = {
    serial: requiredAttr(c, 'serial', ctx),
    sha256: requiredAttr(c, 'sha256', ctx),
    notBefore: requiredTimeAttr(c, 'notBefore', ctx),
    notAfter: requiredTimeAttr(c, 'notAfter', ctx),
    status: requiredEnumAttr(c, 'status', CERTIFICATE_STATUSES, ctx),
  };
  setIfDefined(cert, 'profile', optionalEnumAttr(c, 'profile', CERTIFICATE_PROFILES, ctx));
  setIfDefined(cert, 'revokedAt', optionalTimeAttr(c, 'revokedAt', ctx));
  setIfDefined(cert, 'reason', optionalEnumAttr(c, 'reason', REVOCATION_REASONS, ctx));
  const pem = textOf(c);
  if (pem.length > 0) cert.pem = pem;
  return cert;
}

/** Encodes an end-entity `<certificate>` (spec §9). */
export function encodeCertificateInfo(c: CertificateInfo): XmlNode {
  return el(
    'certificate',
    {
      serial: c.serial,
      sha256: c.sha256,
      notBefore: time(c.notBefore, 'certificate/@notBefore'),
      notAfter: time(c.notAfter, 'certificate/@notAfter'),
      status: c.status,
      profile: c.profile,
      revokedAt: optTime(c.revokedAt, 'certificate/@revokedAt'),
      reason: c.reason,
    },
    c.pem,
  );
}

/** Decodes a CA `<certificate sha256 notBefore notAfter>PEM</certificate>` (spec §9). */
export function decodeCaCertificate(c: XmlElement, ctx: DecodeContext): CaCertificate {
  return {
    sha256: requiredAttr(c, 'sha256', ctx),
    notBefore: requiredTimeAttr(c, 'notBefore', ctx),
    notAfter: requiredTimeAttr(c, 'notAfter', ctx),
    pem: requiredOwnText(c, ctx),
  };
}

/** Encodes a CA `<certificate>` (spec §9). */
export function encodeCaCertificate(c: CaCertificate): XmlNode {
  return el(
    'certificate',
    {
      sha256: c.sha256,
      notBefore: time(c.notBefore, 'certificate/@notBefore'),
      notAfter: time(c.notAfter, 'certificate/@notAfter'),
    },
    c.pem,
  );
}

/** Decodes `<chain>` holding CA `<certificate>` elements (spec §9). */
export function decodeChain(chain: XmlElement, ctx: DecodeContext): CaCertificate[] {
  return childrenNamed(chain, 'certificate').map((c) => decodeCaCertificate(c, ctx));
}

/** Encodes `<chain>` (spec §9). */
export function encodeChain(chain: readonly CaCertificate[]): XmlNode {
  return el('chain', undefined, ...chain.map(encodeCaCertificate));
}

/** Decodes the `<certificate serial sha256 status …/>` of certificateStatus (spec §9). */
export function decodeCertificateStatusInfo(
  c: XmlElement,
  ctx: DecodeContext,
): CertificateStatusInfo {
  const info: CertificateStatusInfo = {
    status: requiredEnumAttr(c, 'status', CERTIFICATE_QUERY_STATUSES, ctx),
  };
  setIfDefined(info, 'serial', optionalAttr(c, 'serial'));
  setIfDefined(info, 'sha256', optionalAttr(c, 'sha256'));
  setIfDefined(info, 'revokedAt', optionalTimeAttr(c, 'revokedAt', ctx));
  setIfDefined(info, 'reason', optionalEnumAttr(c, 'reason', REVOCATION_REASONS, ctx));
  return info;
}

/** Encodes the certificateStatus `<certificate/>` (spec §9). */
export function encodeCertificateStatusInfo(c: CertificateStatusInfo): XmlNode {
  return el('certificate', {
    serial: c.serial,
    sha256: c.sha256,
    status: c.status,
    revokedAt: optTime(c.revokedAt, 'certificate/@revokedAt'),
    reason: c.reason,
  });
}

/** Decodes `<request id status/>` (spec §9, §11). */
export function decodeRequestInfo(r: XmlElement, ctx: DecodeContext): CertificateRequestInfo {
  return {
    id: requiredAttr(r, 'id', ctx),
    status: requiredEnumAttr(r, 'status', CERTIFICATE_REQUEST_STATUSES, ctx),
  };
}

/** Encodes `<request/>` (spec §9, §11). */
export function encodeRequestInfo(r: CertificateRequestInfo): XmlNode {
  return el('request', { id: r.id, status: r.status });
}

// ---- PKCS#12, spec §10 ----

/** Decodes `<pkcs12 id name size sha256 createdAt/>` (spec §10). */
export function decodePkcs12Entry(p: XmlElement, ctx: DecodeContext): Pkcs12Entry {
  return {
    id: requiredAttr(p, 'id', ctx),
    name: requiredAttr(p, 'name', ctx),
    size: requiredIntAttr(p, 'size', ctx),
    sha256: requiredAttr(p, 'sha256', ctx),
    createdAt: requiredTimeAttr(p, 'createdAt', ctx),
  };
}

/** Encodes `<pkcs12/>` (spec §10). */
export function encodePkcs12Entry(p: Pkcs12Entry, data?: Uint8Array): XmlNode {
  return el(
    'pkcs12',
    {
      id: p.id,
      name: p.name,
      size: int(p.size, 'pkcs12/@size'),
      sha256: p.sha256,
      createdAt: time(p.createdAt, 'pkcs12/@createdAt'),
    },
    data && b64(data),
  );
}

/** Decodes `<pkcs12 …>base64</pkcs12>` of downloadPkcs12 (spec §10). */
export function decodePkcs12File(p: XmlElement, ctx: DecodeContext): Pkcs12File {
  return {
    ...decodePkcs12Entry(p, ctx),
    data: toBytes(requiredOwnText(p, ctx), 'content of <pkcs12>', ctx),
  };
}

/** Encodes `<pkcs12 …>base64</pkcs12>` (spec §10). */
export function encodePkcs12File(p: Pkcs12File): XmlNode {
  const { data, ...entry } = p;
  return encodePkcs12Entry(entry, data);
}
