/** Codec of `<greeting>` (spec §6.6). */
import { CLIENT_CERTIFICATE_STATUSES, LOGIN_METHODS } from '../messages/enums.js';
import { type Greeting, type GreetingLimits } from '../messages/greeting.js';
import { el, type XmlElement, type XmlNode } from '../xml/xml-element.js';
import {
  childrenNamed,
  type DecodeContext,
  optionalAttr,
  requiredBoolAttr,
  requiredChild,
  requiredEnumAttr,
  requiredIntAttr,
  requiredText,
  textOf,
  toEnum,
  toTime,
} from './decode-helpers.js';
import { int, time } from './encode-helpers.js';

const INT_LIMITS = [
  'maxFrameBytes',
  'maxDepth',
  'maxElements',
  'maxTextBytes',
  'authTimeoutSeconds',
  'idleTimeoutSeconds',
  'maxSubscriptions',
  'maxBindingsPerUser',
  'maxPkcs12PerUser',
  'maxCertificateDays',
] as const satisfies readonly (keyof GreetingLimits)[];

/** Decodes a `<greeting>` element (spec §6.6). */
export function decodeGreeting(g: XmlElement, ctx: DecodeContext): Greeting {
  const cc = requiredChild(g, 'clientCertificate', ctx);
  const reg = requiredChild(g, 'registration', ctx);
  const limitsEl = requiredChild(g, 'limits', ctx);
  const limits = { allowLocalAddresses: requiredBoolAttr(limitsEl, 'allowLocalAddresses', ctx) };
  for (const name of INT_LIMITS) {
    (limits as Record<string, unknown>)[name] = requiredIntAttr(limitsEl, name, ctx);
  }
  const clientCertificate: Greeting['clientCertificate'] = {
    status: requiredEnumAttr(cc, 'status', CLIENT_CERTIFICATE_STATUSES, ctx),
  };
  const user = optionalAttr(cc, 'user');
  if (user !== undefined) clientCertificate.user = user;
  const list = (container: string, item: string): string[] =>
    childrenNamed(requiredChild(g, container, ctx), item)
      .map((e) => textOf(e))
      .filter((t) => t.length > 0);
  return {
    server: requiredText(g, 'server', ctx),
    domain: requiredText(g, 'domain', ctx),
    serverTime: toTime(requiredText(g, 'serverTime', ctx), '<serverTime>', ctx),
    versions: list('versions', 'version'),
    authMethods: list('authMethods', 'method').map((m) =>
      toEnum(m, LOGIN_METHODS, '<authMethods><method>', ctx),
    ),
    clientCertificate,
    registration: {
      open: requiredBoolAttr(reg, 'open', ctx),
      enrollment: requiredBoolAttr(reg, 'enrollment', ctx),
    },
    commands: list('commands', 'command'),
    limits: limits as GreetingLimits,
  };
}

/** Encodes a `<greeting>` element (spec §6.6). */
export function encodeGreetingElement(g: Greeting): XmlNode {
  const limitAttrs: Record<string, string> = {};
  for (const name of INT_LIMITS) limitAttrs[name] = int(g.limits[name], `limits/@${name}`);
  limitAttrs.allowLocalAddresses = String(g.limits.allowLocalAddresses);
  return el(
    'greeting',
    undefined,
    el('server', undefined, g.server),
    el('domain', undefined, g.domain),
    el('serverTime', undefined, time(g.serverTime, 'greeting/serverTime')),
    el('versions', undefined, ...g.versions.map((v) => el('version', undefined, v))),
    el('authMethods', undefined, ...g.authMethods.map((m) => el('method', undefined, m))),
    el('clientCertificate', { status: g.clientCertificate.status, user: g.clientCertificate.user }),
    el('registration', {
      open: String(g.registration.open),
      enrollment: String(g.registration.enrollment),
    }),
    el('commands', undefined, ...g.commands.map((c) => el('command', undefined, c))),
    el('limits', limitAttrs),
  );
}
