import { describe, expect, it } from 'vitest';
import { waitFor } from 'xstate';
import { ModelCallError } from '../../src/llm/errors.js';
import { done, fakeCallEffects } from './fake-call-effects.js';

const identity = { callId: 'call-1', agent: 'default', from: '+15551230001', startedAt: Date.now() };
const final = (text: string) => ({ type: 'caller.transcript' as const, text, final: true, readAt: performance.timeOrigin + performance.now() });

async function startCall(fakes = fakeCallEffects()) {
  const actor = fakes.actor({ input: identity });
  const errors: unknown[] = [];
  actor.subscribe({ error: (error) => errors.push(error) });
  actor.start();
  await waitFor(actor, (state) => state.matches('listening'));
  return { actor, fakes, errors };
}

describe('call machine transitions', () => {
  it('moves from connecting to listening once the call is prepared', async () => {
    const { actor } = await startCall();
    expect(actor.getSnapshot().value).toBe('listening');
  });

  it('ignores partial transcripts while listening and starts a turn on a final one', async () => {
    const { actor, fakes } = await startCall();
    actor.send({ type: 'caller.transcript', text: 'hel', final: false, readAt: 0 });
    expect(actor.getSnapshot().value).toBe('listening');
    actor.send(final('Hello there'));
    expect(actor.getSnapshot().matches({ responding: { generating: 'thinking' } })).toBe(true);
    expect(fakes.lastRound().input.turnMessages).toEqual([{ role: 'user', content: [{ text: 'Hello there' }] }]);
  });

  it('speaks the first sentence while the model is still streaming, then waits for playback', async () => {
    const { actor, fakes } = await startCall();
    actor.send(final('What are your hours?'));
    const round = fakes.lastRound();
    round.model.next({ type: 'model.sentence', text: 'We open at nine.', last: false });
    expect(actor.getSnapshot().matches({ responding: { generating: 'speaking' } })).toBe(true);
    expect(fakes.says()).toEqual([{ type: 'say', id: 's1', turn: 1, text: 'We open at nine.', last: false }]);
    round.model.next({ type: 'model.sentence', text: 'Anything else?', last: true });
    round.model.next(done(true));
    round.model.complete();
    expect(actor.getSnapshot().matches({ responding: 'awaitingPlayback' })).toBe(true);
    actor.send({ type: 'caller.played', id: 's1' });
    actor.send({ type: 'caller.played', id: 's2' });
    expect(actor.getSnapshot().value).toBe('listening');
    expect(fakes.recorded).toEqual([[
      { role: 'user', content: [{ text: 'What are your hours?' }] },
      { role: 'assistant', content: [{ text: 'We open at nine. Anything else?' }] },
    ]]);
    expect(actor.getSnapshot().context.turnsCompleted).toBe(1);
  });

  it('runs tools between model rounds, says the filler, and sends the results in the next round', async () => {
    const { actor, fakes } = await startCall();
    actor.send(final('Is my account active?'));
    const first = fakes.lastRound();
    first.model.next(done(false, [{ toolUseId: 't1', name: 'lookup_customer', input: { identifier: '+15551230001' } }]));
    first.model.complete();
    expect(fakes.says().map((say) => say.text)).toEqual(['One moment while I look that up.']);
    await waitFor(actor, (state) => fakes.rounds.length === 2 && state.matches({ responding: 'generating' }));
    expect(fakes.toolRuns[0]?.uses).toEqual([{ toolUseId: 't1', name: 'lookup_customer', input: { identifier: '+15551230001' } }]);
    expect(fakes.lastRound().input.turnMessages).toEqual([
      { role: 'user', content: [{ text: 'Is my account active?' }] },
      {
        role: 'assistant',
        content: [
          { text: 'One moment while I look that up.' },
          { toolUse: { toolUseId: 't1', name: 'lookup_customer', input: { identifier: '+15551230001' } } },
        ],
      },
      { role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ json: { ok: true } }], status: 'success' } }] },
    ]);
  });

  it('runs parallel tool uses of one answer together', async () => {
    const { actor, fakes } = await startCall();
    actor.send(final('Book me and email me'));
    const uses = [
      { toolUseId: 't1', name: 'book_appointment', input: {} },
      { toolUseId: 't2', name: 'send_email', input: {} },
    ];
    fakes.lastRound().model.next(done(false, uses));
    await waitFor(actor, () => fakes.rounds.length === 2);
    expect(fakes.toolRuns).toHaveLength(1);
    expect(fakes.toolRuns[0]?.uses.map((use) => use.toolUseId)).toEqual(['t1', 't2']);
  });

  it('on barge-in clears playback, cancels the stream and keeps only played chunks in history', async () => {
    const { actor, fakes } = await startCall();
    actor.send(final('Tell me about parking'));
    const round = fakes.lastRound();
    round.model.next({ type: 'model.sentence', text: 'Parking is free.', last: false });
    round.model.next({ type: 'model.sentence', text: 'It is behind the building.', last: false });
    actor.send({ type: 'caller.played', id: 's1' });
    actor.send({ type: 'caller.speechStarted' });
    expect(actor.getSnapshot().value).toBe('listening');
    expect(round.closed).toBe(true);
    expect(fakes.frames.at(-1)).toEqual({ type: 'clear', turn: 1 });
    expect(fakes.recorded.at(-1)).toEqual([
      { role: 'user', content: [{ text: 'Tell me about parking' }] },
      { role: 'assistant', content: [{ text: 'Parking is free.' }] },
    ]);
  });

  it('treats a partial transcript while speaking as a barge-in', async () => {
    const { actor, fakes } = await startCall();
    actor.send(final('Hi'));
    fakes.lastRound().model.next({ type: 'model.sentence', text: 'Hello!', last: false });
    actor.send({ type: 'caller.transcript', text: 'wait', final: false, readAt: 0 });
    expect(actor.getSnapshot().value).toBe('listening');
    expect(fakes.frames.at(-1)).toEqual({ type: 'clear', turn: 1 });
  });

  it('supersedes a turn that has said nothing with the combined utterance', async () => {
    const { actor, fakes } = await startCall();
    actor.send(final('I want to book'));
    const first = fakes.lastRound();
    actor.send(final('an appointment for Tuesday'));
    expect(first.closed).toBe(true);
    expect(fakes.rounds).toHaveLength(2);
    expect(fakes.lastRound().input.turnMessages).toEqual([
      { role: 'user', content: [{ text: 'I want to book an appointment for Tuesday' }] },
    ]);
    expect(fakes.lastRound().input.turn).toBe(1);
  });

  it('keeps the words of a turn cancelled before it said anything and answers them with the next', async () => {
    const { actor, fakes } = await startCall();
    actor.send(final('My name is Ana'));
    actor.send({ type: 'caller.speechStarted' });
    expect(actor.getSnapshot().value).toBe('listening');
    expect(fakes.recorded).toEqual([]);
    actor.send(final('and I need a cleaning'));
    expect(fakes.lastRound().input.turnMessages).toEqual([
      { role: 'user', content: [{ text: 'My name is Ana and I need a cleaning' }] },
    ]);
  });

  it('falls back to another region when the model is not ready', async () => {
    const { actor, fakes } = await startCall();
    actor.send(final('Hello'));
    fakes.lastRound().model.error(new ModelCallError('not ready', 'ModelNotReadyException', 'retry-region'));
    expect(fakes.rounds).toHaveLength(2);
    expect(fakes.lastRound().input.choice.region).toBe('us-west-2');
    expect(actor.getSnapshot().matches({ responding: { generating: 'thinking' } })).toBe(true);
    expect(actor.getSnapshot().context.lastError).toEqual({ code: 'ModelNotReadyException', recovery: 'retry-region' });
  });

  it('says the canned answer when no model can answer, and the call goes on', async () => {
    const { actor, fakes } = await startCall();
    actor.send(final('Hello'));
    fakes.lastRound().model.error(new ModelCallError('bad request', 'ValidationException', 'none'));
    expect(fakes.says().at(-1)).toMatchObject({ text: "Sorry, I'm having trouble. Could you say that again?", last: true });
    actor.send({ type: 'caller.played', id: fakes.says().at(-1)!.id });
    expect(actor.getSnapshot().value).toBe('listening');
  });

  it('continues after a mid-stream failure from what the caller already heard', async () => {
    const { actor, fakes } = await startCall();
    actor.send(final('Explain the insurance rules'));
    const first = fakes.lastRound();
    first.model.next({ type: 'model.sentence', text: 'We accept most plans.', last: false });
    first.model.error(new ModelCallError('stream broke', 'ModelStreamErrorException', 'retry-region', true));
    expect(fakes.lastRound().input.turnMessages).toEqual([
      { role: 'user', content: [{ text: 'Explain the insurance rules' }] },
      { role: 'assistant', content: [{ text: 'We accept most plans.' }] },
    ]);
    fakes.lastRound().model.next({ type: 'model.sentence', text: 'Bring your card.', last: true });
    fakes.lastRound().model.next(done(true));
    expect(fakes.says().map((say) => say.text)).toEqual(['We accept most plans.', 'Bring your card.']);
  });

  it('sends an empty last chunk when the final sentence left before the stream ended', async () => {
    const { actor, fakes } = await startCall();
    actor.send(final('Hi'));
    fakes.lastRound().model.next({ type: 'model.sentence', text: 'Hello!', last: false });
    fakes.lastRound().model.next(done(false));
    expect(fakes.says().at(-1)).toMatchObject({ text: '', last: true });
  });

  it('transfers once the turn is said when a tool asks for it', async () => {
    const { actor, fakes } = await startCall();
    actor.send(final('Let me talk to a person'));
    fakes.lastRound().model.next(done(false, [{ toolUseId: 't1', name: 'transfer_call', input: { reason: 'asked' } }]));
    await waitFor(actor, () => fakes.rounds.length === 2);
    fakes.lastRound().model.next({ type: 'model.sentence', text: 'Transferring you now.', last: true });
    fakes.lastRound().model.next(done(true));
    expect(actor.getSnapshot().status).toBe('done');
    expect(fakes.frames.at(-1)).toEqual({ type: 'transfer', to: 'front-desk', reason: 'asked for a person' });
    expect(actor.getSnapshot().context.endReason).toBe('transferred');
  });

  it('ends politely when the call has spent its budget', async () => {
    const fakes = fakeCallEffects();
    fakes.setMaxCost(0.005);
    const { actor } = await startCall(fakes);
    actor.send(final('Hi'));
    fakes.lastRound().model.next({ type: 'model.sentence', text: 'Hello!', last: true });
    fakes.lastRound().model.next(done(true));
    expect(actor.getSnapshot().status).toBe('done');
    expect(fakes.frames.at(-1)).toEqual({ type: 'hangup', reason: 'budget' });
    expect(actor.getSnapshot().context.endReason).toBe('budget');
  });

  it('starts a turn on a key press', async () => {
    const { actor, fakes } = await startCall();
    actor.send({ type: 'caller.dtmf', digit: '5', readAt: 0 });
    expect(fakes.lastRound().input.turnMessages).toEqual([{ role: 'user', content: [{ text: '(The caller pressed the key 5.)' }] }]);
  });

  it('ends on hangup from any state and cancels the stream', async () => {
    const { actor, fakes } = await startCall();
    actor.send(final('Hello'));
    actor.send({ type: 'caller.hangup', reason: 'done' });
    expect(actor.getSnapshot().status).toBe('done');
    expect(fakes.lastRound().closed).toBe(true);
    expect(actor.getSnapshot().context.endReason).toBe('caller:done');
  });

  it('says goodbye and hangs up on shutdown', async () => {
    const { actor, fakes } = await startCall();
    actor.send({ type: 'runtime.shutdown' });
    expect(fakes.frames.slice(-2)).toEqual([
      expect.objectContaining({ type: 'say', last: true }),
      { type: 'hangup', reason: 'shutdown' },
    ]);
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('cancels generation when the connection is lost and ends when told to', async () => {
    const { actor, fakes } = await startCall();
    actor.send(final('Hello'));
    actor.send({ type: 'runtime.connectionLost' });
    expect(fakes.lastRound().closed).toBe(true);
    expect(actor.getSnapshot().value).toBe('listening');
    actor.send({ type: 'runtime.end', reason: 'dropped' });
    expect(actor.getSnapshot().context.endReason).toBe('dropped');
  });

  it('gives every say of the call a unique id across turns', async () => {
    const { actor, fakes } = await startCall();
    for (const words of ['One', 'Two']) {
      actor.send(final(words));
      fakes.lastRound().model.next({ type: 'model.sentence', text: `${words}.`, last: true });
      fakes.lastRound().model.next(done(true));
      actor.send({ type: 'caller.played', id: fakes.says().at(-1)!.id });
    }
    const ids = fakes.says().map((say) => say.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(fakes.says().map((say) => say.turn)).toEqual([1, 2]);
  });

  it('restores from a persisted turn-boundary snapshot with its counters', async () => {
    const { actor, fakes } = await startCall();
    actor.send(final('One'));
    fakes.lastRound().model.next({ type: 'model.sentence', text: 'Yes.', last: true });
    fakes.lastRound().model.next(done(true));
    actor.send({ type: 'caller.played', id: 's1' });
    const persisted = JSON.parse(JSON.stringify(actor.getPersistedSnapshot()));
    actor.stop();
    const restored = fakes.actor({ input: identity, snapshot: persisted }).start();
    expect(restored.getSnapshot().value).toBe('listening');
    restored.send(final('Two'));
    fakes.lastRound().model.next({ type: 'model.sentence', text: 'Sure.', last: true });
    expect(fakes.says().at(-1)).toMatchObject({ id: 's2', turn: 2 });
  });
});
