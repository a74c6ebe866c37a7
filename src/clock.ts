/**
 * Epoch milliseconds with sub-millisecond precision. Turn latencies are a few hundred
 * milliseconds, so `Date.now()` is too coarse; plain `performance.now()` would not survive a
 * restart from a persisted snapshot.
 */
export const epochMs = (): number => performance.timeOrigin + performance.now();
