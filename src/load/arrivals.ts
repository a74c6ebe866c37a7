import { seededRandom } from '../emulator/seeded-random.js';

/**
 * When the calls of a run start. `uniform`: evenly over the ramp, one every ramp/calls. `poisson`:
 * at the same mean rate (calls/ramp) but independently, with exponential gaps, as calls reach a
 * real line: bursts and lulls, so a node is measured against the queueing it will see.
 */
export const ARRIVALS = ['uniform', 'poisson'] as const;
export type Arrivals = (typeof ARRIVALS)[number];

/**
 * Start times (ms after the run's start) of `count` calls over `spanMs`. Poisson times come from
 * `seed`, so a run is reproducible; the last call starts at about `spanMs`, give or take
 * spanMs/√count.
 */
export function arrivalTimesMs(count: number, spanMs: number, arrivals: Arrivals, seed: number): number[] {
  if (arrivals === 'uniform' || spanMs === 0) return Array.from({ length: count }, (_, index) => (count > 1 ? (index * spanMs) / count : 0));
  const random = seededRandom(seed);
  const meanGapMs = spanMs / count;
  let atMs = 0;
  return Array.from({ length: count }, () => {
    // Inverse transform of the exponential distribution; 1 - u is in (0, 1], so the log is finite.
    atMs += -Math.log(1 - random()) * meanGapMs;
    return atMs;
  });
}
