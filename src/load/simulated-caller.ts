import WebSocket from 'ws';
import type { OutboundFrame } from '../protocol/frames.js';
import { playBack, realClock, sendOnTime, utteranceFrames, type CallPacing } from './pacing.js';
import type { CallerStep, Scenario } from './scenario.js';

export interface CallPlan {
  url: string;
  token?: string;
  agent: string;
  scenario: Scenario;
  callId: string;
  from: string;
  to: string;
  /** How fast the caller speaks and hears (src/load/pacing.ts). */
  pacing: CallPacing;
  /** A turn with no answer for this long counts as silence: the call fails. */
  turnTimeoutMs: number;
  random: () => number;
}

/** The model-side timings of one turn, from the emulator's request log. */
export interface TurnTimings {
  ttftMs?: number;
  /** Time the model took to finish the text of the first `say` (its first sentence, or its whole first answer). */
  modelShareMs?: number;
  tools: string[];
}

export interface TurnSample {
  callId: string;
  turn: number;
  latencyMs: number;
  timings: TurnTimings | undefined;
}

export interface CallHooks {
  turn(sample: TurnSample): void;
  /** The emulator's view of a finished turn; undefined when there is no emulator to ask. */
  timings?(callId: string, turn: number): Promise<TurnTimings | undefined>;
  /** Each line of the conversation as it happens (`caller: …`, `agent: …`), for `aybiza load --show`. */
  conversation?(callId: string, line: string): void;
}

export interface CallResult {
  callId: string;
  scenario: string;
  ok: boolean;
  turns: number;
  /** Tool uses the model made in this call's turns, from the emulator's records (0 without them). */
  toolCalls: number;
  /** `clear` frames received: answers the runtime cut short because the caller barged in. */
  clears: number;
  /** From dialling to hanging up (or failing): how long the call held a line. */
  durationMs: number;
  failure?: { step: number; reason: string };
}

type SayFrame = Extract<OutboundFrame, { type: 'say' }>;

export class CallFailure extends Error {}

/**
 * One caller following a scenario's steps at the plan's pace: partial transcripts before each
 * final one, simulated playback with `played` acknowledgements, barge-ins and DTMF, checking each
 * step's expectations.
 */
export async function runSimulatedCall(plan: CallPlan, hooks: CallHooks): Promise<CallResult> {
  const dialledAt = performance.now();
  const result: CallResult = { callId: plan.callId, scenario: plan.scenario.name, ok: false, turns: 0, toolCalls: 0, clears: 0, durationMs: 0 };
  let stepIndex = -1;
  let socket: CallSocket | undefined;
  try {
    socket = await CallSocket.open(plan.url, plan.token);
    socket.send({ type: 'start', callId: plan.callId, agent: plan.agent, from: plan.from, to: plan.to });
    const ready = await socket.next((frame) => frame.type === 'ready' || frame.type === 'error', plan.turnTimeoutMs);
    if (ready.type !== 'ready') throw new CallFailure(`start refused: ${describe(ready)}${unknownAgentHint(ready)}`);
    const steps = plan.scenario.caller;
    let ended = false;
    let interrupting = false;
    for (stepIndex = 0; stepIndex < steps.length && !ended; stepIndex += 1) {
      const step = steps[stepIndex]!;
      const next = steps[stepIndex + 1];
      if (step.pauseMs !== undefined) await realClock.sleep(step.pauseMs);
      else if (step.hangup) {
        socket.send({ type: 'hangup' });
        ended = true;
      } else {
        const turn = await speak(socket, plan, step, next?.bargeInAfterMs, interrupting);
        if (hooks.conversation) {
          hooks.conversation(plan.callId, step.say !== undefined ? `caller: ${step.say}` : `caller: (presses ${step.dtmf})`);
          const cut = next?.bargeInAfterMs !== undefined ? ' [interrupted]' : turn.transferred ? ' [transferred]' : '';
          hooks.conversation(plan.callId, `agent: ${turn.text}${cut}`);
        }
        interrupting = next?.bargeInAfterMs !== undefined;
        result.turns += 1;
        const timings = await hooks.timings?.(plan.callId, turn.turn);
        result.toolCalls += timings?.tools.length ?? 0;
        hooks.turn({ callId: plan.callId, turn: turn.turn, latencyMs: turn.latencyMs, timings });
        checkExpectations(step, turn, timings);
        ended = turn.ended;
      }
    }
    result.ok = true;
  } catch (error) {
    result.failure = { step: Math.max(0, stepIndex), reason: (error as Error).message };
  } finally {
    result.clears = socket?.count('clear') ?? 0;
    socket?.close();
    result.durationMs = performance.now() - dialledAt;
  }
  return result;
}

