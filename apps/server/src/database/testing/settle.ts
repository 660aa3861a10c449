/** How a promise ended, for tests that expect some of many calls to fail. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Resolves with how `p` ended, never rejects. */
export function settle<T>(p: Promise<T>): Promise<Settled<T>> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}
