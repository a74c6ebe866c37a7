import { afterEach, describe, expect, it, vi } from 'vitest';
import { RestartIntensityError, supervisor, type SupervisorEvents } from '../../src/runtime/supervisor.js';
import { FakeChild, Journal, nextEvent } from './supervisor-fixtures.js';

afterEach(() => {
  vi.useRealTimers();
});

async function withFlakyChild(intensity: number, failStart?: (attempt: number) => 'throw' | 'reject' | undefined) {
  const journal = new Journal();
  const steady = new FakeChild('steady', journal);
  const flaky = new FakeChild('flaky', journal, { failStart });
  const root = supervisor({ strategy: 'one_for_one', intensity, periodMs: 60_000 }, [steady.spec, flaky.spec]);
  await root.start();
  return { journal, root, steady, flaky };
}

describe('restart intensity', () => {
  it('allows exactly `intensity` restarts within the period and gives up on the next', async () => {
    const { journal, root, flaky } = await withFlakyChild(3);
    const attempts: number[] = [];
    root.on('restart', (_id, attempt) => attempts.push(attempt));
    for (let n = 2; n <= 4; n++) {
      flaky.current.crash();
      await journal.next(`start:flaky#${n}`);
    }
    expect(attempts).toEqual([1, 2, 3]);

    const intensity = nextEvent<SupervisorEvents['intensity']>((listener) => root.on('intensity', listener));
    flaky.current.crash('fourth crash');
    const exit = await root.exited;
    const [error] = await intensity;
    expect(exit).toEqual({ kind: 'crash', error });
    expect(error).toBeInstanceOf(RestartIntensityError);
    expect((error.cause as Error).message).toBe('fourth crash');
    expect(journal.since('start:flaky#4')).toEqual(['stop:steady#1']);
    expect(root.which().every((child) => child.status === 'stopped')).toBe(true);
  });

  it('gives up on the first crash when intensity is 0', async () => {
    const { journal, root, flaky } = await withFlakyChild(0);
    flaky.current.crash();
    expect((await root.exited).kind).toBe('crash');
    expect(journal.entries).not.toContain('start:flaky#2');
  });

  it('forgets restarts older than the period', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'performance'] });
    const { journal, root, flaky } = await withFlakyChild(1);
    flaky.current.crash();
    await journal.next('start:flaky#2');
    vi.advanceTimersByTime(60_000);
    flaky.current.crash();
    await journal.next('start:flaky#3');
    expect(root.which().every((child) => child.status === 'running')).toBe(true);
    await root.stop();
    expect(await root.exited).toEqual({ kind: 'shutdown' });
  });

  it('counts a restart whose start throws or rejects as a crash of that attempt, and tries again', async () => {
    const { journal, root, flaky } = await withFlakyChild(3, (attempt) =>
      attempt === 2 ? 'throw' : attempt === 3 ? 'reject' : undefined);
    const restarts: Array<[number, string]> = [];
    root.on('restart', (_id, attempt, error) => restarts.push([attempt, error.message]));
    flaky.current.crash('first crash');
    await journal.next('start:flaky#2');
    expect(restarts).toEqual([
      [1, 'first crash'],
      [2, 'flaky start #2 threw'],
      [3, 'flaky start #3 rejected'],
    ]);
    flaky.current.crash();
    expect((await root.exited).kind).toBe('crash');
  });

  it('counts every restart of the supervisor against one budget, whichever child crashed', async () => {
    const { journal, root, steady, flaky } = await withFlakyChild(2);
    flaky.current.crash();
    await journal.next('start:flaky#2');
    steady.current.crash();
    await journal.next('start:steady#2');
    flaky.current.crash();
    expect((await root.exited).kind).toBe('crash');
  });

  it('crashes as a child when it gives up, so its parent restarts it', async () => {
    const journal = new Journal();
    const flaky = new FakeChild('flaky', journal);
    const parent = supervisor({ strategy: 'one_for_one', intensity: 1, periodMs: 60_000 }, [{
      id: 'inner',
      restart: 'permanent',
      shutdownMs: 1_000,
      start: async () => {
        const inner = supervisor({ strategy: 'one_for_one', intensity: 0, periodMs: 60_000 }, [flaky.spec]);
        await inner.start();
        return inner;
      },
    }]);
    await parent.start();
    const restart = nextEvent<SupervisorEvents['restart']>((listener) => parent.on('restart', listener));
    flaky.current.crash();
    const [id, , error] = await restart;
    expect(id).toBe('inner');
    expect(error).toBeInstanceOf(RestartIntensityError);
    await journal.next('start:flaky#2');
    await parent.stop();
    expect(journal.entries.at(-1)).toBe('stop:flaky#2');
  });
});
