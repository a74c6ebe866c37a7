import { describe, expect, it } from 'vitest';
import { SimulatedClock, waitFor } from 'xstate';
import { combineUtterance, GOODBYE_ON_BUDGET } from '../../src/call/machine.js';
import { ModelCallError } from '../../src/llm/errors.js';
import type { TokenUsage } from '../../src/llm/messages.js';
import { done, fakeCallEffects, FAKE_AGENT } from './fake-call-effects.js';

const identity = { callId: 'call-limits', agent: 'default', from: '+15551230001', startedAt: 0 };
const final = (text: string) => ({ type: 'caller.transcript' as const, text, final: true, readAt: 1 });
/** One dollar per million input tokens, ten per million output: costs read as token counts. */
const price = (_modelId: string, usage: TokenUsage) => (usage.inputTokens + 10 * usage.outputTokens) / 1_000_000;
const lookup = [{ toolUseId: 't1', name: 'lookup_customer', input: {} }];

async function startCall(fakes: ReturnType<typeof fakeCallEffects>, clock?: SimulatedClock) {
  const actor = fakes.actor({ input: identity, clock });
  actor.start();
  await waitFor(actor, (state) => state.matches('listening'));
  return actor;
}

describe('call limits', () => {
  it('charges an aborted request its estimated input, and replaces the estimate by the usage Bedrock reports', async () => {
    const fakes = fakeCallEffects({ price });
    const actor = await startCall(fakes);
    actor.send(final('Tell me everything'));
    fakes.lastRound().model.next({ type: 'model.requested', inputTokens: 5_000 });
    actor.send({ type: 'caller.speechStarted' });
    expect(fakes.lastRound().closed).toBe(true);
    expect(actor.getSnapshot().context.costUsd).toBeCloseTo(0.005, 12);
    expect(actor.getSnapshot().context.usage.inputTokens).toBe(5_000);

    actor.send(final('Just the hours'));
    fakes.lastRound().model.next({ type: 'model.requested', inputTokens: 6_000 });
    fakes.lastRound().model.next({ type: 'model.sentence', text: 'Nine to five.', last: true });
    fakes.lastRound().model.next(done(true, [], { inputTokens: 5_900, outputTokens: 10, cacheReadInputTokens: 0, cacheWriteInputTokens: 0 }));
    const { context } = actor.getSnapshot();
    expect(context.usage.inputTokens).toBe(10_900);
    expect(context.costUsd).toBeCloseTo(0.005 + 0.006, 12);
    expect(context.modelRequests).toBe(2);
    expect(context.reserved).toBeUndefined();
  });

  it('refunds the estimate of a request refused before it generated, keeps it for one broken mid-stream', async () => {
    const fakes = fakeCallEffects({ price });
    const actor = await startCall(fakes);
    actor.send(final('Hello'));
    fakes.lastRound().model.next({ type: 'model.requested', inputTokens: 1_000 });
    fakes.lastRound().model.error(new ModelCallError('throttled', 'ThrottlingException', 'cheaper-model', false));
    await waitFor(actor, () => fakes.rounds.length === 2);
    expect(actor.getSnapshot().context.costUsd).toBe(0);
    fakes.lastRound().model.next({ type: 'model.requested', inputTokens: 1_000 });
    fakes.lastRound().model.error(new ModelCallError('broke', 'ModelStreamErrorException', 'retry-region', true));
    await waitFor(actor, () => fakes.rounds.length === 3);
    expect(actor.getSnapshot().context.costUsd).toBeCloseTo(0.001, 12);
    expect(actor.getSnapshot().context.modelRequests).toBe(3);
  });

  it('checks the budget before the next request after a barge-in, and ends the call with the goodbye', async () => {
    const fakes = fakeCallEffects({ price });
    fakes.setMaxCost(0.01);
    const actor = await startCall(fakes);
    for (let i = 0; actor.getSnapshot().status === 'active' && i < 100; i++) {
      actor.send(final(`Question ${i}`));
      if (actor.getSnapshot().status !== 'active') break;
      fakes.lastRound().model.next({ type: 'model.requested', inputTokens: 4_000 });
      actor.send({ type: 'caller.speechStarted' });
    }
    // 3 × 4,000 tokens at $1/MTok pass $0.01: the fourth question gets the goodbye, not a request.
    expect(fakes.rounds).toHaveLength(3);
    expect(fakes.frames.slice(-2)).toEqual([
      expect.objectContaining({ type: 'say', text: GOODBYE_ON_BUDGET, last: true }),
      { type: 'hangup', reason: 'budget' },
    ]);
    expect(fakes.limits).toEqual(['cost']);
  });

  it('checks the budget before every tool round and runs no tool once it is spent', async () => {
    const fakes = fakeCallEffects({ price });
    fakes.setMaxCost(0.01);
    const actor = await startCall(fakes);
    actor.send(final('Look me up, again and again'));
    for (let i = 0; actor.getSnapshot().status === 'active' && i < 50; i++) {
      fakes.lastRound().model.next({ type: 'model.requested', inputTokens: 3_000 });
      fakes.lastRound().model.next(done(false, lookup, { inputTokens: 3_000, outputTokens: 0, cacheReadInputTokens: 0, cacheWriteInputTokens: 0 }));
      if (actor.getSnapshot().status !== 'active') break;
      await waitFor(actor, (state) => state.status !== 'active' || fakes.rounds.length === i + 2);
    }
    expect(fakes.rounds).toHaveLength(4);
    expect(fakes.toolRuns).toHaveLength(3);
    expect(fakes.frames.at(-1)).toEqual({ type: 'hangup', reason: 'budget' });
    expect(fakes.limits).toEqual(['cost']);
  });

  it('stops a model that keeps calling tools at maxToolRoundsPerTurn with the canned answer, and the next turn is answered', async () => {
    const fakes = fakeCallEffects({}, { maxToolRoundsPerTurn: 3 });
    const actor = await startCall(fakes);
    actor.send(final('Look me up'));
    for (let round = 0; round < 4; round++) {
      fakes.lastRound().model.next(done(false, lookup));
      if (round < 3) await waitFor(actor, () => fakes.rounds.length === round + 2);
    }
    expect(fakes.toolRuns).toHaveLength(3);
    expect(fakes.says().at(-1)).toMatchObject({ text: FAKE_AGENT.cannedAnswer, last: true });
    expect(fakes.limits).toEqual(['tool_rounds']);
    for (const say of fakes.says()) actor.send({ type: 'caller.played', id: say.id });
    expect(actor.getSnapshot().value).toBe('listening');
    // The refused round's tool use was never answered, so it is not in history.
    const recorded = fakes.recorded.at(-1)!;
    expect(recorded.filter((message) => message.content.some((block) => 'toolUse' in block))).toHaveLength(3);
    actor.send(final('Thanks'));
    expect(fakes.rounds).toHaveLength(5);
  });

  it('ends the call at maxModelRequestsPerCall, retries included', async () => {
    const fakes = fakeCallEffects({}, { maxModelRequestsPerCall: 2 });
    const actor = await startCall(fakes);
    actor.send(final('Hello'));
    fakes.lastRound().model.error(new ModelCallError('throttled', 'ThrottlingException', 'cheaper-model', false));
    await waitFor(actor, () => fakes.rounds.length === 2);
    fakes.lastRound().model.next({ type: 'model.sentence', text: 'Hi.', last: true });
    fakes.lastRound().model.next(done(true));
    actor.send({ type: 'caller.played', id: fakes.says().at(-1)!.id });
    actor.send(final('Another question'));
    expect(fakes.rounds).toHaveLength(2);
    expect(fakes.frames.at(-1)).toEqual({ type: 'hangup', reason: 'budget' });
    expect(fakes.limits).toEqual(['model_requests']);
  });

  it('caps the combined utterance of unanswered finals at maxUtteranceChars, keeping the newest words', async () => {
    const fakes = fakeCallEffects({}, { maxUtteranceChars: 4_000 });
    const actor = await startCall(fakes);
    // 599,152 characters in 3,999-character pieces (and a last shorter one), each superseding the last.
    const piece = 'word '.repeat(800).slice(0, 3_999);
    let sent = 0;
    let index = 0;
    while (sent < 599_152) {
      const text = `${index} ${piece}`.slice(0, Math.min(3_999, 599_152 - sent));
      actor.send(final(text));
      actor.send({ type: 'caller.speechStarted' });
      sent += text.length;
      index += 1;
    }
    expect(sent).toBe(599_152);
    const longest = Math.max(...fakes.rounds.map((round) => {
      const first = round.input.turnMessages[0]!.content[0]!;
      return 'text' in first ? first.text.length : 0;
    }));
    expect(longest).toBeLessThanOrEqual(4_000);
    expect(actor.getSnapshot().context.utterance.length).toBeLessThanOrEqual(4_000);
  });

  it('combines utterances up to the cap and cuts at a word boundary', () => {
    expect(combineUtterance('', 'hello', 10)).toBe('hello');
    expect(combineUtterance('book a', 'visit', 20)).toBe('book a visit');
    expect(combineUtterance('alpha beta', 'gamma delta', 12)).toBe('gamma delta');
    expect(combineUtterance('alpha beta', 'gamma delta', 13)).toBe('gamma delta');
    expect(combineUtterance('alpha', 'betagammadelta', 8)).toBe('mmadelta');
  });
});

