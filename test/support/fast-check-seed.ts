import fc from 'fast-check';

// A CI run must be reproducible, so property tests use a fixed seed unless FC_SEED names another;
// `FC_SEED=random` explores fresh inputs, and a failure prints the seed that reproduces it.
const DEFAULT_SEED = 20261125;

function seedFrom(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return DEFAULT_SEED;
  if (value === 'random') return undefined;
  const seed = Number(value);
  if (!Number.isInteger(seed)) throw new Error(`FC_SEED must be an integer or "random", got ${JSON.stringify(value)}`);
  return seed;
}

const seed = seedFrom(process.env.FC_SEED);
fc.configureGlobal(seed === undefined ? {} : { seed });