export interface SpokenTurn {
  turn: number;
  latencyMs: number;
  text: string;
  transferred: boolean;
  ended: boolean;
}

async function speak(
  socket: CallSocket, plan: CallPlan, step: CallerStep, bargeInAfterMs: number | undefined, interrupting: boolean,
): Promise<SpokenTurn> {
  let mark = socket.mark();
  if (step.say !== undefined) {
    const [speechStarted, ...words] = utteranceFrames(step.say, plan.pacing, plan.random);
    const startedAt = realClock.now();
    socket.send(speechStarted!.frame);
    if (interrupting) {
      // Chunks of the interrupted answer may still be on the wire; the answer to these words comes after `clear`.
      const start = mark;
      await socket.next((frame) => frame.type === 'clear' && socket.since(start, frame), plan.turnTimeoutMs);
      mark = socket.mark();
    }
    await sendOnTime(words, startedAt, realClock, (frame) => socket.send(frame));
  } else if (step.dtmf !== undefined) {
    socket.send({ type: 'dtmf', digit: step.dtmf });
  }
  const sentAt = performance.now();
  const first = await socket.next((frame) => isAnswer(frame) && socket.since(mark, frame), plan.turnTimeoutMs);
  const latencyMs = performance.now() - sentAt;
  if (first.type === 'error') throw new CallFailure(`runtime error: ${describe(first)}`);
  const turn = first.type === 'say' ? first.turn : 0;

  if (bargeInAfterMs !== undefined) {
    // The next step interrupts this answer: speak again without waiting for the rest of it.
    await realClock.sleep(bargeInAfterMs);
    return { turn, latencyMs, text: socket.textSince(mark), transferred: false, ended: false };
  }
  const closing = first.type === 'say' && !first.last
    ? await socket.next((frame) => isClosing(frame) && socket.since(mark, frame), plan.turnTimeoutMs)
    : first;
  const says = socket.saysSince(mark);
  await playBack(says, plan.pacing, realClock, (frame) => socket.send(frame));
  return {
    turn,
    latencyMs,
    text: says.map((say) => say.text).join(' '),
    transferred: closing.type === 'transfer' || socket.saw(mark, 'transfer'),
    ended: closing.type === 'transfer' || closing.type === 'hangup' || socket.saw(mark, 'hangup'),
  };
}

export function checkExpectations(step: CallerStep, turn: SpokenTurn, timings: TurnTimings | undefined): void {
  const expect = step.expect;
  if (!expect) return;
  if (expect.sayMatches !== undefined && !new RegExp(expect.sayMatches, 'i').test(turn.text)) {
    throw new CallFailure(`expected the answer to match /${expect.sayMatches}/i, heard "${turn.text.slice(0, 200)}"`);
  }
  if (expect.transfer !== undefined && expect.transfer !== turn.transferred) {
    throw new CallFailure(expect.transfer ? 'expected a transfer, none came' : 'expected no transfer, the call was transferred');
  }
  if (expect.tool !== undefined) {
    if (!timings) throw new CallFailure(`cannot check tool "${expect.tool}": no emulator timings (pass --emulator URL)`);
    if (!timings.tools.includes(expect.tool)) {
      throw new CallFailure(`expected tool "${expect.tool}" in turn ${turn.turn}, the model used ${timings.tools.length ? timings.tools.join(', ') : 'none'}`);
    }
  }
}

