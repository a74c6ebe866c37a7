// One seed for every seeded input of the tests: fast-check's properties and the protocol fuzzer.
// A CI run must be reproducible, so it is fixed unless FC_SEED names another; `FC_SEED=random`
// draws a fresh one, and a failure prints the seed to pass back as `FC_SEED=<seed>`.
const DEFAULT_SEED = 20261125;

function seedFrom(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_SEED;
  if (value === 'random') return Math.floor(Math.random() * 2 ** 31);
  const seed = Number(value);
  if (!Number.isInteger(seed)) throw new Error(`FC_SEED must be an integer or "random", got ${JSON.stringify(value)}`);
  return seed;
}

/** The run's seed, drawn once per process when FC_SEED is `random`. */
export const TEST_SEED = seedFrom(process.env.FC_SEED);

/** How a failure names the seed that reproduces it. */
export const replaySeed = `replay with FC_SEED=${TEST_SEED}`;
