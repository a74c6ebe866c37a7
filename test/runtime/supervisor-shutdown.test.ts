import { afterEach, describe, expect, it, vi } from 'vitest';
import { ShutdownTimeoutError } from '../../src/runtime/child.js';
import { ChildStartError, supervisor, type SupervisorEvents } from '../../src/runtime/supervisor.js';
import { FakeChild, fakeChildren, Journal, nextEvent } from './supervisor-fixtures.js';

afterEach(() => {
  vi.useRealTimers();
});

const flags = { strategy: 'one_for_one', intensity: 10, periodMs: 60_000 } as const;

describe('supervisor start and shutdown', () => {
  it('starts children in list order and stops them in reverse order', async () => {
    const journal = new Journal();
    const root = supervisor(flags, fakeChildren(journal, ['a', 'b', 'c']).map((child) => child.spec));
    await root.start();
    await root.stop();
    expect(journal.entries).toEqual(['start:a#1', 'start:b#1', 'start:c#1', 'stop:c#1', 'stop:b#1', 'stop:a#1']);
    expect(await root.exited).toEqual({ kind: 'shutdown' });
  });

  it('fails start() when a child fails to start, after stopping the ones already started', async () => {
    const journal = new Journal();
    const [a, b] = fakeChildren(journal, ['a', 'b']);
    const c = new FakeChild('c', journal, { failStart: () => 'throw' });
    const d = new FakeChild('d', journal);
    const root = supervisor(flags, [a!.spec, b!.spec, c.spec, d.spec]);
    const started = root.start();
    await expect(started).rejects.toBeInstanceOf(ChildStartError);
    await expect(started).rejects.toMatchObject({ childId: 'c' });
    expect(journal.entries).toEqual(['start:a#1', 'start:b#1', 'stop:b#1', 'stop:a#1']);
    expect((await root.exited).kind).toBe('crash');
  });

  it('abandons a child that does not stop within shutdownMs, reports it, and stops the rest', async () => {
    const journal = new Journal();
    const [a] = fakeChildren(journal, ['a']);
    const stuck = new FakeChild('stuck', journal, { stopping: 'never', shutdownMs: 20 });
    const root = supervisor(flags, [a!.spec, stuck.spec]);
    await root.start();
    const reported = nextEvent<SupervisorEvents['shutdownError']>((listener) => root.on('shutdownError', listener));
    await root.stop();
    const [id, error] = await reported;
    expect(id).toBe('stuck');
    expect(error).toBeInstanceOf(ShutdownTimeoutError);
    expect(journal.entries.slice(-2)).toEqual(['stop:stuck#1', 'stop:a#1']);
  });

  it('waits the back-off between restarts, doubling up to the cap', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const journal = new Journal();
    const service = new FakeChild('service', journal, { backoffMs: { initial: 100, max: 300 } });
    const root = supervisor(flags, [service.spec]);
    await root.start();
    const waits: number[] = [];
    for (let n = 2; n <= 5; n++) {
      service.current.crash();
      let waited = 0;
      while (!journal.entries.includes(`start:service#${n}`)) {
        await vi.advanceTimersByTimeAsync(10);
        waited += 10;
      }
      waits.push(waited);
    }
    expect(waits).toEqual([100, 200, 300, 300]);
    await root.stop();
  });

  it('cancels a pending back-off restart when stopped', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const journal = new Journal();
    const service = new FakeChild('service', journal, { backoffMs: { initial: 60_000, max: 60_000 } });
    const root = supervisor(flags, [service.spec]);
    await root.start();
    const restart = nextEvent<SupervisorEvents['restart']>((listener) => root.on('restart', listener));
    service.current.crash();
    await restart;
    expect(root.which()).toEqual([{ id: 'service', status: 'restarting' }]);
    await root.stop();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(journal.entries).toEqual(['start:service#1']);
    expect(root.which()).toEqual([{ id: 'service', status: 'stopped' }]);
  });

  it('stops once however often stop() is called', async () => {
    const journal = new Journal();
    const root = supervisor(flags, fakeChildren(journal, ['a']).map((child) => child.spec));
    await root.start();
    await Promise.all([root.stop(), root.stop()]);
    expect(journal.entries).toEqual(['start:a#1', 'stop:a#1']);
  });

  it('rejects duplicate child ids when declared', () => {
    const journal = new Journal();
    expect(() => supervisor(flags, fakeChildren(journal, ['a', 'a']).map((child) => child.spec))).toThrow(/duplicate/);
  });
});
