import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../src/load/latency.js';

/**
 * Values below 2.048 ms (2,048 µs) fall in HDR's first sub-bucket range at 3 significant digits,
 * where every microsecond is its own bucket, so percentiles over them are exact.
 */
const hundredthsOfAMillisecond = Array.from({ length: 100 }, (_, i) => (i + 1) / 100);

describe('LatencyHistogram', () => {
  it('reports each percentile of a known distribution, not the maximum', () => {
    const histogram = new LatencyHistogram();
    for (const ms of hundredthsOfAMillisecond) histogram.record(ms);
    expect(histogram.count).toBe(100);
    expect(histogram.summary()).toEqual({ p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99, max: 1 });
    expect(histogram.percentile(25)).toBe(0.25);
  });

  it('reports zero for every percentile before anything is recorded', () => {
    expect(new LatencyHistogram().summary()).toEqual({ p50: 0, p90: 0, p95: 0, p99: 0, max: 0 });
  });

  it('merges another histogram so the percentiles cover both', () => {
    const low = new LatencyHistogram();
    const high = new LatencyHistogram();
    for (const ms of hundredthsOfAMillisecond.slice(0, 50)) low.record(ms);
    for (const ms of hundredthsOfAMillisecond.slice(50)) high.record(ms);
    low.merge(high.encode());
    expect(low.count).toBe(100);
    expect(low.summary()).toEqual({ p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99, max: 1 });
  });
});
