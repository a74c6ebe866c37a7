import { describe, expect, it } from 'vitest';
import { arrivalTimesMs } from '../../src/load/arrivals.js';
import { planCalls } from '../../src/load/runner.js';
import { parseScenario } from '../../src/load/scenario.js';

const gapsOf = (times: number[]) => times.map((at, index) => at - (times[index - 1] ?? 0));
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

describe('call arrivals', () => {
  it('starts uniform calls evenly over the ramp, the first at once', () => {
    expect(arrivalTimesMs(4, 1_000, 'uniform', 1)).toEqual([0, 250, 500, 750]);
    expect(arrivalTimesMs(1, 1_000, 'uniform', 1)).toEqual([0]);
  });

  it('draws the same Poisson schedule from the same seed, and another from another seed', () => {
    const times = arrivalTimesMs(50, 10_000, 'poisson', 7);
    expect(arrivalTimesMs(50, 10_000, 'poisson', 7)).toEqual(times);
    expect(arrivalTimesMs(50, 10_000, 'poisson', 8)).not.toEqual(times);
    expect(times.every((at, index) => index === 0 || at > times[index - 1]!)).toBe(true);
  });

  it('spaces Poisson calls by exponential gaps at the configured mean rate', () => {
    // 10,000 calls over 100 s: 100 calls a second, a gap of 10 ms on average. For the exponential
    // distribution the standard deviation equals the mean, and about 1 - 1/e = 63 % of gaps are shorter.
    const gaps = gapsOf(arrivalTimesMs(10_000, 100_000, 'poisson', 1));
    const gapMean = mean(gaps);
    const gapSd = Math.sqrt(mean(gaps.map((gap) => (gap - gapMean) ** 2)));
    expect(gapMean).toBeCloseTo(10, 0);
    expect(gapSd / gapMean).toBeCloseTo(1, 1);
    expect(gaps.filter((gap) => gap < gapMean).length / gaps.length).toBeCloseTo(1 - 1 / Math.E, 1);
  });

  it('starts every call at once when there is no ramp, whatever the arrivals', () => {
    expect(arrivalTimesMs(3, 0, 'poisson', 1)).toEqual([0, 0, 0]);
  });

  it('schedules a run\'s calls at the Poisson times of its seed', () => {
    const scenario = parseScenario({ name: 'one', caller: [{ hangup: true }] }, 'one.json');
    const options = { calls: 20, rampSeconds: 2, arrivals: 'poisson' as const, seed: 3 };
    const calls = planCalls([scenario], options, 'run');
    expect(calls.map((call) => call.startAfterMs)).toEqual(arrivalTimesMs(20, 2_000, 'poisson', 3));
    expect(planCalls([scenario], options, 'run')).toEqual(calls);
    expect(planCalls([scenario], { ...options, arrivals: 'uniform' }, 'run').map((call) => call.startAfterMs)).toEqual(arrivalTimesMs(20, 2_000, 'uniform', 3));
  });
});
