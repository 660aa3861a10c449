/**
 * The table-driven command codec: one small decode/encode pair per command
 * element (spec §6–§10). Decoders receive the command element, whose `id` was
 * already validated (spec §4), and refuse with the codes of spec §3/§5:
 * missing → 2003, unparseable → 2005, outside an enumeration → 2004.
 * Business rules (user-id syntax, ranges, address validity) are the services'.
 */
import { splitPem } from '../binary.js';
import {
  type CommandName,
  type CommandOf,
  type CertificateKeySource,
  type CertificateQuery,
  type CertificateStatusQuery,
  type RegisterAddressCommand,
  type UpdateCommand,
} from '../messages/commands.js';
import {
  ADDRESS_VISIBILITIES,
  CERTIFICATE_PURPOSES,
  KEYGEN_ALGORITHMS,
  LOGIN_METHODS,
  REQUEST_PROFILES,
  REVOCATION_REASONS,
} from '../messages/enums.js';
import { ResultCode } from '../result-codes.js';
import { el, type XmlElement, type XmlNode } from '../xml/xml-element.js';
import {
  childrenNamed,
  type DecodeContext,
  fail,
  optionalChild,
  optionalIntText,
  optionalText,
  requiredAttr,
  requiredBoolAttr,
  requiredEnumAttr,
  requiredText,
  setIfDefined,
  textOf,
  toBytes,
  toEnum,
} from './decode-helpers.js';
import { b64, optInt, textEl } from './encode-helpers.js';
import {
  decodeAddress,
  decodeAttestation,
  decodePresence,
  decodeProfile,
  encodeAddress,
  encodeAttestation,
  encodePresence,
  encodeProfile,
} from './records.codec.js';

/** Context of a command decoder: the validated id and the command name. */
export interface CommandContext<K extends CommandName> extends DecodeContext {
  readonly id: string;
  readonly cmd: K;
}

/** The decode/encode pair of one command. */
export interface CommandCodec<K extends CommandName> {
  /** Reads the parameters of the command element. */
  decode(element: XmlElement, ctx: CommandContext<K>): CommandOf<K>;
  /** Writes the command element (with its `id`). */
  encode(command: CommandOf<K>): XmlNode;
}

/** `<cmd id="…" …attrs>children</cmd>`. */
function commandEl(
  c: { id: string; cmd: CommandName },
  attrs: Record<string, string | undefined> | undefined,
  ...children: (XmlNode | undefined)[]
): XmlNode {
  return el(c.cmd, { id: c.id, ...attrs }, ...children);
}

/** Commands without parameters. */
function noParams<K extends CommandName>(): CommandCodec<K> {
  return {
    decode: (_e, ctx) => ({ id: ctx.id, cmd: ctx.cmd }) as CommandOf<K>,
    encode: (c) => commandEl(c, undefined),
  };
}

/** Commands with one required `<user>` parameter. */
function oneUser<
  K extends 'lookupAddress' | 'approveWatcher' | 'removeWatcher',
>(): CommandCodec<K> {
  return {
    decode: (e, ctx) =>
      ({ id: ctx.id, cmd: ctx.cmd, user: requiredText(e, 'user', ctx) }) as CommandOf<K>,
    encode: (c) => commandEl(c, undefined, el('user', undefined, (c as { user: string }).user)),
  };
}

/** Commands with one required `<id>` parameter (PKCS#12 id, spec §10). */
function onePkcs12Id<K extends 'downloadPkcs12' | 'deletePkcs12'>(): CommandCodec<K> {
  return {
    decode: (e, ctx) => ({ ...ctx, pkcs12Id: requiredText(e, 'id', ctx) }) as CommandOf<K>,
    encode: (c) =>
      commandEl(c, undefined, el('id', undefined, (c as { pkcs12Id: string }).pkcs12Id)),
  };
}

// The exact-as-sent parameters of spec §3.
const RAW = { raw: true } as const;

/** Exactly one of the named children; none → 2003, several → 2001. */
function oneOf(
  e: XmlElement,
  names: readonly string[],
  ctx: DecodeContext,
): { name: string; element: XmlElement } {
  const present = names
    .map((name) => ({ name, element: optionalChild(e, name, ctx) }))
    .filter((p): p is { name: string; element: XmlElement } => p.element !== undefined);
  if (present.length === 0) {
    fail(
      ctx,
      ResultCode.MissingParameter,
      `Required parameter missing: one of <${names.join('>, <')}>`,
    );
  }
  if (present.length > 1) {
    fail(
      ctx,
      ResultCode.SyntaxError,
      `Command syntax error: only one of <${names.join('>, <')}> may be given`,
    );
  }
  return present[0] as { name: string; element: XmlElement };
}

