/**
 * The table-driven codec of response data: per command, the data elements that
 * follow `<result>` (spec §6–§10). Every data field is optional (an error
 * response carries none); a list with no element decodes as absent.
 */
import { type CommandName } from '../messages/commands.js';
import { type ResponseDataMap, type SessionData } from '../messages/responses.js';
import { el, type XmlElement, type XmlNode } from '../xml/xml-element.js';
import {
  childrenNamed,
  type DecodeContext,
  optionalAttr,
  optionalChild,
  optionalText,
  setIfDefined,
  toBytes,
  requiredAttr,
} from './decode-helpers.js';
import { b64, textEl } from './encode-helpers.js';
import { decodeGreeting, encodeGreetingElement } from './greeting.codec.js';
import {
  decodeBinding,
  decodeCaCertificate,
  decodeCertificateInfo,
  decodeCertificateStatusInfo,
  decodeChain,
  decodeObserved,
  decodePkcs12Entry,
  decodePkcs12File,
  decodeRequestInfo,
  decodeSessionInfo,
  decodeSubscription,
  decodeUserPage,
  decodeUserRecord,
  decodeWatcher,
  encodeBinding,
  encodeCaCertificate,
  encodeCertificateInfo,
  encodeCertificateStatusInfo,
  encodeChain,
  encodeObserved,
  encodePkcs12Entry,
  encodePkcs12File,
  encodeRequestInfo,
  encodeSessionInfo,
  encodeSubscription,
  encodeUserPage,
  encodeUserRecord,
  encodeWatcher,
} from './records.codec.js';

/** The decode/encode pair of one command's response data. */
export interface ResponseDataCodec<K extends CommandName> {
  /** Reads the data elements of a `<response>` element. */
  decode(response: XmlElement, ctx: DecodeContext): ResponseDataMap[K];
  /** Writes the data elements that follow `<result>`. */
  encode(data: ResponseDataMap[K]): (XmlNode | undefined)[];
}

function empty<K extends CommandName>(): ResponseDataCodec<K> {
  return {
    decode: () => ({}),
    encode: () => [],
  };
}

/** A list of elements named `name`; absent when there is none. */
function list<T>(
  r: XmlElement,
  name: string,
  decode: (e: XmlElement, ctx: DecodeContext) => T,
  ctx: DecodeContext,
): T[] | undefined {
  const items = childrenNamed(r, name).map((e) => decode(e, ctx));
  return items.length > 0 ? items : undefined;
}

/** A single optional element. */
function one<T>(
  r: XmlElement,
  name: string,
  decode: (e: XmlElement, ctx: DecodeContext) => T,
  ctx: DecodeContext,
): T | undefined {
  const e = optionalChild(r, name, ctx);
  return e ? decode(e, ctx) : undefined;
}

function userOnly<
  K extends 'register' | 'info' | 'update' | 'setAuthPolicy',
>(): ResponseDataCodec<K> {
  return {
    decode: (r, ctx) => {
      const data: { user?: ResponseDataMap[K]['user'] } = {};
      setIfDefined(data, 'user', one(r, 'user', decodeUserRecord, ctx));
      return data;
    },
    encode: (d) => [d.user && encodeUserRecord(d.user)],
  };
}

function sessionData<K extends 'login' | 'enroll'>(): ResponseDataCodec<K> {
  return {
    decode: (r, ctx) => {
      const data: SessionData = {};
      setIfDefined(data, 'session', one(r, 'session', decodeSessionInfo, ctx));
      setIfDefined(data, 'user', one(r, 'user', decodeUserRecord, ctx));
      return data;
    },
    encode: (d: SessionData) => [
      d.session && encodeSessionInfo(d.session),
      d.user && encodeUserRecord(d.user),
    ],
  };
}

function certificateList<K extends 'listCertificates' | 'getCertificate'>(): ResponseDataCodec<K> {
  return {
    decode: (r, ctx) => {
      const data: ResponseDataMap[K] = {};
      setIfDefined(data, 'certificates', list(r, 'certificate', decodeCertificateInfo, ctx));
      return data;
    },
    encode: (d) => (d.certificates ?? []).map(encodeCertificateInfo),
  };
}

function oneCertificate<
  K extends 'uploadCertificate' | 'revokeCertificate',
>(): ResponseDataCodec<K> {
  return {
    decode: (r, ctx) => {
      const data: ResponseDataMap[K] = {};
      setIfDefined(data, 'certificate', one(r, 'certificate', decodeCertificateInfo, ctx));
      return data;
    },
    encode: (d) => [d.certificate && encodeCertificateInfo(d.certificate)],
  };
}

