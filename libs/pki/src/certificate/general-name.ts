import { isIP } from 'node:net';
import { children, content, DerError, type Tlv } from '../encoding/der-reader.js';
import { ia5String, implicitPrimitive, tlv } from '../encoding/der-writer.js';
import { formatName } from '../encoding/name.js';

/** A GeneralName (RFC 5280 §4.2.1.6) of the kinds the registry uses; others are `other`. */
export type GeneralName =
  | { readonly type: 'email'; readonly value: string }
  | { readonly type: 'dns'; readonly value: string }
  | { readonly type: 'uri'; readonly value: string }
  | { readonly type: 'ip'; readonly value: string }
  | { readonly type: 'dirName'; readonly value: string }
  | { readonly type: 'other'; readonly value: string };

/** Canonical text of a 4- or 16-octet IP address (IPv6 in RFC 5952 form). */
export function ipBytesToText(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2)
      groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
    return canonicalIpv6(groups.join(':'));
  }
  return `#${Buffer.from(bytes).toString('hex')}`;
}

/**
 * RFC 5952 canonical form of an IPv6 address text (via the WHATWG URL
 * serializer: lower case, leading zeros dropped, the longest run of two or more
 * zero groups compressed). Embedded IPv4 is written in hex (`::ffff:102:304`),
 * which differs from RFC 5952 §5's mixed notation; IRP refuses such
 * addresses anyway (spec §8). Throws TypeError for invalid text.
 */
export function canonicalIpv6(text: string): string {
  return new URL(`http://[${text}]/`).hostname.slice(1, -1);
}

/** IPv4 (dotted quad) or IPv6 text to 4/16 octets. @throws RangeError when not an IP address */
export function ipTextToBytes(text: string): Buffer {
  const kind = isIP(text);
  if (kind === 4) return Buffer.from(text.split('.').map(Number));
  if (kind === 6 && !text.includes('%')) {
    const c = canonicalIpv6(text); // the serializer writes no embedded IPv4 dotted part
    const [head = '', tail] = c.includes('::') ? c.split('::') : [c, undefined];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups =
      tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
    const out = Buffer.alloc(16);
    groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
    return out;
  }
  throw new RangeError(`not an IP address: ${text}`);
}

/** Decodes one GeneralName TLV. */
export function decodeGeneralName(buf: Uint8Array, t: Tlv): GeneralName {
  const c = Buffer.from(content(buf, t));
  switch (t.tag) {
    case 0x81:
      return { type: 'email', value: c.toString('latin1') };
    case 0x82:
      return { type: 'dns', value: c.toString('latin1') };
    case 0x86:
      return { type: 'uri', value: c.toString('latin1') };
    case 0x87:
      return { type: 'ip', value: ipBytesToText(c) };
    case 0xa4: {
      const [name] = children(buf, t);
      if (!name) throw new DerError('bad directoryName');
      return { type: 'dirName', value: formatName(buf.subarray(name.start, name.end)) };
    }
    default:
      return { type: 'other', value: `[${t.tag & 0x1f}]` };
  }
}

/** Decodes GeneralNames (a SEQUENCE, or any constructed TLV holding GeneralName children). */
export function decodeGeneralNames(buf: Uint8Array, seqT: Tlv): GeneralName[] {
  return children(buf, seqT).map((t) => decodeGeneralName(buf, t));
}

/** Encodes one GeneralName of type email, dns, uri or ip. @throws RangeError on invalid text */
export function encodeGeneralName(name: GeneralName): Buffer {
  switch (name.type) {
    case 'email':
      return ia5String(name.value, 0x81);
    case 'dns':
      return ia5String(name.value, 0x82);
    case 'uri':
      return ia5String(name.value, 0x86);
    case 'ip':
      return implicitPrimitive(7, ipTextToBytes(name.value));
    case 'dirName':
    case 'other':
      throw new RangeError(`cannot encode GeneralName of type ${name.type}`);
  }
}

/** Wraps already-encoded GeneralName elements in a GeneralNames SEQUENCE. */
export function generalNames(names: readonly Uint8Array[]): Buffer {
  return tlv(0x30, Buffer.concat(names));
}
