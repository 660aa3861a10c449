import { describe, expect, it } from 'vitest';
import { formatTarget, parseBindingAddress, parseServerAddress } from './server-address.js';

describe('parseServerAddress', () => {
  it.each([
    ['dir.example.com', { host: 'dir.example.com', port: 4604 }],
    ['dir.example.com:14604', { host: 'dir.example.com', port: 14604 }],
    ['127.0.0.1:5', { host: '127.0.0.1', port: 5 }],
    ['[2001:db8::1]:4605', { host: '2001:db8::1', port: 4605 }],
    ['2001:db8::1', { host: '2001:db8::1', port: 4604 }],
  ])('%s', (text, target) => {
    expect(parseServerAddress(text)).toEqual(target);
    expect(parseServerAddress(formatTarget(target))).toEqual(target);
  });

  it.each(['', 'host:0', 'host:70000', 'a b', '[nonsense]:1', 'http://x'])(
    'refuses %j (usage, exit 2)',
    (text) => {
      expect(() => parseServerAddress(text)).toThrow(expect.objectContaining({ exitCode: 2 }));
    },
  );
});

describe('parseBindingAddress', () => {
  it.each([
    ['192.0.2.7', undefined, { family: 'ipv4', address: '192.0.2.7' }],
    ['192.0.2.7', 4605, { family: 'ipv4', address: '192.0.2.7', port: 4605 }],
    ['192.0.2.7:80', 4605, { family: 'ipv4', address: '192.0.2.7', port: 80 }],
    ['2001:db8::7', 4605, { family: 'ipv6', address: '2001:db8::7', port: 4605 }],
    ['[2001:db8::7]:81', undefined, { family: 'ipv6', address: '2001:db8::7', port: 81 }],
  ] as const)('%s (default port %s)', (text, port, expected) => {
    expect(parseBindingAddress(text, port)).toEqual(expected);
  });

  it.each(['example.com', '192.0.2.7:0', '[::1]', '300.1.1.1'])('refuses %j', (text) => {
    expect(() => parseBindingAddress(text)).toThrow(expect.objectContaining({ exitCode: 2 }));
  });
});
