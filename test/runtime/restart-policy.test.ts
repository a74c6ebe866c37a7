import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ExitReason, RestartType } from '../../src/runtime/child.js';
import {
  backoffDelayMs, monotonicMs, recordRestart, restartCause, restartsAfter, waitBeforeRestart,
} from '../../src/runtime/restart-policy.js';

afterEach(() => {
  vi.useRealTimers();
});

const crashed: ExitReason = { kind: 'crash', error: new Error('boom') };

describe('the restart policy', () => {
  it.each<[RestartType, ExitReason['kind'], boolean]>([
    ['permanent', 'normal', true],
    ['permanent', 'shutdown', true],
    ['permanent', 'crash', true],
    ['transient', 'normal', false],
    ['transient', 'shutdown', false],
    ['transient', 'crash', true],
    ['temporary', 'normal', false],
    ['temporary', 'shutdown', false],
    ['temporary', 'crash', false],
  ])('restarts a %s child that ended with %s: %s', (restart, kind, expected) => {
    expect(restartsAfter(restart, kind === 'crash' ? crashed : { kind })).toBe(expected);
  });

  it('gives a crash as its own error and a permanent child ending on its own as an error naming it', () => {
    expect(restartCause('memory', crashed)).toBe((crashed as { error: Error }).error);
    expect(restartCause('memory', { kind: 'normal' })).toEqual(new Error('permanent child "memory" exited (normal)'));
    expect(restartCause('calls', { kind: 'shutdown' }).message).toBe('permanent child "calls" exited (shutdown)');
  });

  it('lets exactly `intensity` restarts through in the period and forgets those a full period old', () => {
    const limits = { intensity: 2, periodMs: 1000 };
    expect(recordRestart([], 0, limits)).toEqual({ restarts: [0], exceeded: false });
    expect(recordRestart([0], 500, limits)).toEqual({ restarts: [0, 500], exceeded: false });
    expect(recordRestart([0, 500], 999, limits)).toEqual({ restarts: [0, 500, 999], exceeded: true });
    // A restart exactly `periodMs` ago is outside the period.
    expect(recordRestart([0, 500], 1000, limits)).toEqual({ restarts: [500, 1000], exceeded: false });
    expect(recordRestart([0, 500], 2000, limits)).toEqual({ restarts: [2000], exceeded: false });
  });

  it('does not change the restarts it is given', () => {
    const restarts = [0, 500];
    recordRestart(restarts, 1000, { intensity: 2, periodMs: 1000 });
    expect(restarts).toEqual([0, 500]);
  });

  it('waits nothing without a back-off, and doubles the wait per earlier restart up to the cap', () => {
    expect(backoffDelayMs({}, 3)).toBe(0);
    const spec = { backoffMs: { initial: 100, max: 1000 } };
    expect([0, 1, 2, 3, 4, 5].map((earlier) => backoffDelayMs(spec, earlier))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('ends a back-off wait when its time has passed, not before', async () => {
    vi.useFakeTimers();
    const pending = waitBeforeRestart(100);
    let elapsed: boolean | undefined;
    void pending.elapsed.then((value) => (elapsed = value));
    await vi.advanceTimersByTimeAsync(99);
    expect(elapsed).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(elapsed).toBe(true);
  });

  it('ends a cancelled back-off wait at once as not elapsed, and clears its timer', async () => {
    vi.useFakeTimers();
    const pending = waitBeforeRestart(100);
    pending.cancel();
    expect(await pending.elapsed).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('measures restart times on the monotonic clock', () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const before = monotonicMs();
    vi.advanceTimersByTime(250);
    expect(monotonicMs() - before).toBe(250);
    expect(monotonicMs()).toBe(performance.now());
  });
});
