import { afterEach, describe, expect, it, vi } from 'vitest';
import { dynamicSupervisor, type ChildTemplate, type DynamicSupervisorEvents } from '../../src/runtime/dynamic-supervisor.js';
import { FakeIncarnation, Journal, nextEvent } from './supervisor-fixtures.js';

afterEach(() => {
  vi.useRealTimers();
});

/** What a call's restart resumes from; the same object is handed to every incarnation. */
interface Resume {
  loadSnapshot(): string;
}

/** Children of a dynamic supervisor, keyed by id, with every incarnation and every argument kept. */
function calls(journal: Journal, overrides: Partial<ChildTemplate<Resume>> = {}) {
  const incarnations = new Map<string, FakeIncarnation[]>();
  const args = new Map<string, Resume[]>();
  const template: ChildTemplate<Resume> = {
    restart: 'transient',
    shutdownMs: 1_000,
    start: (resume, id) => {
      const list = incarnations.get(id) ?? [];
      const incarnation = new FakeIncarnation(`${id}#${list.length + 1}`, journal, 'prompt');
      incarnations.set(id, [...list, incarnation]);
      args.set(id, [...(args.get(id) ?? []), resume]);
      journal.record(`start:${incarnation.name}`);
      return incarnation;
    },
    ...overrides,
  };
  const current = (id: string): FakeIncarnation => {
    const incarnation = incarnations.get(id)?.at(-1);
    if (!incarnation) throw new Error(`${id} never started`);
    return incarnation;
  };
  return { template, current, incarnations, args };
}

const resume: Resume = { loadSnapshot: () => 'turn-3' };
const limits = { intensity: 3, periodMs: 60_000 } as const;

