import type { OutboundFrame } from '../../src/protocol/frames.js';
import { CallerClient } from '../integration/caller-client.js';
import { callerTurn } from './caller-turn.js';
import { metricValue, startReliabilityNode } from './reliability-node.js';

const OVERLOAD_REPLY = 'Sure, happy to help.';
const script = { ttftMs: { min: 1, max: 5 }, tokensPerSecond: 2_000, rules: [{ reply: OVERLOAD_REPLY }] };

export interface RefusalResult {
  maxCalls: number;
  attempted: number;
  accepted: number;
  /** Refused with error(overloaded, fatal), hangup(overloaded) and a close, in that order. */
  refusedCleanly: number;
  /** Accepted calls that did not get their turn answered. */
  acceptedAndStarved: number;
  /** Starts answered neither way. */
  unanswered: number;
}

export interface BurstResult extends RefusalResult {
  /** From the first start sent to the last start answered. */
  allAnsweredMs: number;
  /** Accepted calls whose turn the model answered (the others heard the canned answer). */
  modelAnswered: number;
}

export interface SlowReaderResult {
  /** The slow reader's call was ended by the node. */
  slowCallEnded: boolean;
  /** Calls the node counted as dropped (`aybiza_calls_ended_total{outcome="dropped"}`, where slow consumers go). */
  droppedCalls: number;
  slowSocketClosed: boolean;
  /** Frames the slow reader had sent when the node cut it off. */
  framesUntilCut: number;
  /** Turns of a concurrent healthy call, answered / asked. */
  healthyTurns: { completed: number; asked: number };
}

type Answer = { kind: 'ready' } | { kind: 'refused'; clean: boolean } | { kind: 'none' };