const isAnswer = (frame: OutboundFrame) =>
  frame.type === 'say' || frame.type === 'transfer' || frame.type === 'hangup' || (frame.type === 'error' && frame.fatal);
const isClosing = (frame: OutboundFrame) =>
  (frame.type === 'say' && frame.last) || frame.type === 'transfer' || frame.type === 'hangup' || (frame.type === 'error' && frame.fatal);

/** A server that does not know the scenarios' agents needs them configured, or calls sent to one it knows. */
function unknownAgentHint(frame: OutboundFrame): string {
  return frame.type === 'error' && frame.message.includes('unknown agent')
    ? ' (start the server with the config of `aybiza load --print-config FILE...`, or pass --agent NAME)'
    : '';
}

function describe(frame: OutboundFrame): string {
  return frame.type === 'error' ? `${frame.code}: ${frame.message}` : JSON.stringify(frame);
}

/** The client end of one call: frames received so far, and waiting for one by predicate. */
class CallSocket {
  private readonly frames: OutboundFrame[] = [];
  private waiter: { match: (frame: OutboundFrame) => boolean; resolve: (frame: OutboundFrame) => void; reject: (error: Error) => void } | undefined;
  private closedReason: string | undefined;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as OutboundFrame;
      this.frames.push(frame);
      if (this.waiter?.match(frame)) {
        const { resolve } = this.waiter;
        this.waiter = undefined;
        resolve(frame);
      }
    });
    ws.on('close', (code, reason) => {
      this.closedReason = `connection closed (${code}${reason.length ? ` ${String(reason)}` : ''})`;
      this.waiter?.reject(new CallFailure(this.closedReason));
      this.waiter = undefined;
    });
    ws.on('error', () => undefined);
  }

  static open(url: string, token: string | undefined): Promise<CallSocket> {
    const ws = new WebSocket(url, ['aybiza.v1'], { headers: token ? { authorization: `Bearer ${token}` } : {}, perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new CallSocket(ws)));
      ws.once('unexpected-response', (_request, response) => reject(new CallFailure(`upgrade refused: HTTP ${response.statusCode}`)));
      ws.once('error', (error) => reject(new CallFailure(`cannot connect: ${error.message}`)));
    });
  }

  send(frame: Record<string, unknown>): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  mark(): number {
    return this.frames.length;
  }

  since(mark: number, frame: OutboundFrame): boolean {
    return this.frames.lastIndexOf(frame) >= mark;
  }

  saysSince(mark: number): SayFrame[] {
    return this.frames.slice(mark).filter((frame): frame is SayFrame => frame.type === 'say');
  }

  textSince(mark: number): string {
    return this.saysSince(mark).map((say) => say.text).join(' ');
  }

  count(type: OutboundFrame['type']): number {
    return this.frames.filter((frame) => frame.type === type).length;
  }

  saw(mark: number, type: OutboundFrame['type']): boolean {
    return this.frames.slice(mark).some((frame) => frame.type === type);
  }

  /** The first frame after the current waiter was set that matches, or one already received since `mark`. */
  next(match: (frame: OutboundFrame) => boolean, timeoutMs: number): Promise<OutboundFrame> {
    const existing = this.frames.find(match);
    if (existing) return Promise.resolve(existing);
    if (this.closedReason) return Promise.reject(new CallFailure(this.closedReason));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new CallFailure(`silence: nothing for ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = {
        match,
        resolve: (frame) => { clearTimeout(timer); resolve(frame); },
        reject: (error) => { clearTimeout(timer); reject(error); },
      };
    });
  }

  close(): void {
    this.ws.close();
  }
}
