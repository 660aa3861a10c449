import { type Binding, type PresenceNotify } from '@irp/protocol';
import { type StoredBinding } from './address.repository.js';
import { type OwnerView, liveBindings } from './owner-view.cache.js';

/**
 * A stored binding as it goes on the wire (spec §8): with the owner's certificate
 * fingerprints and the attestation exactly as it was sent (spec §8.2).
 */
export function toWireBinding(binding: StoredBinding, fingerprints: readonly string[]): Binding {
  const wire: Binding = {
    device: binding.device,
    expiresAt: binding.expiresAt,
    updatedAt: binding.updatedAt,
    addresses: binding.addresses.map((a) => ({ ...a })),
    certificates: [...fingerprints],
  };
  if (binding.presence) wire.presence = { ...binding.presence };
  if (binding.service !== undefined) wire.service = binding.service;
  if (binding.attestation) wire.attestation = binding.attestation;
  return wire;
}

/** The owner's live bindings on the wire, most recently updated first. */
export function wireBindings(view: OwnerView, now = Date.now()): Binding[] {
  return liveBindings(view, now).map((b) => toWireBinding(b, view.fingerprints));
}

/** `<notify event="presence" user>` with every live binding of the owner (spec §8, §11). */
export function presenceNotify(
  ownerAddress: string,
  view: OwnerView,
  now = Date.now(),
): PresenceNotify {
  return { event: 'presence', user: ownerAddress, bindings: wireBindings(view, now) };
}
