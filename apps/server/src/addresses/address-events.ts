/**
 * The registry's events between instances (topic {@link ADDRESS_TOPIC}). They carry
 * internal user keys only; receivers read the current state themselves.
 */

/** The event-bus topic of the address registry. */
export const ADDRESS_TOPIC = 'addresses';

export type AddressEvent =
  /**
   * The live bindings of owner `o` changed, or one lapsed (spec §8); with
   * `certificates`, the owner's certificates changed (the fingerprints every binding
   * carries), and maybe the bindings too.
   */
  | { k: 'presence'; o: string; certificates?: true }
  /** Owner `o`'s policy or approvals changed: subscriptions to `o` are re-checked (spec §8.1). */
  | { k: 'access'; o: string }
  /** Watcher `w`'s subscriptions to owner `o` end with `watch-removed` (spec §8.1). */
  | { k: 'unwatch'; o: string; w: string }
  /** User id `w` asks to watch owner `o`: `watch-request` to o's sessions (spec §8.1). */
  | { k: 'request'; o: string; w: string };

/**
 * The wire form is JSON. A `presence` event of bindings only carries `"b":1`; one of
 * certificates is the original `{"k":"presence","o":…}`, which instances that predate
 * the distinction (and this one, for any `presence` without `"b":1`) take as "anything
 * of the owner may have changed" — so a mixed-version deployment stays coherent.
 */
export function encodeAddressEvent(event: AddressEvent): string {
  if (event.k === 'presence')
    return JSON.stringify(
      event.certificates ? { k: event.k, o: event.o } : { k: event.k, o: event.o, b: 1 },
    );
  return JSON.stringify(event);
}

/** Parses an event; undefined for anything malformed (never trust a channel blindly). */
export function decodeAddressEvent(payload: string): AddressEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const e = value as Record<string, unknown>;
  if (typeof e.o !== 'string') return undefined;
  switch (e.k) {
    case 'presence':
      return e.b === 1 ? { k: e.k, o: e.o } : { k: e.k, o: e.o, certificates: true };
    case 'access':
      return { k: e.k, o: e.o };
    case 'unwatch':
    case 'request':
      return typeof e.w === 'string' ? { k: e.k, o: e.o, w: e.w } : undefined;
    default:
      return undefined;
  }
}