function nonEmpty(element: XmlElement, ctx: DecodeContext): string {
  const text = textOf(element);
  if (!text)
    fail(ctx, ResultCode.MissingParameter, `Required parameter missing: <${element.name}>`);
  return text;
}

function decodeCertificateQuery(e: XmlElement, ctx: DecodeContext): CertificateQuery {
  const { name, element } = oneOf(e, ['serial', 'sha256', 'user'], ctx);
  const value = nonEmpty(element, ctx);
  if (name === 'serial') return { by: 'serial', serial: value };
  if (name === 'sha256') return { by: 'sha256', sha256: value };
  const query: CertificateQuery = { by: 'user', user: value };
  const purpose = optionalText(e, 'purpose', ctx);
  if (purpose !== undefined)
    query.purpose = toEnum(purpose, CERTIFICATE_PURPOSES, '<purpose>', ctx);
  return query;
}

function encodeCertificateQuery(q: CertificateQuery): XmlNode[] {
  switch (q.by) {
    case 'serial':
      return [el('serial', undefined, q.serial)];
    case 'sha256':
      return [el('sha256', undefined, q.sha256)];
    case 'user':
      return [
        el('user', undefined, q.user),
        ...(q.purpose ? [el('purpose', undefined, q.purpose)] : []),
      ];
  }
}

function decodeStatusQuery(e: XmlElement, ctx: DecodeContext): CertificateStatusQuery {
  const { name, element } = oneOf(e, ['serial', 'sha256'], ctx);
  const value = nonEmpty(element, ctx);
  return name === 'serial' ? { by: 'serial', serial: value } : { by: 'sha256', sha256: value };
}

function decodeKeySource(e: XmlElement, ctx: DecodeContext): CertificateKeySource {
  const { name, element } = oneOf(e, ['csr', 'keygen'], ctx);
  if (name === 'csr') return { kind: 'csr', csr: nonEmpty(element, ctx) };
  return {
    kind: 'keygen',
    algorithm: requiredEnumAttr(element, 'algorithm', KEYGEN_ALGORITHMS, ctx),
    passphrase: requiredAttr(element, 'passphrase', ctx, RAW),
  };
}

function encodeKeySource(k: CertificateKeySource): XmlNode {
  return k.kind === 'csr'
    ? el('csr', undefined, k.csr)
    : el('keygen', { algorithm: k.algorithm, passphrase: k.passphrase });
}

/** `<chain>`: `<certificate>` children, or a PEM bundle as its text. */
function decodeUploadChain(e: XmlElement, ctx: DecodeContext): string[] {
  const chain = optionalChild(e, 'chain', ctx);
  if (!chain) return [];
  const certs = childrenNamed(chain, 'certificate')
    .map((c) => textOf(c))
    .filter((t) => t.length > 0);
  return certs.length > 0 ? certs : splitPem(chain.text);
}

function decodeRegisterAddress(
  e: XmlElement,
  ctx: CommandContext<'registerAddress'>,
): RegisterAddressCommand {
  const command: RegisterAddressCommand = {
    ...ctx,
    addresses: childrenNamed(e, 'address').map((a) => decodeAddress(a, ctx)),
  };
  setIfDefined(command, 'device', optionalText(e, 'device', ctx));
  setIfDefined(command, 'expires', optionalIntText(e, 'expires', ctx));
  // spec §8: 1–8 addresses; none is only meaningful when removing (expires 0).
  if (command.addresses.length === 0 && command.expires !== 0) {
    fail(ctx, ResultCode.MissingParameter, 'Required parameter missing: <address>');
  }
  const presence = optionalChild(e, 'presence', ctx);
  if (presence) command.presence = decodePresence(presence, ctx);
  setIfDefined(command, 'service', optionalText(e, 'service', ctx));
  const attestation = optionalChild(e, 'attestation', ctx);
  if (attestation) command.attestation = decodeAttestation(attestation, ctx);
  return command;
}

function decodeUpdate(e: XmlElement, ctx: CommandContext<'update'>): UpdateCommand {
  return {
    ...ctx,
    profile: decodeProfile(e, ctx),
    // spec §7.2: naming userId or status answers 2201 — the service decides, so record it.
    namesUserId: childrenNamed(e, 'userId').length > 0,
    namesStatus: childrenNamed(e, 'status').length > 0,
  };
}

