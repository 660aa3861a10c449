import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

/** An address of this machine that a peer may reach. */
export interface LocalAddress {
  family: 'ipv4' | 'ipv6';
  address: string;
}

/** At most this many addresses go into one binding (spec §8: 1–8). */
export const MAX_BINDING_ADDRESSES = 8;

/**
 * Classifies an interface address: `undefined` for the kinds spec §8 refuses by
 * default (unspecified, loopback, link-local, multicast, IPv4-mapped), else a rank
 * (lower first): global IPv6, IPv4, unique-local IPv6.
 */
export function addressRank(family: 'ipv4' | 'ipv6', address: string): number | undefined {
  const a = address.toLowerCase();
  if (family === 'ipv4') {
    if (a === '0.0.0.0' || a.startsWith('127.') || a.startsWith('169.254.')) return undefined;
    const first = Number(a.split('.')[0]);
    if (first >= 224) return undefined; // multicast and reserved
    return 1;
  }
  if (a === '::' || a === '::1' || a.startsWith('::ffff:')) return undefined;
  if (/^fe[89ab]/.test(a) || a.startsWith('ff')) return undefined; // link-local, multicast
  if (/^f[cd]/.test(a)) return 2; // unique local (fc00::/7)
  if (/^[23]/.test(a)) return 0; // global unicast (2000::/3)
  return undefined;
}

/**
 * The machine's addresses a peer could connect to (`--auto`): every non-internal
 * interface address except those spec §8 refuses by default, global IPv6 first,
 * then IPv4, then unique-local IPv6; at most 8.
 */
export function machineAddresses(
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): LocalAddress[] {
  const found: { rank: number; value: LocalAddress }[] = [];
  const seen = new Set<string>();
  for (const infos of Object.values(interfaces)) {
    for (const info of infos ?? []) {
      if (info.internal) continue;
      const family = info.family === 'IPv6' ? 'ipv6' : 'ipv4';
      const rank = addressRank(family, info.address);
      if (rank === undefined || seen.has(info.address)) continue;
      seen.add(info.address);
      found.push({ rank, value: { family, address: info.address } });
    }
  }
  return found
    .sort((x, y) => x.rank - y.rank)
    .slice(0, MAX_BINDING_ADDRESSES)
    .map((f) => f.value);
}
