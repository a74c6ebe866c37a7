import { describe, expect, it } from 'vitest';
import type { ExitReason, RestartType } from '../../src/runtime/child.js';
import { supervisor, type SupervisorEvents } from '../../src/runtime/supervisor.js';
import { FakeChild, Journal, nextEvent } from './supervisor-fixtures.js';

type Ending = 'crash' | 'normal' | 'shutdown';

async function endOnce(restart: RestartType, ending: Ending) {
  const journal = new Journal();
  const child = new FakeChild('x', journal, { restart });
  const root = supervisor({ strategy: 'one_for_one', intensity: 5, periodMs: 60_000 }, [child.spec]);
  await root.start();
  const exit = nextEvent<SupervisorEvents['childExit']>((listener) => root.on('childExit', listener));
  if (ending === 'crash') child.current.crash();
  else child.current.end(ending);
  const [, reason] = await exit;
  return { journal, root, child, reason };
}

describe('restart types', () => {
  it.each<[RestartType, Ending, boolean]>([
    ['permanent', 'crash', true],
    ['permanent', 'normal', true],
    ['permanent', 'shutdown', true],
    ['transient', 'crash', true],
    ['transient', 'normal', false],
    ['transient', 'shutdown', false],
    ['temporary', 'crash', false],
    ['temporary', 'normal', false],
    ['temporary', 'shutdown', false],
  ])('a %s child that ends with %s is restarted: %s', async (restart, ending, restarted) => {
    const { journal, root, reason } = await endOnce(restart, ending);
    expect(reason.kind).toBe(ending);
    if (restarted) await journal.next('start:x#2');
    // stop() waits its turn behind the exit, so any restart decided for that exit has happened by now.
    await root.stop();
    expect(journal.entries.includes('start:x#2')).toBe(restarted);
  });

  it('keeps a transient child that ended normally as stopped', async () => {
    const { root } = await endOnce('transient', 'normal');
    expect(root.which()).toEqual([{ id: 'x', status: 'stopped' }]);
    await root.stop();
  });

  it('drops a temporary child from its children once it exits', async () => {
    const { root } = await endOnce('temporary', 'crash');
    expect(root.which()).toEqual([]);
    await root.stop();
  });

  it('reports a crash with its error and restarts with that error as the cause', async () => {
    const journal = new Journal();
    const child = new FakeChild('x', journal, { restart: 'transient' });
    const root = supervisor({ strategy: 'one_for_one', intensity: 5, periodMs: 60_000 }, [child.spec]);
    await root.start();
    const exits: ExitReason[] = [];
    root.on('childExit', (_id, reason) => exits.push(reason));
    const restart = nextEvent<SupervisorEvents['restart']>((listener) => root.on('restart', listener));
    child.current.crash('boom');
    const [id, attempt, error] = await restart;
    expect([id, attempt, error.message]).toEqual(['x', 1, 'boom']);
    expect(exits).toEqual([{ kind: 'crash', error }]);
    await root.stop();
  });
});