/** Waits for the answer to a `start`: ready, or a refusal checked for error → hangup → close. */
async function answerOf(caller: CallerClient, timeoutMs: number): Promise<Answer> {
  try {
    const first = await caller.next((f) => f.type === 'ready' || f.type === 'error', timeoutMs);
    if (first.type === 'ready') return { kind: 'ready' };
    await Promise.race([caller.closed(), new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
    const [error, hangup] = caller.frames.slice(-2) as OutboundFrame[];
    const clean = error?.type === 'error' && error.code === 'overloaded' && error.fatal
      && hangup?.type === 'hangup' && hangup.reason === 'overloaded' && caller.closedWith !== undefined;
    return { kind: 'refused', clean };
  } catch {
    return { kind: 'none' };
  }
}

type TurnAnswer = 'model' | 'canned' | 'none';

/** How a turn was answered: with the model's words, with the canned answer (memory or model too slow under load), or not at all. */
async function turnAnswer(caller: CallerClient): Promise<TurnAnswer> {
  const says = await callerTurn(caller, 'Hello there', 30_000);
  if (says?.at(-1)?.last !== true || !says.some((say) => say.text.length > 0)) return 'none';
  return says.map((say) => say.text).join(' ') === OVERLOAD_REPLY ? 'model' : 'canned';
}

const answeredTurn = async (caller: CallerClient): Promise<boolean> => (await turnAnswer(caller)) !== 'none';

/**
 * `attempts` callers connect, then all send `start` at once to a node that takes `maxCalls`; every
 * accepted call must then get its turn answered, every other one a clean refusal.
 */
export async function runStartBurst(options: { maxCalls: number; attempts: number }): Promise<BurstResult> {
  const test = await startReliabilityNode({ script, config: { server: { maxCalls: options.maxCalls } }, });
  try {
    const callers = await Promise.all(Array.from({ length: options.attempts }, () => CallerClient.connect(test.url)));
    const sentAt = performance.now();
    let lastAnswerAt = sentAt;
    const answers = await Promise.all(callers.map(async (caller, index) => {
      caller.send({ type: 'start', callId: `burst-${index}-${sentAt.toFixed(0)}` });
      const answer = await answerOf(caller, 30_000);
      lastAnswerAt = Math.max(lastAnswerAt, performance.now());
      return answer;
    }));
    const allAnsweredMs = lastAnswerAt - sentAt;
    const accepted = callers.filter((_, index) => answers[index]!.kind === 'ready');
    const turns = await Promise.all(accepted.map(turnAnswer));
    for (const caller of callers) caller.close();
    return {
      maxCalls: options.maxCalls,
      attempted: options.attempts,
      accepted: accepted.length,
      refusedCleanly: answers.filter((answer) => answer.kind === 'refused' && answer.clean).length,
      acceptedAndStarved: turns.filter((answer) => answer === 'none').length,
      unanswered: answers.filter((answer) => answer.kind === 'none').length,
      allAnsweredMs,
      modelAnswered: turns.filter((answer) => answer === 'model').length,
    };
  } finally {
    await test.close();
  }
}

/** Calls beyond `maxCalls` while the accepted ones are talking. */
export async function runPastMaxCalls(options: { maxCalls: number; surplus: number }): Promise<RefusalResult> {
  const test = await startReliabilityNode({ script, config: { server: { maxCalls: options.maxCalls } } });
  try {
    const accepted = await Promise.all(Array.from({ length: options.maxCalls }, () => CallerClient.connect(test.url)));
    await Promise.all(accepted.map((caller, index) => caller.start({ callId: `max-${index}` })));
    const surplus = await Promise.all(Array.from({ length: options.surplus }, () => CallerClient.connect(test.url)));
    const [answers, turns] = await Promise.all([
      Promise.all(surplus.map((caller, index) => {
        caller.send({ type: 'start', callId: `surplus-${index}` });
        return answerOf(caller, 10_000);
      })),
      Promise.all(accepted.map(answeredTurn)),
    ]);
    for (const caller of [...accepted, ...surplus]) caller.close();
    return {
      maxCalls: options.maxCalls,
      attempted: options.maxCalls + options.surplus,
      accepted: options.maxCalls + answers.filter((answer) => answer.kind === 'ready').length,
      refusedCleanly: answers.filter((answer) => answer.kind === 'refused' && answer.clean).length,
      acceptedAndStarved: turns.filter((answered) => !answered).length,
      unanswered: answers.filter((answer) => answer.kind === 'none').length,
    };
  } finally {
    await test.close();
  }
}

/**
 * A caller that stops reading its socket and keeps sending frames that each earn an error frame:
 * the node's send buffer for it fills past `sendBufferBytes` and only its call is ended.
 */
export async function runSlowReader(options: { sendBufferBytes: number; maxFrames: number }): Promise<SlowReaderResult> {
  const test = await startReliabilityNode({ script, config: { server: { sendBufferBytes: options.sendBufferBytes, framesPerSecond: 10_000_000 } } });
  try {
    const healthy = await CallerClient.connect(test.url);
    await healthy.start({ callId: 'slow-reader-neighbour' });
    const slow = await CallerClient.connect(test.url);
    slow.ws.on('error', () => undefined);
    await slow.start({ callId: 'slow-reader' });
    const socket = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    const healthyTurns = (async () => {
      let completed = 0;
      for (let turn = 0; turn < 5; turn += 1) if (await answeredTurn(healthy)) completed += 1;
      return { completed, asked: 5 };
    })();
    const junk = JSON.stringify({ type: 'u'.repeat(64) });
    let sent = 0;
    const slowCallActive = () => test.node.calls.active() >= 2;
    while (sent < options.maxFrames && slowCallActive() && slow.ws.readyState === slow.ws.OPEN) {
      for (let i = 0; i < 500; i += 1) slow.ws.send(junk);
      sent += 500;
      await new Promise((resolve) => setImmediate(resolve));
    }
    const framesUntilCut = sent;
    const deadline = Date.now() + 10_000;
    while (slowCallActive() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const slowCallEnded = !slowCallActive();
    socket.resume();
    await Promise.race([slow.closed(), new Promise((resolve) => setTimeout(resolve, 10_000))]);
    const droppedCalls = await metricValue(test, 'aybiza_calls_ended_total', { outcome: 'dropped' });
    const result = { slowCallEnded, droppedCalls, slowSocketClosed: slow.closedWith !== undefined, framesUntilCut, healthyTurns: await healthyTurns };
    healthy.close();
    return result;
  } finally {
    await test.close();
  }
}
