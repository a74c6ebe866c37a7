import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { eventLoopGuard, SAMPLE_PERIOD_MS, type EventLoopDelays } from '../../src/runtime/overload-guard.js';

/** Event-loop delay samples the test records, read the way `monitorEventLoopDelay`'s histogram is (nanoseconds). */
function recordedDelays(): EventLoopDelays & { sample(...ms: number[]): void; enabled: () => boolean } {
  let samples: number[] = [];
  let enabled = false;
  return {
    sample: (...ms) => { samples.push(...ms); },
    enabled: () => enabled,
    enable: () => { enabled = true; return true; },
    disable: () => { enabled = false; return true; },
    reset: () => { samples = []; },
    get count() { return samples.length; },
    percentile: (p) => {
      const sorted = [...samples].sort((a, b) => a - b);
      return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]! * 1e6;
    },
  };
}

const onTime = (count: number) => Array.from({ length: count }, () => SAMPLE_PERIOD_MS);

describe('event-loop overload guard', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('refuses while the loop is late on most samples of a window, and takes calls again once it recovers', () => {
    const delays = recordedDelays();
    const guard = eventLoopGuard({ maxLagMs: 60, windowMs: 300, delays });
    try {
      expect(delays.enabled()).toBe(true);
      delays.sample(130, 130, 130, 10);
      expect(guard.refusal()).toBeUndefined();
      vi.advanceTimersByTime(300);
      expect(guard.refusal()).toBe('the runtime is overloaded: its event loop ran 120 ms late (median of the last 300 ms; limit 60 ms); try again later');
      delays.sample(...onTime(30));
      vi.advanceTimersByTime(299);
      expect(guard.refusal()).toMatch(/ran 120 ms late/);
      vi.advanceTimersByTime(1);
      expect(guard.refusal()).toBeUndefined();
    } finally {
      guard.stop();
    }
    expect(delays.enabled()).toBe(false);
  });

  it('refuses only past the limit, not at it', () => {
    const delays = recordedDelays();
    const guard = eventLoopGuard({ maxLagMs: 60, windowMs: 300, delays });
    delays.sample(70, 70, 70);
    vi.advanceTimersByTime(300);
    expect(guard.refusal()).toBeUndefined();
    delays.sample(71, 71, 71);
    vi.advanceTimersByTime(300);
    expect(guard.refusal()).toMatch(/ran 61 ms late/);
    guard.stop();
  });

  it('does not refuse for one long stall (a garbage collection, a lazy module load)', () => {
    const delays = recordedDelays();
    const guard = eventLoopGuard({ maxLagMs: 60, windowMs: 500, delays });
    delays.sample(...onTime(20), 310, ...onTime(20));
    vi.advanceTimersByTime(500);
    expect(guard.refusal()).toBeUndefined();
    guard.stop();
  });

  it('reads an empty window as on time', () => {
    const delays = recordedDelays();
    const guard = eventLoopGuard({ maxLagMs: 60, windowMs: 300, delays });
    delays.sample(500, 500);
    vi.advanceTimersByTime(300);
    expect(guard.refusal()).toMatch(/ran 490 ms late/);
    vi.advanceTimersByTime(300);
    expect(guard.refusal()).toBeUndefined();
    guard.stop();
  });

  it('measures two-second windows by default', () => {
    const delays = recordedDelays();
    const guard = eventLoopGuard({ maxLagMs: 60, delays });
    delays.sample(200, 200);
    vi.advanceTimersByTime(1_999);
    expect(guard.refusal()).toBeUndefined();
    vi.advanceTimersByTime(1);
    expect(guard.refusal()).toBe('the runtime is overloaded: its event loop ran 190 ms late (median of the last 2000 ms; limit 60 ms); try again later');
    guard.stop();
  });

  it('never refuses when turned off with 0, and samples nothing', () => {
    const delays = recordedDelays();
    const guard = eventLoopGuard({ maxLagMs: 0, windowMs: 100, delays });
    delays.sample(1_000, 1_000);
    vi.advanceTimersByTime(1_000);
    expect(guard.refusal()).toBeUndefined();
    expect(delays.enabled()).toBe(false);
    guard.stop();
  });

  it('refuses a negative limit by name', () => {
    expect(() => eventLoopGuard({ maxLagMs: -1 })).toThrow('eventLoopGuard: maxLagMs must be 0 (off) or more, got -1');
  });
});