describe('dynamic supervisor', () => {
  it('gives up a child that keeps crashing while 99 others keep running untouched', async () => {
    const journal = new Journal();
    const children = calls(journal);
    const sup = dynamicSupervisor<Resume>({ ...limits, child: children.template });
    const ids = Array.from({ length: 100 }, (_, index) => `call-${index}`);
    await Promise.all(ids.map((id) => sup.startChild(id, resume)));
    const poisoned = 'call-42';
    const restarts: number[] = [];
    sup.on('restart', (id, attempt) => {
      if (id === poisoned) restarts.push(attempt);
    });
    const gaveUp = nextEvent<DynamicSupervisorEvents['giveUp']>((listener) => sup.on('giveUp', listener));

    for (let n = 2; n <= 4; n++) {
      children.current(poisoned).crash(`crash ${n - 1}`);
      await journal.next(`start:${poisoned}#${n}`);
    }
    children.current(poisoned).crash('crash 4');
    const [id, error] = await gaveUp;

    expect([id, error.message]).toEqual([poisoned, 'crash 4']);
    expect(restarts).toEqual([1, 2, 3]);
    expect(sup.count()).toBe(99);
    expect(sup.children()).not.toContain(poisoned);
    for (const other of ids.filter((candidate) => candidate !== poisoned)) {
      expect(children.incarnations.get(other)).toHaveLength(1);
    }
    expect(journal.entries.filter((entry) => entry.startsWith('stop:'))).toEqual([]);
    await sup.stop();
  });

  it('counts intensity per child: two children may each use their whole budget', async () => {
    const journal = new Journal();
    const children = calls(journal);
    const sup = dynamicSupervisor<Resume>({ ...limits, child: children.template });
    await sup.startChild('a', resume);
    await sup.startChild('b', resume);
    for (let n = 2; n <= 4; n++) {
      for (const id of ['a', 'b']) {
        children.current(id).crash();
        await journal.next(`start:${id}#${n}`);
      }
    }
    expect(sup.children()).toEqual(['a', 'b']);
    await sup.stop();
  });

  it('restarts a crashed child with the argument it was first started with', async () => {
    const journal = new Journal();
    const children = calls(journal);
    const sup = dynamicSupervisor<Resume>({ ...limits, child: children.template });
    await sup.startChild('call-1', resume);
    children.current('call-1').crash();
    await journal.next('start:call-1#2');
    expect(children.args.get('call-1')).toEqual([resume, resume]);
    expect(children.args.get('call-1')?.[1]).toBe(resume);
    await sup.stop();
  });

  it('removes a transient child that ends normally, without restarting it', async () => {
    const journal = new Journal();
    const children = calls(journal);
    const sup = dynamicSupervisor<Resume>({ ...limits, child: children.template });
    const handle = await sup.startChild('call-1', resume);
    children.current('call-1').end('normal');
    expect(await handle?.exited).toEqual({ kind: 'normal' });
    expect(sup.count()).toBe(0);
    expect(journal.entries).toEqual(['start:call-1#1']);
  });

  it('terminates a child without restarting it; terminating an unknown id does nothing', async () => {
    const journal = new Journal();
    const children = calls(journal);
    const sup = dynamicSupervisor<Resume>({ ...limits, child: children.template });
    const handle = await sup.startChild('call-1', resume);
    await sup.terminateChild('call-1');
    await sup.terminateChild('call-1');
    await sup.terminateChild('never-started');
    expect(await handle?.exited).toEqual({ kind: 'shutdown' });
    expect(journal.entries).toEqual(['start:call-1#1', 'stop:call-1#1']);
    expect(sup.count()).toBe(0);
  });

  it('gives a child up with a shutdown exit, and treats a terminate from inside the give-up listener as already done', async () => {
    const journal = new Journal();
    const children = calls(journal);
    const sup = dynamicSupervisor<Resume>({ ...limits, intensity: 0, child: children.template });
    const handle = await sup.startChild('call-1', resume);
    const terminated: Array<Promise<void>> = [];
    sup.on('giveUp', (id) => terminated.push(sup.terminateChild(id)));
    children.current('call-1').crash('poison');
    const exit = await handle?.exited;
    await Promise.all(terminated);
    expect(exit).toEqual({ kind: 'shutdown' });
    expect(journal.entries).toEqual(['start:call-1#1']);
  });

  it('cancels a back-off restart when the child is terminated', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const journal = new Journal();
    const children = calls(journal, { backoffMs: { initial: 30_000, max: 30_000 } });
    const sup = dynamicSupervisor<Resume>({ ...limits, child: children.template });
    await sup.startChild('call-1', resume);
    const restart = nextEvent<DynamicSupervisorEvents['restart']>((listener) => sup.on('restart', listener));
    children.current('call-1').crash();
    await restart;
    await sup.terminateChild('call-1');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(journal.entries).toEqual(['start:call-1#1']);
  });

  it('refuses children beyond maxChildren and after stop, and rejects a live id', async () => {
    const journal = new Journal();
    const children = calls(journal);
    const sup = dynamicSupervisor<Resume>({ ...limits, maxChildren: 2, child: children.template });
    await sup.startChild('a', resume);
    await expect(sup.startChild('a', resume)).rejects.toThrow(/already running/);
    await sup.startChild('b', resume);
    expect(await sup.startChild('c', resume)).toBeUndefined();
    await sup.stop();
    expect(await sup.startChild('d', resume)).toBeUndefined();
    expect(journal.entries.filter((entry) => entry.startsWith('start:'))).toEqual(['start:a#1', 'start:b#1']);
  });

  it('rejects startChild when the first start fails, keeping nothing', async () => {
    const failing: ChildTemplate<Resume> = {
      restart: 'transient', shutdownMs: 1_000, start: () => { throw new Error('no snapshot store'); },
    };
    const sup = dynamicSupervisor<Resume>({ ...limits, child: failing });
    await expect(sup.startChild('call-1', resume)).rejects.toThrow('no snapshot store');
    expect(sup.count()).toBe(0);
  });

  it('stops every child on stop() and then exits with shutdown', async () => {
    const journal = new Journal();
    const children = calls(journal);
    const sup = dynamicSupervisor<Resume>({ ...limits, child: children.template });
    for (const id of ['a', 'b', 'c']) await sup.startChild(id, resume);
    await sup.stop();
    expect(journal.entries.filter((entry) => entry.startsWith('stop:')).sort()).toEqual(['stop:a#1', 'stop:b#1', 'stop:c#1']);
    expect(await sup.exited).toEqual({ kind: 'shutdown' });
    expect(sup.count()).toBe(0);
  });

  it('stops a child that a terminate caught in the middle of its start', async () => {
    const journal = new Journal();
    const children = calls(journal);
    const slowStart: ChildTemplate<Resume> = { ...children.template, start: async (arg, id) => children.template.start(arg, id) };
    const sup = dynamicSupervisor<Resume>({ ...limits, child: slowStart });
    const starting = sup.startChild('call-1', resume);
    const terminated = sup.terminateChild('call-1');
    await starting;
    await terminated;
    expect(journal.entries).toEqual(['start:call-1#1', 'stop:call-1#1']);
  });
});
