/** Codec of `<notify event="…">` (spec §11). */
import { NOTIFY_EVENTS, SESSION_END_REASONS } from '../messages/enums.js';
import { type IrpNotify } from '../messages/notify.js';
import { ResultCode } from '../result-codes.js';
import { el, type XmlElement, type XmlNode } from '../xml/xml-element.js';
import {
  childrenNamed,
  type DecodeContext,
  fail,
  optionalChild,
  optionalIntAttr,
  requiredAttr,
  requiredEnumAttr,
} from './decode-helpers.js';
import { optInt } from './encode-helpers.js';
import {
  decodeBinding,
  decodeCertificateInfo,
  decodeRequestInfo,
  encodeBinding,
  encodeCertificateInfo,
  encodeRequestInfo,
} from './records.codec.js';

/** Decodes a `<notify>` element (spec §11). */
export function decodeNotifyElement(n: XmlElement, ctx: DecodeContext): IrpNotify {
  const event = requiredEnumAttr(n, 'event', NOTIFY_EVENTS, ctx);
  switch (event) {
    case 'presence':
      return {
        event,
        user: requiredAttr(n, 'user', ctx),
        bindings: childrenNamed(n, 'binding').map((b) => decodeBinding(b, ctx)),
      };
    case 'watch-request':
    case 'watch-removed':
      return { event, user: requiredAttr(n, 'user', ctx) };
    case 'certificate': {
      const certificate = optionalChild(n, 'certificate', ctx);
      if (certificate) return { event, certificate: decodeCertificateInfo(certificate, ctx) };
      const request = optionalChild(n, 'request', ctx);
      if (request) return { event, request: decodeRequestInfo(request, ctx) };
      return fail(
        ctx,
        ResultCode.MissingParameter,
        'Required parameter missing: <certificate> or <request>',
      );
    }
    case 'session': {
      const notify: IrpNotify = {
        event,
        reason: requiredEnumAttr(n, 'reason', SESSION_END_REASONS, ctx),
      };
      const retryAfter = optionalIntAttr(n, 'retryAfter', ctx);
      if (retryAfter !== undefined) notify.retryAfter = retryAfter;
      return notify;
    }
  }
}

/** Encodes a `<notify>` element (spec §11). */
export function encodeNotifyElement(n: IrpNotify): XmlNode {
  switch (n.event) {
    case 'presence':
      return el('notify', { event: n.event, user: n.user }, ...n.bindings.map(encodeBinding));
    case 'watch-request':
    case 'watch-removed':
      return el('notify', { event: n.event, user: n.user });
    case 'certificate':
      return el(
        'notify',
        { event: n.event },
        n.certificate ? encodeCertificateInfo(n.certificate) : encodeRequestInfo(n.request),
      );
    case 'session':
      return el('notify', {
        event: n.event,
        reason: n.reason,
        retryAfter: optInt(n.retryAfter, 'notify/@retryAfter'),
      });
  }
}
