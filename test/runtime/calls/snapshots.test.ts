import { describe, expect, it } from 'vitest';
import { readStoredCall, STORED_CALL_VERSION, takeSnapshot } from '../../../src/runtime/calls/snapshots.js';
import { outcomeOf } from '../../../src/runtime/calls/outcomes.js';
import { done, fakeCallEffects } from '../../call/fake-call-effects.js';

const identity = { callId: 'call-stored', agent: 'default', from: '+15551230001', startedAt: 1 };

function answeredCall() {
  const fakes = fakeCallEffects();
  const actor = fakes.actor({ input: identity }).start();
  return { fakes, actor };
}

describe('stored call snapshots', () => {
  it('reads back what it stores, with identity and counters, through JSON', async () => {
    const { fakes, actor } = answeredCall();
    await new Promise((resolve) => setTimeout(resolve, 0));
    actor.send({ type: 'caller.transcript', text: 'Hi', final: true, readAt: 1 });
    fakes.lastRound().model.next({ type: 'model.sentence', text: 'Hello.', last: true });
    fakes.lastRound().model.next(done(true));
    actor.send({ type: 'caller.played', id: 's1' });
    const { stored } = takeSnapshot(actor);
    const read = readStoredCall(JSON.parse(JSON.stringify(stored)));
    expect(read).toMatchObject({ identity, turn: 1, sayCounter: 1, turnsCompleted: 1 });
    const restored = fakes.actor({ input: identity, snapshot: read!.restore(5) }).start();
    restored.send({ type: 'caller.transcript', text: 'Again', final: true, readAt: 2 });
    fakes.lastRound().model.next({ type: 'model.sentence', text: 'Sure.', last: true });
    expect(fakes.says().at(-1)).toMatchObject({ id: 's6', turn: 2 });
  });

  it('refuses a form of another version, an unversioned actor snapshot, and nothing', () => {
    const { actor } = answeredCall();
    const { stored } = takeSnapshot(actor);
    expect(readStoredCall({ ...(stored as object), version: STORED_CALL_VERSION + 1 })).toBeUndefined();
    expect(readStoredCall(actor.getPersistedSnapshot())).toBeUndefined();
    expect(readStoredCall(undefined)).toBeUndefined();
  });
});

describe('call outcomes', () => {
  it('maps every end reason to the outcome a summary stores', () => {
    expect(outcomeOf('caller:done')).toBe('hangup');
    expect(outcomeOf('slow_consumer')).toBe('dropped');
    expect(outcomeOf('dropped')).toBe('dropped');
    expect(outcomeOf('transferred')).toBe('transferred');
    expect(outcomeOf(undefined)).toBe('completed');
  });
});
