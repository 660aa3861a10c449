import { describe, expect, it } from 'vitest';
import { type AddressVisibility } from '@irp/protocol';
import { decodeAddressEvent, encodeAddressEvent } from './address-events.js';
import { type OwnerAccess } from './address.repository.js';
import { wireBindings } from './binding.mapper.js';
import { type OwnerView } from './owner-view.cache.js';
import { watchStatus } from './presence-hub.service.js';

function access(
  visibility: AddressVisibility,
  approved: string[] = [],
  pending: string[] = [],
): OwnerAccess {
  return { visibility, approved: new Set(approved), pending: new Set(pending) };
}

describe('watchStatus (spec §8.1)', () => {
  it.each<[string, OwnerAccess, string, ReturnType<typeof watchStatus>]>([
    ['the owner, whatever the policy', access('nobody'), 'owner', 'active'],
    ['anyone under domain', access('domain'), 'x', 'active'],
    ['an approved watcher under watchers', access('watchers', ['x']), 'x', 'active'],
    ['a requester under watchers', access('watchers', [], ['x']), 'x', 'pending'],
    ['anyone else under watchers', access('watchers', ['y'], ['z']), 'x', 'removed'],
    ['an approved watcher under nobody', access('nobody', ['x']), 'x', 'removed'],
  ])('%s', (_name, rules, viewer, expected) => {
    expect(watchStatus('owner', viewer, rules)).toBe(expected);
  });
});

describe('address events', () => {
  it('round-trip and refuse anything malformed', () => {
    const events = [
      { k: 'presence', o: 'a' },
      { k: 'access', o: 'a' },
      { k: 'unwatch', o: 'a', w: 'b' },
      { k: 'request', o: 'a', w: 'bob' },
    ] as const;
    for (const event of events)
      expect(decodeAddressEvent(encodeAddressEvent(event))).toEqual(event);
    for (const bad of [
      '',
      'null',
      '{"k":"presence"}',
      '{"k":"unwatch","o":"a"}',
      '{"k":"drop","o":"a"}',
      '[1]',
    ]) {
      expect(decodeAddressEvent(bad)).toBeUndefined();
    }
  });
});

describe('wireBindings (spec §8: a lapsed binding is never returned)', () => {
  it('drops bindings whose expiry has passed, even before the purge', () => {
    const now = Date.now();
    const binding = (device: string, expiresIn: number) => ({
      device,
      addresses: [{ family: 'ipv4' as const, address: '192.0.2.1', transport: 'tcp' as const }],
      updatedAt: new Date(now - 1000),
      expiresAt: new Date(now + expiresIn),
    });
    const view: OwnerView = {
      userKey: 'k',
      bindings: [binding('live', 5000), binding('lapsed', -1), binding('now', 0)],
      fingerprints: ['ab'.repeat(32)],
      access: access('domain'),
    };
    const wire = wireBindings(view, now);
    expect(wire.map((b) => b.device)).toEqual(['live']);
    expect(wire[0]!.certificates).toEqual(['ab'.repeat(32)]);
  });
});
