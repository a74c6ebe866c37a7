import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createActor, fromEventObservable, initialTransition, transition, type InspectionEvent } from 'xstate';
import type { CallEvent, TurnEvent } from '../../src/call/events.js';
import { createCallMachine, GOODBYE_ON_SHUTDOWN } from '../../src/call/machine.js';
import type { CallFrame } from '../../src/call/ports.js';
import { done, fakeCallEffects } from './fake-call-effects.js';

const identity = { callId: 'call-pure', agent: 'default', startedAt: 1 };
const EFFECTS = ['record', 'turnStarted', 'firstSay', 'bargeIn', 'fallbackTaken'] as const;
type Effect = (typeof EFFECTS)[number];

/** The policy of the machine tests, and every effect bound with `provide` to a stub that counts its calls. */
function countedMachine() {
  const calls: Array<{ effect: Effect; during: string | undefined }> = [];
  let executing: string | undefined;
  const stub = (effect: Effect) => () => void calls.push({ effect, during: executing });
  const model = new Subject<TurnEvent>();
  const machine = createCallMachine(fakeCallEffects().policy).provide({
    actions: Object.fromEntries(EFFECTS.map((effect) => [effect, stub(effect)])),
    actors: { generate: fromEventObservable(() => model) },
  });
  const inspect = (event: InspectionEvent) => {
    if (event.type === '@xstate.action') executing = event.action.type;
  };
  return { machine, calls, model, inspect };
}

/** The frame of an `xstate.emit` action's params (the executable action types do not name `xstate.emit`). */
function emittedFrame(params: unknown): CallFrame | undefined {
  if (typeof params !== 'object' || params === null || !('event' in params)) return undefined;
  const { event } = params;
  return typeof event === 'object' && event !== null && 'frame' in event ? (event.frame as CallFrame) : undefined;
}

const isTurnEvent = (event: CallEvent): event is TurnEvent => event.type.startsWith('model.');

/** One turn answered and heard, then a barge-in on the next, then shutdown. */
const script: CallEvent[] = [
  { type: 'caller.transcript', text: 'What are your hours?', final: true, readAt: 1 },
  { type: 'model.sentence', text: 'We open at nine.', last: false },
  { type: 'model.sentence', text: 'Anything else?', last: true },
  done(true),
  { type: 'caller.played', id: 's1' },
  { type: 'caller.played', id: 's2' },
  { type: 'caller.transcript', text: 'And on Sunday?', final: true, readAt: 2 },
  { type: 'model.sentence', text: 'On Sunday we', last: false },
  { type: 'caller.speechStarted' },
  { type: 'runtime.shutdown' },
];

const expectedFrames: CallFrame[] = [
  { type: 'say', id: 's1', turn: 1, text: 'We open at nine.', last: false },
  { type: 'say', id: 's2', turn: 1, text: 'Anything else?', last: true },
  { type: 'say', id: 's3', turn: 2, text: 'On Sunday we', last: false },
  { type: 'clear', turn: 2 },
  { type: 'say', id: 's4', turn: 2, text: GOODBYE_ON_SHUTDOWN, last: true },
  { type: 'hangup', reason: 'shutdown' },
];

describe('call machine purity', () => {
  it('computes a whole call without calling one effect: frames and effects come back as actions to run', () => {
    const { machine, calls } = countedMachine();
    const [initial] = initialTransition(machine, identity);
    let snapshot = machine.resolveState({ value: 'listening', context: initial.context });
    const frames: CallFrame[] = [];
    const named: string[] = [];
    for (const event of script) {
      const [next, actions] = transition(machine, snapshot, event);
      for (const action of actions) {
        const emitted = emittedFrame(action.params);
        if (emitted) frames.push(emitted);
        else if ((EFFECTS as readonly string[]).includes(action.type)) named.push(action.type);
      }
      snapshot = next;
    }
    expect(calls).toEqual([]);
    expect(frames).toEqual(expectedFrames);
    expect(named).toEqual(['turnStarted', 'firstSay', 'record', 'turnStarted', 'firstSay', 'bargeIn', 'record', 'firstSay']);
    expect(snapshot.status).toBe('done');
  });

  it('sends every frame as an emitted event and calls effects only from their named actions', async () => {
    const { machine, calls, model, inspect } = countedMachine();
    const actor = createActor(machine, { input: identity, inspect });
    const frames: CallFrame[] = [];
    actor.on('frame', ({ frame }) => void frames.push(frame));
    actor.start();
    await new Promise<void>((resolve) => {
      const subscription = actor.subscribe((state) => {
        if (state.matches('listening')) {
          subscription.unsubscribe();
          resolve();
        }
      });
    });
    for (const event of script) {
      if (isTurnEvent(event)) model.next(event);
      else actor.send(event);
    }
    expect(actor.getSnapshot().status).toBe('done');
    expect(frames).toEqual(expectedFrames);
    expect(calls.map((call) => call.effect)).toEqual(['turnStarted', 'firstSay', 'record', 'turnStarted', 'firstSay', 'bargeIn', 'record', 'firstSay']);
    for (const call of calls) expect(call.during).toBe(call.effect);
  });
});
