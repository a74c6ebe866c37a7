import { beforeAll, describe, expect, it } from 'vitest';
import { runFaultMatrix, type FaultOutcome } from './fault-matrix.js';

let outcomes: FaultOutcome[];

beforeAll(async () => {
  outcomes = await runFaultMatrix();
}, 180_000);

describe('fault injection during live calls', () => {
  it('covers every fault of the matrix', () => {
    expect(outcomes.map((outcome) => outcome.fault)).toHaveLength(14);
    for (const outcome of outcomes) expect(outcome.injected, outcome.fault).toBeGreaterThan(0);
  });

  it('gives every caller the documented experience, and never silence', () => {
    for (const outcome of outcomes) {
      expect(outcome.ok, `${outcome.fault}: heard ${JSON.stringify(outcome.heard)}`).toBe(true);
      expect(outcome.heard.filter((text) => text === ''), outcome.fault).toEqual([]);
      expect(outcome.silentCalls, outcome.fault).toBe(0);
    }
  });

  it('loses no stored history item (counted in DynamoDB)', () => {
    for (const outcome of outcomes) expect(outcome.itemsLost, outcome.fault).toBe(0);
  });
});
