import { afterEach, describe, expect, it } from 'vitest';
import { APOLOGY_ON_CRASH } from '../../src/runtime/calls/call-supervisor.js';
import { GOODBYE_ON_SHUTDOWN } from '../../src/call/machine.js';
import { CallerClient } from './caller-client.js';
import { startTestNode, type TestNode } from './test-node.js';

const script = { ttftMs: { min: 1, max: 5 }, rules: [{ reply: 'Sure, happy to help.' }] };

/** Crashes the call actor inside an action whenever the caller says "poison" (only once per call when `once`). */
function poisonOn(once: boolean) {
  const crashed = new Set<string>();
  return (effects: { turnStarted: (context: any) => void }) => ({
    turnStarted: (context: { callId: string; utterance: string }) => {
      if (context.utterance.includes('poison') && !(once && crashed.has(context.callId))) {
        crashed.add(context.callId);
        throw new Error('poisoned action');
      }
      effects.turnStarted(context);
    },
  });
}

let test: TestNode | undefined;
afterEach(async () => {
  await test?.close();
  test = undefined;
});

describe('call supervision', () => {
  it('restarts a crashed call from its last turn-boundary snapshot and answers the turn', async () => {
    test = await startTestNode({ script, effectOverrides: poisonOn(true) as never });
    const caller = await CallerClient.connect(test.url);
    await caller.start({ callId: 'sup-restart' });
    const first = await caller.turn('Hello');
    expect(first.at(-1)?.last).toBe(true);
    const second = await caller.turn('this is poison');
    expect(second.map((say) => say.text).join(' ')).toBe('Sure, happy to help.');
    const ids = caller.frames.filter((f) => f.type === 'say').map((f) => (f as { id: string }).id);
    expect(new Set(ids).size).toBe(ids.length);
    const third = await caller.turn('And again');
    expect(third.at(-1)?.turn).toBe(3);
    caller.close();
  });

  it('ends a call that keeps crashing with an apology and hangup(error), while 99 other calls finish untouched', async () => {
    test = await startTestNode({ script, effectOverrides: poisonOn(false) as never });
    const poisoned = await CallerClient.connect(test.url);
    await poisoned.start({ callId: 'sup-poisoned' });
    const healthy = await Promise.all(Array.from({ length: 99 }, () => CallerClient.connect(test!.url)));
    await Promise.all(healthy.map((caller, index) => caller.start({ callId: `sup-healthy-${index}` })));

    poisoned.send({ type: 'transcript', text: 'poison', final: true });
    const results = await Promise.all(healthy.map(async (caller) => {
      const says: string[] = [];
      for (const words of ['Hi', 'Can you help?', 'Thanks']) says.push(...(await caller.turn(words)).map((say) => say.text));
      return says;
    }));
    const hangup = poisoned.frames.find((f) => f.type === 'hangup') ?? await poisoned.next((f) => f.type === 'hangup');
    expect(hangup).toEqual({ type: 'hangup', reason: 'error' });
    expect(poisoned.frames).toContainEqual(expect.objectContaining({ type: 'say', text: APOLOGY_ON_CRASH, last: true }));
    for (const says of results) expect(says).toEqual(['Sure, happy to help.', 'Sure, happy to help.', 'Sure, happy to help.']);
    expect(healthy.every((caller) => caller.closedWith === undefined)).toBe(true);
    for (const caller of healthy) caller.close();
  });
});

describe('graceful shutdown', () => {
  it('stops accepting calls, waits for the drain timeout, then ends active calls politely', async () => {
    test = await startTestNode({ script, config: { server: { drainTimeoutMs: 500 } } });
    const callers = await Promise.all(Array.from({ length: 5 }, () => CallerClient.connect(test!.url)));
    await Promise.all(callers.map((caller, index) => caller.start({ callId: `drain-${index}` })));
    await Promise.all(callers.map((caller) => caller.turn('Hello')));
    const stopping = test.node.shutdown();
    await expect(CallerClient.connect(test.url)).rejects.toThrow();
    await stopping;
    for (const caller of callers) {
      expect(caller.frames).toContainEqual(expect.objectContaining({ type: 'say', text: GOODBYE_ON_SHUTDOWN, last: true }));
      expect(caller.frames.at(-1)).toEqual({ type: 'hangup', reason: 'shutdown' });
    }
  });

  it('lets an active call finish a turn and hang up during the drain, with no goodbye', async () => {
    // The reply's first token takes longer than a short-cut drain would wait, so a drain cut short ends the call first.
    test = await startTestNode({ script: { ttftMs: 400, rules: [{ reply: 'Sure, happy to help.' }] }, config: { server: { drainTimeoutMs: 60_000 } } });
    const caller = await CallerClient.connect(test.url);
    await caller.start({ callId: 'drain-turn' });
    const stopping = test.node.shutdown();
    const says = await caller.turn('One more question');
    expect(says.map((say) => say.text).join(' ')).toBe('Sure, happy to help.');
    caller.send({ type: 'hangup' });
    await stopping;
    expect(caller.frames.filter((f) => f.type === 'say' && (f as { text: string }).text === GOODBYE_ON_SHUTDOWN)).toEqual([]);
    expect(caller.frames.some((f) => f.type === 'hangup')).toBe(false);
  });

  it('finishes early when the active calls end before the drain timeout', async () => {
    test = await startTestNode({ script, config: { server: { drainTimeoutMs: 60_000 } } });
    const caller = await CallerClient.connect(test.url);
    await caller.start({ callId: 'drain-early' });
    const stopping = test.node.shutdown();
    caller.send({ type: 'hangup' });
    await stopping;
    expect(caller.frames.some((f) => f.type === 'hangup')).toBe(false);
  });
});