/** The response data table: command name → decode/encode (spec §6–§10). */
export const RESPONSE_DATA_CODECS: { readonly [K in CommandName]: ResponseDataCodec<K> } = {
  hello: {
    decode: (r, ctx) => {
      const data: ResponseDataMap['hello'] = {};
      setIfDefined(data, 'greeting', one(r, 'greeting', decodeGreeting, ctx));
      return data;
    },
    encode: (d) => [d.greeting && encodeGreetingElement(d.greeting)],
  },
  ping: empty(),
  logout: empty(),
  login: sessionData(),
  register: userOnly(),
  enroll: sessionData(),
  info: userOnly(),
  update: userOnly(),
  listUsers: {
    decode: (r, ctx) => {
      const data: ResponseDataMap['listUsers'] = {};
      setIfDefined(data, 'users', one(r, 'users', decodeUserPage, ctx));
      return data;
    },
    encode: (d) => [d.users && encodeUserPage(d.users)],
  },
  changePassword: empty(),
  setAuthPolicy: userOnly(),
  registerAddress: {
    decode: (r, ctx) => {
      const data: ResponseDataMap['registerAddress'] = {};
      setIfDefined(data, 'binding', one(r, 'binding', decodeBinding, ctx));
      setIfDefined(data, 'observed', one(r, 'observed', decodeObserved, ctx));
      return data;
    },
    encode: (d) => [
      d.binding && encodeBinding(d.binding),
      d.observed && encodeObserved(d.observed),
    ],
  },
  unregisterAddress: empty(),
  lookupAddress: {
    decode: (r, ctx) => {
      const data: ResponseDataMap['lookupAddress'] = {};
      setIfDefined(data, 'user', optionalText(r, 'user', ctx));
      setIfDefined(data, 'bindings', list(r, 'binding', decodeBinding, ctx));
      const referral = optionalChild(r, 'referral', ctx);
      if (referral) data.referral = { domain: requiredAttr(referral, 'domain', ctx) };
      return data;
    },
    encode: (d) => [
      textEl('user', d.user),
      ...(d.bindings ?? []).map(encodeBinding),
      d.referral && el('referral', { domain: d.referral.domain }),
    ],
  },
  subscribe: {
    decode: (r, ctx) => {
      const data: ResponseDataMap['subscribe'] = {};
      setIfDefined(data, 'subscriptions', list(r, 'subscription', decodeSubscription, ctx));
      return data;
    },
    encode: (d) => (d.subscriptions ?? []).map(encodeSubscription),
  },
  unsubscribe: empty(),
  setAddressPolicy: empty(),
  listWatchers: {
    decode: (r, ctx) => {
      const data: ResponseDataMap['listWatchers'] = {};
      setIfDefined(data, 'watchers', list(r, 'watcher', decodeWatcher, ctx));
      return data;
    },
    encode: (d) => (d.watchers ?? []).map(encodeWatcher),
  },
  approveWatcher: empty(),
  removeWatcher: empty(),
  getCACertificates: {
    decode: (r, ctx) => {
      const data: ResponseDataMap['getCACertificates'] = {};
      setIfDefined(data, 'certificates', list(r, 'certificate', decodeCaCertificate, ctx));
      const crl = optionalChild(r, 'crl', ctx);
      if (crl) setIfDefined(data, 'crlUrl', optionalAttr(crl, 'url'));
      const ocsp = optionalChild(r, 'ocsp', ctx);
      if (ocsp) setIfDefined(data, 'ocspUrl', optionalAttr(ocsp, 'url'));
      return data;
    },
    encode: (d) => [
      ...(d.certificates ?? []).map(encodeCaCertificate),
      d.crlUrl !== undefined ? el('crl', { url: d.crlUrl }) : undefined,
      d.ocspUrl !== undefined ? el('ocsp', { url: d.ocspUrl }) : undefined,
    ],
  },
  requestCertificate: {
    decode: (r, ctx) => {
      const data: ResponseDataMap['requestCertificate'] = {};
      setIfDefined(data, 'certificate', one(r, 'certificate', decodeCertificateInfo, ctx));
      setIfDefined(data, 'chain', one(r, 'chain', decodeChain, ctx));
      setIfDefined(data, 'request', one(r, 'request', decodeRequestInfo, ctx));
      const pkcs12 = optionalText(r, 'pkcs12', ctx);
      if (pkcs12 !== undefined) data.pkcs12 = toBytes(pkcs12, '<pkcs12>', ctx);
      return data;
    },
    encode: (d) => [
      d.certificate && encodeCertificateInfo(d.certificate),
      d.request && encodeRequestInfo(d.request),
      d.chain && encodeChain(d.chain),
      d.pkcs12 && el('pkcs12', undefined, b64(d.pkcs12)),
    ],
  },
  listCertificates: certificateList(),
  getCertificate: certificateList(),
  uploadCertificate: oneCertificate(),
  revokeCertificate: oneCertificate(),
  certificateStatus: {
    decode: (r, ctx) => {
      const data: ResponseDataMap['certificateStatus'] = {};
      setIfDefined(data, 'certificate', one(r, 'certificate', decodeCertificateStatusInfo, ctx));
      return data;
    },
    encode: (d) => [d.certificate && encodeCertificateStatusInfo(d.certificate)],
  },
  uploadPkcs12: {
    decode: (r, ctx) => {
      const data: ResponseDataMap['uploadPkcs12'] = {};
      setIfDefined(data, 'pkcs12', one(r, 'pkcs12', decodePkcs12Entry, ctx));
      return data;
    },
    encode: (d) => [d.pkcs12 && encodePkcs12Entry(d.pkcs12)],
  },
  listPkcs12: {
    decode: (r, ctx) => {
      const data: ResponseDataMap['listPkcs12'] = {};
      setIfDefined(data, 'pkcs12', list(r, 'pkcs12', decodePkcs12Entry, ctx));
      return data;
    },
    encode: (d) => (d.pkcs12 ?? []).map((p) => encodePkcs12Entry(p)),
  },
  downloadPkcs12: {
    decode: (r, ctx) => {
      const data: ResponseDataMap['downloadPkcs12'] = {};
      setIfDefined(data, 'pkcs12', one(r, 'pkcs12', decodePkcs12File, ctx));
      return data;
    },
    encode: (d) => [d.pkcs12 && encodePkcs12File(d.pkcs12)],
  },
  deletePkcs12: empty(),
};

/** The response data codec of one command (keeps the correlation typed). */
export function responseDataCodec<K extends CommandName>(name: K): ResponseDataCodec<K> {
  return RESPONSE_DATA_CODECS[name];
}
