import { type NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { addressRank, machineAddresses } from './local-addresses.js';

function info(address: string, internal = false): NetworkInterfaceInfo {
  const v6 = address.includes(':');
  return v6
    ? {
        address,
        family: 'IPv6',
        internal,
        netmask: 'ffff::',
        mac: '00:00:00:00:00:00',
        cidr: null,
        scopeid: 0,
      }
    : {
        address,
        family: 'IPv4',
        internal,
        netmask: '255.255.255.0',
        mac: '00:00:00:00:00:00',
        cidr: null,
      };
}

describe('--auto addresses', () => {
  it.each([
    ['ipv4', '127.0.0.1', undefined],
    ['ipv4', '169.254.1.1', undefined],
    ['ipv4', '0.0.0.0', undefined],
    ['ipv4', '224.0.0.1', undefined],
    ['ipv4', '192.0.2.2', 1],
    ['ipv6', '::1', undefined],
    ['ipv6', 'fe80::1', undefined],
    ['ipv6', 'ff02::1', undefined],
    ['ipv6', '::ffff:192.0.2.1', undefined],
    ['ipv6', 'fd00::2', 2],
    ['ipv6', '2001:db8::7', 0],
  ] as const)('%s %s → rank %s', (family, address, rank) => {
    expect(addressRank(family, address)).toBe(rank);
  });

  it('takes non-internal usable addresses, global IPv6 first, then IPv4, then unique-local', () => {
    const found = machineAddresses({
      lo: [info('127.0.0.1', true), info('::1', true)],
      eth0: [info('192.0.2.2'), info('fd00::2'), info('fe80::fc:ff:fe00:1'), info('2001:db8::2')],
    });
    expect(found).toEqual([
      { family: 'ipv6', address: '2001:db8::2' },
      { family: 'ipv4', address: '192.0.2.2' },
      { family: 'ipv6', address: 'fd00::2' },
    ]);
  });

  it('keeps at most 8 (spec §8)', () => {
    const many = Array.from({ length: 12 }, (_, i) => info(`192.0.2.${i + 1}`));
    expect(machineAddresses({ eth0: many })).toHaveLength(8);
  });
});
