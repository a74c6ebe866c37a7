import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { eventLoopGuard } from '../../src/runtime/overload-guard.js';
import { saturate, spin } from '../support/busy-loop.js';

// Thresholds sit well above what a busy CI machine's scheduling adds to an idle loop.
describe('event-loop overload guard', () => {
  it('refuses while the loop is late on most samples of a window, and takes calls again once it recovers', async () => {
    const guard = eventLoopGuard({ maxLagMs: 60, windowMs: 300 });
    try {
      await saturate(1_000, 120);
      expect(guard.refusal()).toMatch(/^the runtime is overloaded: its event loop ran \d+ ms late \(median of the last 300 ms; limit 60 ms\); try again later$/);
      await sleep(800);
      expect(guard.refusal()).toBeUndefined();
    } finally {
      guard.stop();
    }
  });

  it('does not refuse for one long stall (a garbage collection, a lazy module load)', async () => {
    const guard = eventLoopGuard({ maxLagMs: 60, windowMs: 500 });
    try {
      await sleep(50);
      spin(300);
      const verdicts: Array<string | undefined> = [];
      for (let i = 0; i < 20; i++) {
        await sleep(50);
        verdicts.push(guard.refusal());
      }
      expect(verdicts.filter((verdict) => verdict !== undefined)).toEqual([]);
    } finally {
      guard.stop();
    }
  });

  it('never refuses when turned off with 0', async () => {
    const guard = eventLoopGuard({ maxLagMs: 0, windowMs: 100 });
    await saturate(400, 120);
    expect(guard.refusal()).toBeUndefined();
    guard.stop();
  });

  it('refuses a negative limit by name', () => {
    expect(() => eventLoopGuard({ maxLagMs: -1 })).toThrow('eventLoopGuard: maxLagMs must be 0 (off) or more, got -1');
  });
});