describe('idle calls', () => {
  const idle = { idleRepromptMs: 15_000, idleHangupMs: 45_000, idleReprompt: 'Are you still there?', idleGoodbye: 'Goodbye for now.' };

  it('reprompts after idleRepromptMs of silence and hangs up after idleHangupMs', async () => {
    const clock = new SimulatedClock();
    const fakes = fakeCallEffects({}, idle);
    const actor = await startCall(fakes, clock);
    clock.increment(14_999);
    expect(fakes.frames).toEqual([]);
    clock.increment(1);
    expect(fakes.frames).toEqual([{ type: 'say', id: 's1', turn: 0, text: 'Are you still there?', last: true }]);
    expect(actor.getSnapshot().value).toBe('listening');
    clock.increment(29_999);
    expect(actor.getSnapshot().status).toBe('active');
    clock.increment(1);
    expect(fakes.frames.slice(1)).toEqual([{ type: 'say', id: 's2', turn: 0, text: 'Goodbye for now.', last: true }, { type: 'hangup', reason: 'idle' }]);
    expect(actor.getSnapshot().status).toBe('done');
    expect(actor.getSnapshot().context.endReason).toBe('idle');
    expect(fakes.recorded).toEqual([]);
  });

  it('starts the silence again on anything the caller sends while listening', async () => {
    const clock = new SimulatedClock();
    const fakes = fakeCallEffects({}, { ...idle, actOnDtmf: false });
    const actor = await startCall(fakes, clock);
    for (const event of [
      { type: 'caller.transcript' as const, text: 'um', final: false, readAt: 1 },
      { type: 'caller.speechStarted' as const },
      { type: 'caller.dtmf' as const, digit: '1', readAt: 1 },
      { type: 'caller.transcript' as const, text: '  ', final: true, readAt: 1 },
    ]) {
      clock.increment(14_000);
      actor.send(event);
    }
    clock.increment(14_999);
    expect(fakes.frames).toEqual([]);
    clock.increment(1);
    expect(fakes.says().map((say) => say.text)).toEqual(['Are you still there?']);
  });

  it('times the silence from the end of the answer, and a reprompt answered by the caller starts a turn', async () => {
    const clock = new SimulatedClock();
    const fakes = fakeCallEffects({}, idle);
    const actor = await startCall(fakes, clock);
    actor.send(final('Hi'));
    clock.increment(40_000);
    fakes.lastRound().model.next({ type: 'model.sentence', text: 'Hello!', last: true });
    fakes.lastRound().model.next(done(true));
    clock.increment(10_000);
    actor.send({ type: 'caller.played', id: 's1' });
    clock.increment(15_000);
    expect(fakes.says().map((say) => say.text)).toEqual(['Hello!', 'Are you still there?']);
    actor.send(final('Yes, sorry'));
    expect(actor.getSnapshot().matches('responding')).toBe(true);
    expect(fakes.rounds).toHaveLength(2);
    clock.increment(60_000);
    expect(actor.getSnapshot().status).toBe('active');
  });

  it('hangs up a caller side that stops acknowledging playback', async () => {
    const clock = new SimulatedClock();
    const fakes = fakeCallEffects({}, idle);
    const actor = await startCall(fakes, clock);
    actor.send(final('Hi'));
    fakes.lastRound().model.next({ type: 'model.sentence', text: 'Hello.', last: false });
    fakes.lastRound().model.next({ type: 'model.sentence', text: 'How can I help?', last: true });
    fakes.lastRound().model.next(done(true));
    clock.increment(44_000);
    actor.send({ type: 'caller.played', id: 's1' });
    clock.increment(44_999);
    expect(actor.getSnapshot().status).toBe('active');
    clock.increment(1);
    expect(fakes.frames.at(-1)).toEqual({ type: 'hangup', reason: 'idle' });
    expect(actor.getSnapshot().context.endReason).toBe('idle');
  });

  it('keeps the timers off at 0', async () => {
    const clock = new SimulatedClock();
    const fakes = fakeCallEffects({}, { idleRepromptMs: 0, idleHangupMs: 0 });
    const actor = await startCall(fakes, clock);
    clock.increment(3_600_000);
    expect(fakes.frames).toEqual([]);
    expect(actor.getSnapshot().status).toBe('active');
  });

  it('starts the timers again in an actor restored from a snapshot once told it was restored', async () => {
    const clock = new SimulatedClock();
    const fakes = fakeCallEffects({}, idle);
    const actor = await startCall(fakes, clock);
    const persisted = JSON.parse(JSON.stringify(actor.getPersistedSnapshot()));
    actor.stop();
    const restored = fakes.actor({ input: identity, snapshot: persisted, clock }).start();
    restored.send({ type: 'runtime.restored' });
    clock.increment(45_000);
    expect(fakes.frames.at(-1)).toEqual({ type: 'hangup', reason: 'idle' });
  });
});
