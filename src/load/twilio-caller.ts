import { DEFAULT_END_OF_SPEECH_MS } from '../emulator/transcribe/server.js';
import type { MediaLine } from '../emulator/twilio/media-line.js';
import type { RunningTwilioEmulator } from '../emulator/twilio/server.js';
import { realClock } from './pacing.js';
import type { CallerStep, Scenario, ScenarioSpeech } from './scenario.js';
import type { CallHooks, CallResult, TurnSample, TurnTimings } from './simulated-caller.js';
import { checkExpectations, CallFailure } from './simulated-caller.js';

export interface TwilioCallPlan {
  twilio: RunningTwilioEmulator;
  /** The number's voice webhook, at the public URL. */
  webhookUrl: string;
  scenario: Scenario;
  from: string;
  to: string;
  turnTimeoutMs: number;
  /** The scenario's speech latencies are the services' (the run's node was given emulators of its own): subtract them. */
  scenarioSpeech: boolean;
}

/**
 * A turn of an audio call, with the part of its mouth-to-ear time the emulated speech services
 * spent by design: Transcribe's endpointing silence still to come after the caller's last frame
 * (`endOfSpeechMs`, 600 ms by default, after the last voiced sample, less the closing silence
 * already sent; nothing for a key press) and its final's delay, and Polly's first-byte delay, when
 * the scenario sets them (`speech`; unset, `aybiza emulator` and serve's embedded emulators add
 * none). Partial delays shorter than the gaps between words do not hold the final back. Polly's
 * synthesis time itself stays in the overhead.
 */
export interface AudioTurnSample extends TurnSample {
  speechServicesMs: number;
}

export interface AudioCallHooks extends Omit<CallHooks, 'turn'> {
  turn(sample: AudioTurnSample): void;
}

/** The agent's answer is over when its audio has stopped this long (the speech code's longest gap is 400 ms). */
const ANSWER_SETTLED_MS = 800;

/**
 * One caller following a scenario over the emulated Twilio: the caller's words as emulated speech
 * in real-time µ-law frames, the agent's answer decoded from the audio it played, DTMF as Twilio's
 * `dtmf`, hangup as `stop`. The same steps and expectations as the `aybiza.v1` caller, so scenarios
 * run unchanged on either transport. Latency is mouth to ear: from the caller's last audio frame
 * (its speech and the closing silence of the emulated speech code) to the first audio of the answer.
 */
export async function runTwilioCall(plan: TwilioCallPlan, hooks: AudioCallHooks): Promise<CallResult> {
  const dialledAt = performance.now();
  const call = plan.twilio.placeCall({ webhookUrl: plan.webhookUrl, from: plan.from, to: plan.to });
  const result: CallResult = { callId: call.callSid, scenario: plan.scenario.name, ok: false, turns: 0, toolCalls: 0, clears: 0, durationMs: 0 };
  let stepIndex = -1;
  try {
    const line = await call.nextLine(1, plan.turnTimeoutMs).catch(() => {
      throw new CallFailure(`no media stream: ${call.outcome ? JSON.stringify(call.outcome) : 'the webhook was not answered'}`);
    });
    const steps = plan.scenario.caller;
    for (stepIndex = 0; stepIndex < steps.length && !call.outcome; stepIndex += 1) {
      const step = steps[stepIndex]!;
      const next = steps[stepIndex + 1];
      if (step.pauseMs !== undefined) await realClock.sleep(step.pauseMs);
      else if (step.hangup) call.hangup();
      else {
        const turn = await speak(line, call, step, next?.bargeInAfterMs, plan.turnTimeoutMs, plan.scenarioSpeech ? plan.scenario.speech : undefined);
        result.turns += 1;
        hooks.conversation?.(call.callSid, step.say !== undefined ? `caller: ${step.say}` : `caller: (presses ${step.dtmf})`);
        hooks.conversation?.(call.callSid, `agent: ${turn.text}${turn.transferred ? ' [transferred]' : ''}`);
        const timings: TurnTimings | undefined = await hooks.timings?.(call.callSid, result.turns);
        result.toolCalls += timings?.tools.length ?? 0;
        hooks.turn({ callId: call.callSid, turn: result.turns, latencyMs: turn.latencyMs, timings, speechServicesMs: turn.speechServicesMs });
        checkExpectations(step, { turn: result.turns, latencyMs: turn.latencyMs, text: turn.text, transferred: turn.transferred, ended: turn.ended }, timings);
      }
    }
    result.ok = true;
  } catch (error) {
    result.failure = { step: Math.max(0, stepIndex), reason: (error as Error).message };
  } finally {
    result.clears = call.lines.reduce((sum, line) => sum + line.events.filter((event) => event.type === 'clear').length, 0);
    call.hangup();
    result.durationMs = performance.now() - dialledAt;
  }
  return result;
}

