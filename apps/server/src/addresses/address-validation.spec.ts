import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BindingAddress, ResultCode } from '@irp/protocol';
import { DomainError } from '../common/domain.error.js';
import { domainErrorToResultCode } from '../common/domain-error.mapping.js';
import {
  canonicalAddress,
  clampExpires,
  validateDevice,
  validateRegistration,
} from './address-validation.js';
import { classifyIp, formatIpv6, parseIp, parseIpv6 } from './ip-address.js';

const STRICT = { allowLocalAddresses: false };
const LOCAL = { allowLocalAddresses: true };

function codeOf(fn: () => unknown): number | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (error) {
    if (error instanceof DomainError) return domainErrorToResultCode(error.code);
    throw error;
  }
}

describe('RFC 5952 canonical IPv6 text', () => {
  it.each([
    ['2001:0db8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of equal runs (§4.2.3)
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest run (§4.2.3)
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // one zero group is never shortened (§4.2.2)
    ['2001:db8::0001', '2001:db8::1'], // leading zeros dropped (§4.1)
    ['2001:db8:aaaa:bbbb:cccc:dddd:eeee:0001', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:1'],
    ['fe80:0000:0000:0000:0000:0000:0000:0001', 'fe80::1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['::', '::'],
    ['2001:db8::192.0.2.33', '2001:db8::c000:221'], // dotted tail parsed, shown in hex
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ])('%s → %s', (input, canonical) => {
    const groups = parseIpv6(input);
    expect(groups).toBeDefined();
    expect(formatIpv6(groups!)).toBe(canonical);
  });

  it.each([
    '',
    ':',
    ':::',
    '1:::2',
    '1::2::3',
    '12345::1',
    'g::1',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    'fe80::1%eth0',
    '::1.2.3',
    '::256.1.1.1',
    '1.2.3.4',
    '::1/128',
  ])('refuses %j', (input) => expect(parseIpv6(input)).toBeUndefined());

  it('agrees with the WHATWG URL serializer (an independent RFC 5952 implementation) on any address', () => {
    // zero-heavy groups, so that runs of zeros of every length and position occur
    const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (groups) => {
        const full = groups.map((g) => g.toString(16).padStart(4, '0')).join(':');
        const whatwg = new URL(`http://[${full}]/`).hostname.slice(1, -1);
        expect(formatIpv6(parseIpv6(full.toUpperCase())!)).toBe(whatwg);
        expect(parseIpv6(whatwg)).toEqual(groups);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses IPv4 with leading zeros or out of range', () => {
    expect(parseIp('010.0.0.1')).toBeUndefined();
    expect(parseIp('256.1.1.1')).toBeUndefined();
    expect(parseIp('1.2.3')).toBeUndefined();
    expect(parseIp('192.0.2.1')).toEqual({ family: 'ipv4', octets: [192, 0, 2, 1] });
  });
});

describe('address classes (spec §8)', () => {
  it.each([
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.255', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['::ffff:192.0.2.1', 'ipv4-mapped'],
    ['::ffff:c000:201', 'ipv4-mapped'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
    ['fec0::1', 'unicast'],
    ['192.0.2.1', 'unicast'],
    ['10.0.0.1', 'unicast'],
    ['2001:db8::1', 'unicast'],
    ['fd00::1', 'unicast'],
  ])('%s is %s', (text, kind) => expect(classifyIp(parseIp(text)!)).toBe(kind));
});

describe('canonicalAddress: codes of spec §8', () => {
  const a = (
    family: 'ipv4' | 'ipv6',
    address: string,
    extra: Partial<BindingAddress> = {},
  ): BindingAddress => ({
    family,
    address,
    ...extra,
  });

  it.each<[string, BindingAddress, typeof STRICT, number | 'ok']>([
    ['IPv6 text with family ipv4', a('ipv4', '2001:db8::1'), STRICT, ResultCode.ValueSyntax],
    ['IPv4 text with family ipv6', a('ipv6', '192.0.2.1'), STRICT, ResultCode.ValueSyntax],
    ['not an address', a('ipv6', 'example.com'), STRICT, ResultCode.ValueSyntax],
    ['a zone id', a('ipv6', 'fe80::1%eth0'), LOCAL, ResultCode.ValueSyntax],
    ['port 0', a('ipv4', '192.0.2.1', { port: 0 }), STRICT, ResultCode.ValueRange],
    ['port 65536', a('ipv4', '192.0.2.1', { port: 65536 }), STRICT, ResultCode.ValueRange],
    ['port 65535', a('ipv4', '192.0.2.1', { port: 65535 }), STRICT, 'ok'],
    ['unspecified ::', a('ipv6', '::'), LOCAL, ResultCode.PolicyError],
    ['unspecified 0.0.0.0', a('ipv4', '0.0.0.0'), LOCAL, ResultCode.PolicyError],
    ['multicast IPv4', a('ipv4', '224.0.0.251'), LOCAL, ResultCode.PolicyError],
    ['multicast IPv6', a('ipv6', 'ff02::fb'), LOCAL, ResultCode.PolicyError],
    [
      'IPv4-mapped, even when local is allowed',
      a('ipv6', '::ffff:192.0.2.1'),
      LOCAL,
      ResultCode.PolicyError,
    ],
    ['loopback by default', a('ipv4', '127.0.0.1'), STRICT, ResultCode.PolicyError],
    ['IPv6 loopback by default', a('ipv6', '::1'), STRICT, ResultCode.PolicyError],
    ['link-local by default', a('ipv6', 'fe80::1'), STRICT, ResultCode.PolicyError],
    ['IPv4 link-local by default', a('ipv4', '169.254.0.7'), STRICT, ResultCode.PolicyError],
    ['loopback when allowed', a('ipv4', '127.0.0.1'), LOCAL, 'ok'],
    ['link-local when allowed', a('ipv6', 'fe80::1'), LOCAL, 'ok'],
    ['global unicast', a('ipv6', '2001:db8::7'), STRICT, 'ok'],
  ])('%s', (_name, input, options, expected) => {
    expect(codeOf(() => canonicalAddress(input, options))).toBe(expected);
  });

  it('stores IPv6 canonically and defaults the transport to tcp', () => {
    expect(canonicalAddress(a('ipv6', '2001:0DB8:0:0:0:0:0:1', { port: 4605 }), STRICT)).toEqual({
      family: 'ipv6',
      address: '2001:db8::1',
      port: 4605,
      transport: 'tcp',
    });
    expect(canonicalAddress(a('ipv4', '192.0.2.1', { transport: 'quic' }), STRICT)).toEqual({
      family: 'ipv4',
      address: '192.0.2.1',
      transport: 'quic',
    });
  });
});

describe('expires, device and the whole registration', () => {
  it.each([
    [undefined, 3600],
    [0, 0],
    [1, 60],
    [59, 60],
    [60, 60],
    [3600, 3600],
    [86_400, 86_400],
    [86_401, 86_400],
    [Number.MAX_SAFE_INTEGER, 86_400],
  ])('expires %s → %s', (input, expected) => expect(clampExpires(input)).toBe(expected));

  it('refuses a negative expires with 2004', () => {
    expect(codeOf(() => clampExpires(-1))).toBe(ResultCode.ValueRange);
  });

  it('honours a lower minimum (tests only)', () => {
    expect(clampExpires(1, 1)).toBe(1);
  });

  it.each([
    [undefined, 'default'],
    ['', 'default'],
    ['laptop', 'laptop'],
    ['My.Phone_2-x', 'My.Phone_2-x'],
    ['x'.repeat(64), 'x'.repeat(64)],
  ])('device %j → %j', (input, expected) => expect(validateDevice(input)).toBe(expected));

  it.each(['x'.repeat(65), 'lap top', 'ü', 'a/b'])('refuses device %j with 2005', (device) => {
    expect(codeOf(() => validateDevice(device))).toBe(ResultCode.ValueSyntax);
  });

  const one = [{ family: 'ipv4' as const, address: '192.0.2.1' }];

  it('refuses more than 8 addresses with 2004', () => {
    const addresses = Array.from({ length: 9 }, (_, i) => ({
      family: 'ipv4' as const,
      address: `192.0.2.${i + 1}`,
    }));
    expect(codeOf(() => validateRegistration({ addresses }, STRICT))).toBe(ResultCode.ValueRange);
    expect(codeOf(() => validateRegistration({ addresses: addresses.slice(0, 8) }, STRICT))).toBe(
      'ok',
    );
  });

  it('needs an address unless removing', () => {
    expect(codeOf(() => validateRegistration({ addresses: [] }, STRICT))).toBe(
      ResultCode.MissingParameter,
    );
    expect(validateRegistration({ addresses: [], expires: 0, device: 'x' }, STRICT)).toMatchObject({
      remove: true,
      device: 'x',
    });
  });

  it('limits the presence note to 256 characters (code points), kept exactly as sent', () => {
    const note = ' 🙂'.repeat(128);
    expect(
      validateRegistration({ addresses: one, presence: { status: 'busy', note } }, STRICT).presence,
    ).toEqual({
      status: 'busy',
      note,
    });
    expect(
      codeOf(() =>
        validateRegistration(
          { addresses: one, presence: { status: 'busy', note: `${note}x` } },
          STRICT,
        ),
      ),
    ).toBe(ResultCode.ValueRange);
  });

  it('limits the service label', () => {
    expect(
      codeOf(() => validateRegistration({ addresses: one, service: 'x'.repeat(65) }, STRICT)),
    ).toBe(ResultCode.ValueRange);
    expect(codeOf(() => validateRegistration({ addresses: one, service: 'a\u0001' }, STRICT))).toBe(
      ResultCode.ValueSyntax,
    );
    expect(validateRegistration({ addresses: one, service: 'chat' }, STRICT).service).toBe('chat');
  });

  it('checks the device before the addresses', () => {
    expect(
      codeOf(() =>
        validateRegistration(
          { device: 'a b', addresses: [{ family: 'ipv4', address: 'x' }] },
          STRICT,
        ),
      ),
    ).toBe(ResultCode.ValueSyntax);
  });
});
