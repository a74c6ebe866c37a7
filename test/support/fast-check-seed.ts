import fc from 'fast-check';
import { TEST_SEED } from './test-seed.js';

// fast-check prints the seed of a failing property itself; every property of the run starts from TEST_SEED.
fc.configureGlobal({ seed: TEST_SEED });
