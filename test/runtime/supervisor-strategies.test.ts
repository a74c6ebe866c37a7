import { describe, expect, it } from 'vitest';
import { supervisor, type Strategy } from '../../src/runtime/supervisor.js';
import { fakeChildren, Journal } from './supervisor-fixtures.js';

async function threeChildren(strategy: Strategy) {
  const journal = new Journal();
  const [a, b, c] = fakeChildren(journal, ['a', 'b', 'c']);
  const root = supervisor({ strategy, intensity: 5, periodMs: 60_000 }, [a!.spec, b!.spec, c!.spec]);
  await root.start();
  return { journal, root, a: a!, b: b!, c: c! };
}

describe('supervisor strategies', () => {
  it('one_for_one restarts only the crashed child', async () => {
    const { journal, root, b } = await threeChildren('one_for_one');
    b.current.crash();
    await journal.next('start:b#2');
    expect(journal.since('start:c#1')).toEqual(['start:b#2']);
    expect(root.which()).toEqual([
      { id: 'a', status: 'running' }, { id: 'b', status: 'running' }, { id: 'c', status: 'running' },
    ]);
    await root.stop();
  });

  it('one_for_all stops the others in reverse order, then restarts all in list order', async () => {
    const { journal, root, b } = await threeChildren('one_for_all');
    b.current.crash();
    await journal.next('start:c#2');
    expect(journal.since('start:c#1')).toEqual(['stop:c#1', 'stop:a#1', 'start:a#2', 'start:b#2', 'start:c#2']);
    await root.stop();
  });

  it('rest_for_one restarts the crashed child and those after it, leaving earlier ones running', async () => {
    const { journal, root, b } = await threeChildren('rest_for_one');
    b.current.crash();
    await journal.next('start:c#2');
    expect(journal.since('start:c#1')).toEqual(['stop:c#1', 'start:b#2', 'start:c#2']);
    expect(root.which().every((child) => child.status === 'running')).toBe(true);
    await root.stop();
  });

  it('rest_for_one with the last child crashing restarts that child alone', async () => {
    const { journal, root, c } = await threeChildren('rest_for_one');
    c.current.crash();
    await journal.next('start:c#2');
    expect(journal.since('start:c#1')).toEqual(['start:c#2']);
    await root.stop();
  });

  it('does not restart a temporary sibling that one_for_all stopped, and drops it from the children', async () => {
    const journal = new Journal();
    const [a] = fakeChildren(journal, ['a']);
    const [t] = fakeChildren(journal, ['t'], { restart: 'temporary' });
    const root = supervisor({ strategy: 'one_for_all', intensity: 5, periodMs: 60_000 }, [a!.spec, t!.spec]);
    await root.start();
    a!.current.crash();
    await journal.next('start:a#2');
    expect(journal.since('start:t#1')).toEqual(['stop:t#1', 'start:a#2']);
    expect(root.which()).toEqual([{ id: 'a', status: 'running' }]);
    await root.stop();
  });

  it('ignores the exit of a sibling it stopped itself, so one crash means one restart', async () => {
    const { journal, root, b } = await threeChildren('one_for_all');
    const restarts: string[] = [];
    root.on('restart', (id) => restarts.push(id));
    b.current.crash();
    await journal.next('start:c#2');
    await root.stop();
    expect(restarts).toEqual(['b']);
    expect(journal.entries.filter((entry) => entry.startsWith('start:'))).toHaveLength(6);
  });
});
