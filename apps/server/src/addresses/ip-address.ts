import { type AddressFamily } from '@irp/protocol';

/**
 * IP address text: strict parsing and the canonical form of spec §8 (IPv4 dotted
 * decimal, IPv6 per RFC 5952), and the classes of address §8 refuses.
 */

/** A parsed address: IPv4 as 4 octets, IPv6 as 8 16-bit groups. */
export type ParsedIp = { family: 'ipv4'; octets: number[] } | { family: 'ipv6'; groups: number[] };

/** Why an address may not be registered (spec §8). */
export type AddressClass =
  'unspecified' | 'multicast' | 'broadcast' | 'ipv4-mapped' | 'loopback' | 'link-local' | 'unicast';

const IPV4 = /^(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/**
 * Parses dotted-decimal IPv4. Leading zeros are refused (`010.0.0.1` is octal to some
 * parsers and decimal to others — Decision: a syntax error, never guessed).
 */
export function parseIpv4(text: string): number[] | undefined {
  const m = IPV4.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  return octets.every((o) => o <= 255) ? octets : undefined;
}

/**
 * Parses IPv6 text (RFC 4291 §2.2: hex groups, one `::`, an optional dotted IPv4
 * tail). Zone identifiers (`%eth0`) and prefixes are refused: a binding names an
 * address, not an interface of the registering host.
 */
export function parseIpv6(text: string): number[] | undefined {
  if (text.length === 0 || text.length > 45 || !/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  let tail: number[] = [];
  let head = text;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (!v4) return undefined;
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    head = text.slice(0, lastColon + 1);
    // `…:1.2.3.4`: keep a `::` intact, drop a single separating colon
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const parts = head.split('::');
  if (parts.length > 2) return undefined;
  const parse = (s: string): number[] | undefined => {
    if (s === '') return [];
    const groups = s.split(':');
    if (!groups.every((g) => HEX_GROUP.test(g))) return undefined;
    return groups.map((g) => parseInt(g, 16));
  };
  const before = parse(parts[0]!);
  const after = parts.length === 2 ? parse(parts[1]!) : [];
  if (!before || !after) return undefined;
  const total = before.length + after.length + tail.length;
  if (parts.length === 2) {
    // `::` stands for at least one group of zeros
    if (total > 7) return undefined;
    return [...before, ...new Array<number>(8 - total).fill(0), ...after, ...tail];
  }
  return total === 8 ? [...before, ...tail] : undefined;
}

/** Parses an address of either family; undefined when it is neither. */
export function parseIp(text: string): ParsedIp | undefined {
  const octets = parseIpv4(text);
  if (octets) return { family: 'ipv4', octets };
  const groups = parseIpv6(text);
  return groups ? { family: 'ipv6', groups } : undefined;
}

/**
 * RFC 5952 §4: lower-case hex, no leading zeros, the longest run of two or more zero
 * groups (the first of equal runs) shortened to `::`, a single zero group never.
 * Decision: always all-hex, also for the IPv4-embedding prefixes of RFC 5952 §5 (whose
 * mixed form is only RECOMMENDED): the most common one, IPv4-mapped, is refused
 * anyway, and one spelling per address is what lets clients compare them as text.
 */
export function formatIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** The canonical text of a parsed address. */
export function formatIp(ip: ParsedIp): string {
  return ip.family === 'ipv4' ? ip.octets.join('.') : formatIpv6(ip.groups);
}

/** Classifies an address for the rules of spec §8. */
export function classifyIp(ip: ParsedIp): AddressClass {
  if (ip.family === 'ipv4') {
    const [a, b, c, d] = ip.octets as [number, number, number, number];
    if (a === 0 && b === 0 && c === 0 && d === 0) return 'unspecified';
    if (a >= 224 && a <= 239) return 'multicast';
    // Decision: the limited broadcast address is no unicast destination either
    if (a === 255 && b === 255 && c === 255 && d === 255) return 'broadcast';
    if (a === 127) return 'loopback';
    if (a === 169 && b === 254) return 'link-local';
    return 'unicast';
  }
  const g = ip.groups;
  if (g.every((x) => x === 0)) return 'unspecified';
  if ((g[0]! & 0xff00) === 0xff00) return 'multicast';
  // ::ffff:0:0/96 (RFC 4291 §2.5.5.2)
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return 'ipv4-mapped';
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return 'loopback';
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local';
  return 'unicast';
}

/** The family a text belongs to, if it is an address at all. */
export function familyOf(text: string): AddressFamily | undefined {
  return parseIp(text)?.family;
}