/** The codec table: element name → decode/encode (spec §6–§10). */
export const COMMAND_CODECS: { readonly [K in CommandName]: CommandCodec<K> } = {
  // ---- session, spec §6 ----
  hello: noParams(),
  ping: noParams(),
  logout: noParams(),
  login: {
    decode: (e, ctx) => {
      const method = requiredEnumAttr(e, 'method', LOGIN_METHODS, ctx);
      if (method === 'sca') return { ...ctx, method }; // §6.2: nothing else is read
      const command: CommandOf<'login'> = {
        ...ctx,
        method,
        user: requiredText(e, 'user', ctx),
        password: requiredText(e, 'password', ctx, RAW),
      };
      setIfDefined(command, 'newPassword', optionalText(e, 'newPassword', ctx, RAW));
      return command;
    },
    encode: (c) =>
      c.method === 'sca'
        ? commandEl(c, { method: c.method })
        : commandEl(
            c,
            { method: c.method },
            el('user', undefined, c.user),
            el('password', undefined, c.password),
            textEl('newPassword', c.newPassword),
          ),
  },

  // ---- identity directory, spec §7 ----
  register: {
    decode: (e, ctx) => ({
      ...ctx,
      userId: requiredText(e, 'userId', ctx),
      password: requiredText(e, 'password', ctx, RAW),
      profile: decodeProfile(e, ctx),
    }),
    encode: (c) =>
      commandEl(
        c,
        undefined,
        el('userId', undefined, c.userId),
        el('password', undefined, c.password),
        ...encodeProfile(c.profile),
      ),
  },
  enroll: {
    decode: (e, ctx) => ({
      ...ctx,
      userId: requiredText(e, 'userId', ctx),
      code: requiredText(e, 'code', ctx),
      password: requiredText(e, 'password', ctx, RAW),
    }),
    encode: (c) =>
      commandEl(
        c,
        undefined,
        el('userId', undefined, c.userId),
        el('code', undefined, c.code),
        el('password', undefined, c.password),
      ),
  },
  info: {
    decode: (e, ctx) => {
      const command: CommandOf<'info'> = { ...ctx };
      setIfDefined(command, 'user', optionalText(e, 'user', ctx));
      return command;
    },
    encode: (c) => commandEl(c, undefined, textEl('user', c.user)),
  },
  update: {
    decode: decodeUpdate,
    encode: (c) =>
      commandEl(
        c,
        undefined,
        ...encodeProfile(c.profile),
        // Only written so a client can provoke the 2201 of §7.2 deliberately.
        c.namesUserId ? el('userId') : undefined,
        c.namesStatus ? el('status') : undefined,
      ),
  },
  listUsers: {
    decode: (e, ctx) => {
      const command: CommandOf<'listUsers'> = { ...ctx };
      setIfDefined(command, 'filter', optionalText(e, 'filter', ctx));
      setIfDefined(command, 'offset', optionalIntText(e, 'offset', ctx));
      setIfDefined(command, 'limit', optionalIntText(e, 'limit', ctx));
      return command;
    },
    encode: (c) =>
      commandEl(
        c,
        undefined,
        textEl('filter', c.filter),
        textEl('offset', optInt(c.offset, 'listUsers/offset')),
        textEl('limit', optInt(c.limit, 'listUsers/limit')),
      ),
  },
  changePassword: {
    decode: (e, ctx) => ({
      ...ctx,
      oldPassword: requiredText(e, 'oldPassword', ctx, RAW),
      newPassword: requiredText(e, 'newPassword', ctx, RAW),
    }),
    encode: (c) =>
      commandEl(
        c,
        undefined,
        el('oldPassword', undefined, c.oldPassword),
        el('newPassword', undefined, c.newPassword),
      ),
  },
  setAuthPolicy: {
    decode: (e, ctx) => ({ ...ctx, upa: requiredBoolAttr(e, 'upa', ctx) }),
    encode: (c) => commandEl(c, { upa: String(c.upa) }),
  },

  // ---- address registry, spec §8 ----
  registerAddress: {
    decode: decodeRegisterAddress,
    encode: (c) =>
      commandEl(
        c,
        undefined,
        textEl('device', c.device),
        ...c.addresses.map(encodeAddress),
        textEl('expires', optInt(c.expires, 'registerAddress/expires')),
        c.presence && encodePresence(c.presence),
        textEl('service', c.service),
        c.attestation && encodeAttestation(c.attestation),
      ),
  },
  unregisterAddress: {
    decode: (e, ctx) => {
      const command: CommandOf<'unregisterAddress'> = { ...ctx };
      setIfDefined(command, 'device', optionalText(e, 'device', ctx));
      return command;
    },
    encode: (c) => commandEl(c, undefined, textEl('device', c.device)),
  },
  lookupAddress: oneUser(),
  subscribe: {
    decode: (e, ctx) => {
      const users = childrenNamed(e, 'user').map((u) => nonEmpty(u, ctx));
      if (users.length === 0)
        fail(ctx, ResultCode.MissingParameter, 'Required parameter missing: <user>');
      return { ...ctx, users };
    },
    encode: (c) => commandEl(c, undefined, ...c.users.map((u) => el('user', undefined, u))),
  },
  unsubscribe: {
    // Decision: no <user> at all means every subscription of the session.
    decode: (e, ctx) => ({ ...ctx, users: childrenNamed(e, 'user').map((u) => nonEmpty(u, ctx)) }),
    encode: (c) => commandEl(c, undefined, ...c.users.map((u) => el('user', undefined, u))),
  },
  setAddressPolicy: {
    decode: (e, ctx) => ({
      ...ctx,
      visibility: requiredEnumAttr(e, 'visibility', ADDRESS_VISIBILITIES, ctx),
    }),
    encode: (c) => commandEl(c, { visibility: c.visibility }),
  },
  listWatchers: noParams(),
  approveWatcher: oneUser(),
  removeWatcher: oneUser(),

  // ---- PKI, spec §9 ----
  getCACertificates: noParams(),
  requestCertificate: {
    decode: (e, ctx) => {
      const command: CommandOf<'requestCertificate'> = {
        ...ctx,
        profile: requiredEnumAttr(e, 'profile', REQUEST_PROFILES, ctx),
        key: decodeKeySource(e, ctx),
      };
      setIfDefined(command, 'validityDays', optionalIntText(e, 'validityDays', ctx));
      setIfDefined(command, 'renews', optionalText(e, 'renews', ctx));
      return command;
    },
    encode: (c) =>
      commandEl(
        c,
        { profile: c.profile },
        encodeKeySource(c.key),
        textEl('validityDays', optInt(c.validityDays, 'requestCertificate/validityDays')),
        textEl('renews', c.renews),
      ),
  },
  listCertificates: {
    decode: (e, ctx) => {
      const command: CommandOf<'listCertificates'> = { ...ctx };
      setIfDefined(command, 'user', optionalText(e, 'user', ctx));
      return command;
    },
    encode: (c) => commandEl(c, undefined, textEl('user', c.user)),
  },
  getCertificate: {
    decode: (e, ctx) => ({ ...ctx, query: decodeCertificateQuery(e, ctx) }),
    encode: (c) => commandEl(c, undefined, ...encodeCertificateQuery(c.query)),
  },
  uploadCertificate: {
    decode: (e, ctx) => ({
      ...ctx,
      certificate: requiredText(e, 'certificate', ctx),
      chain: decodeUploadChain(e, ctx),
    }),
    encode: (c) =>
      commandEl(
        c,
        undefined,
        el('certificate', undefined, c.certificate),
        c.chain.length > 0
          ? el('chain', undefined, ...c.chain.map((pem) => el('certificate', undefined, pem)))
          : undefined,
      ),
  },
  revokeCertificate: {
    decode: (e, ctx) => {
      const command: CommandOf<'revokeCertificate'> = {
        ...ctx,
        serial: requiredText(e, 'serial', ctx),
      };
      const reason = optionalText(e, 'reason', ctx);
      if (reason !== undefined)
        command.reason = toEnum(reason, REVOCATION_REASONS, '<reason>', ctx);
      return command;
    },
    encode: (c) =>
      commandEl(c, undefined, el('serial', undefined, c.serial), textEl('reason', c.reason)),
  },
  certificateStatus: {
    decode: (e, ctx) => ({ ...ctx, query: decodeStatusQuery(e, ctx) }),
    encode: (c) =>
      commandEl(
        c,
        undefined,
        c.query.by === 'serial'
          ? el('serial', undefined, c.query.serial)
          : el('sha256', undefined, c.query.sha256),
      ),
  },

  // ---- PKCS#12, spec §10 ----
  uploadPkcs12: {
    decode: (e, ctx) => ({
      ...ctx,
      name: requiredText(e, 'name', ctx),
      data: toBytes(requiredText(e, 'data', ctx), '<data>', ctx),
    }),
    encode: (c) =>
      commandEl(c, undefined, el('name', undefined, c.name), el('data', undefined, b64(c.data))),
  },
  listPkcs12: noParams(),
  downloadPkcs12: onePkcs12Id(),
  deletePkcs12: onePkcs12Id(),
};

/** The codec of one command (keeps the name/codec correlation typed). */
export function commandCodec<K extends CommandName>(name: K): CommandCodec<K> {
  return COMMAND_CODECS[name];
}