async function speak(
  line: MediaLine, call: { outcome: unknown; ended: Promise<unknown> }, step: CallerStep, bargeInAfterMs: number | undefined, timeoutMs: number,
  speech: ScenarioSpeech | undefined,
): Promise<{ latencyMs: number; speechServicesMs: number; text: string; transferred: boolean; ended: boolean }> {
  const heardBefore = line.heard.length;
  const answersBefore = line.answerStarts.length;
  let spokeUntil = performance.now();
  let speechServicesMs = speech?.pollyFirstByteMs ?? 0;
  if (step.say !== undefined) {
    speechServicesMs += Math.max(0, (speech?.endOfSpeechMs ?? DEFAULT_END_OF_SPEECH_MS) - line.speak(step.say)) + (speech?.finalDelayMs ?? 0);
    await until(line, call, () => !line.speaking || call.outcome !== undefined, timeoutMs + 60_000);
    spokeUntil = line.speaking ? performance.now() : line.spokeAt;
  } else if (step.dtmf !== undefined) {
    line.dtmf(step.dtmf);
  }
  await until(line, call, () => line.answerStarts.some((at, index) => index >= answersBefore && at >= spokeUntil) || call.outcome !== undefined, timeoutMs)
    .catch(() => {
      throw new CallFailure(`silence: nothing for ${timeoutMs} ms`);
    });
  const answeredAt = line.answerStarts.slice(answersBefore).find((at) => at >= spokeUntil);
  const latencyMs = answeredAt === undefined ? 0 : answeredAt - spokeUntil;
  if (bargeInAfterMs !== undefined) await realClock.sleep(bargeInAfterMs);
  else {
    const settled = () => call.outcome !== undefined || (!line.playing && performance.now() - line.lastAudioAt >= ANSWER_SETTLED_MS && line.heard.length > heardBefore);
    // Once words were heard, time alone settles the answer: when its audio has played and been quiet long enough.
    const settlesAt = () => (line.heard.length > heardBefore ? Math.max(line.lastAudioAt + ANSWER_SETTLED_MS, performance.now() + line.unplayedMs) : undefined);
    await until(line, call, settled, timeoutMs, settlesAt).catch(() => undefined);
  }
  const outcome = call.outcome as { kind?: string } | undefined;
  return {
    latencyMs,
    speechServicesMs,
    text: line.heard.slice(heardBefore).join(' '),
    transferred: outcome?.kind === 'dialed',
    ended: outcome !== undefined,
  };
}

/**
 * Waits until `condition` holds, checking it again when the line changes (`MediaLine.changed`),
 * when the call ends, and at `recheckAt` (when time alone may make it hold), rather than polling:
 * a poll every 20 ms per call was a timer callback per frame on top of the line's own.
 */
async function until(
  line: MediaLine, call: { ended: Promise<unknown> }, condition: () => boolean, timeoutMs: number, recheckAt: () => number | undefined = () => undefined,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    const now = performance.now();
    if (now > deadline) throw new Error('timed out');
    let timer: NodeJS.Timeout | undefined;
    const wake = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(1, Math.min(deadline, recheckAt() ?? deadline) - now))));
    await Promise.race([line.changed(), call.ended, wake]);
    clearTimeout(timer);
  }
}

