import type { EmulatorRequestRecord } from '../emulator/server.js';
import { seededRandom } from '../emulator/seeded-random.js';
import { LatencyHistogram } from './latency.js';
import { callPacing, type Pace } from './pacing.js';
import type { Scenario } from './scenario.js';
import { runSimulatedCall, type CallHooks, type CallResult, type TurnTimings } from './simulated-caller.js';

/** One call of a run: which scenario, who calls, and when it starts (ms after the run's start). */
export interface ScheduledCall {
  scenario: number;
  callId: string;
  from: string;
  to: string;
  startAfterMs: number;
  seed: number;
}

export interface GroupSettings {
  url: string;
  token?: string;
  agent?: string;
  /** Where to read the emulator's request log, when there is one. */
  emulatorUrl?: string;
  pace: Pace;
  /** Replaces the pace's playback time per word. */
  playbackMsPerWord?: number;
  turnTimeoutMs: number;
}

/** Running counts a live view shows. */
export interface GroupProgress {
  started: number;
  completed: number;
  failed: number;
  turns: number;
}

export const HISTOGRAMS = ['turn', 'firstSay', 'ttft', 'overhead'] as const;
export type HistogramName = (typeof HISTOGRAMS)[number];
export type Histograms = Record<HistogramName, LatencyHistogram>;

export const newHistograms = (): Histograms => ({
  turn: new LatencyHistogram(), firstSay: new LatencyHistogram(), ttft: new LatencyHistogram(), overhead: new LatencyHistogram(),
});

/**
 * Drives a set of scheduled calls from this thread: the same code runs on the main thread for
 * small runs and inside each worker thread for large ones.
 */
export async function runClientGroup(
  scenarios: Scenario[],
  calls: ScheduledCall[],
  settings: GroupSettings,
  progress: GroupProgress,
  histograms: Histograms,
  startedAt: number,
  timingsOf?: (callId: string) => Promise<EmulatorRequestRecord[]>,
  conversation?: (callId: string, line: string) => void,
): Promise<CallResult[]> {
  const readRecords = timingsOf ?? (settings.emulatorUrl ? httpRecords(settings.emulatorUrl) : undefined);
  const timings = readRecords
    ? async (callId: string, turn: number) => turnTimings(await readRecords(callId), turn)
    : undefined;
  return runScheduled(calls, startedAt, progress, (call) => runSimulatedCall({
    url: settings.url,
    token: settings.token,
    agent: settings.agent ?? scenarios[call.scenario]!.name,
    scenario: scenarios[call.scenario]!,
    callId: call.callId,
    from: call.from,
    to: call.to,
    pacing: callPacing(scenarios[call.scenario]!.pacing, settings.pace, settings.playbackMsPerWord),
    turnTimeoutMs: settings.turnTimeoutMs,
    random: seededRandom(call.seed),
  }, { timings, conversation, turn: turnRecorder(progress, histograms) }));
}

/** Starts each call at its time, counts it, and collects the results, whatever transport `run` uses. */
export function runScheduled(
  calls: ScheduledCall[], startedAt: number, progress: GroupProgress, run: (call: ScheduledCall) => Promise<CallResult>,
): Promise<CallResult[]> {
  return Promise.all(calls.map(async (call) => {
    const wait = startedAt + call.startAfterMs - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    progress.started += 1;
    const result = await run(call);
    if (result.ok) progress.completed += 1;
    else progress.failed += 1;
    return result;
  }));
}

/** Counts each finished turn and files its latencies, whichever transport the call ran on. */
export function turnRecorder(progress: GroupProgress, histograms: Histograms): CallHooks['turn'] {
  return (sample) => {
    progress.turns += 1;
    histograms.turn.record(sample.latencyMs);
    if (sample.turn <= 1) histograms.firstSay.record(sample.latencyMs);
    if (sample.timings?.ttftMs !== undefined) histograms.ttft.record(sample.timings.ttftMs);
    if (sample.timings?.modelShareMs !== undefined) histograms.overhead.record(Math.max(0, sample.latencyMs - sample.timings.modelShareMs));
  };
}

/**
 * The model's part of a turn, from the emulator's records of this call's requests for that turn:
 * every request that failed before the one whose text was spoken first counts whole (a fallback
 * hop is the model's time, not the runtime's), and the speaking request counts up to the end of its
 * first sentence. What remains of the caller's wait is the runtime's overhead (tool runs included).
 */
export function turnTimings(records: EmulatorRequestRecord[], turn: number): TurnTimings | undefined {
  const ofTurn = records
    .filter((record) => String(record.turn) === String(turn))
    .sort((a, b) => a.receivedAt - b.receivedAt);
  if (ofTurn.length === 0) return undefined;
  const speaking = ofTurn.find((record) => record.firstSentenceEndAt !== undefined)
    ?? ofTurn.find((record) => record.firstTokenAt !== undefined);
  let modelShareMs: number | undefined;
  if (speaking) {
    const before = ofTurn.filter((record) => record.receivedAt < speaking.receivedAt);
    const spokenEnd = speaking.firstSentenceEndAt ?? speaking.lastTokenAt ?? speaking.completedAt;
    modelShareMs = spokenEnd === undefined ? undefined
      : before.reduce((sum, record) => sum + ((record.completedAt ?? record.receivedAt) - record.receivedAt), 0) + (spokenEnd - speaking.receivedAt);
  }
  return {
    ttftMs: speaking?.firstTokenAt !== undefined ? speaking.firstTokenAt - speaking.receivedAt : undefined,
    modelShareMs,
    tools: [...new Set(ofTurn.flatMap((record) => toolUsesOfTurn(record.body)))],
  };
}

/** Tool names used after the caller's latest words in a request body: this turn's tool uses. */
function toolUsesOfTurn(body: unknown): string[] {
  const messages = (body as { messages?: Array<{ role: string; content: Array<Record<string, unknown>> }> })?.messages ?? [];
  let start = 0;
  messages.forEach((message, index) => {
    if (message.role === 'user' && message.content.some((block) => typeof block.text === 'string')) start = index;
  });
  return messages.slice(start).flatMap((message) =>
    message.content.flatMap((block) => {
      const use = block.toolUse as { name?: string } | undefined;
      return use?.name ? [use.name] : [];
    }));
}

/** A call's records from the request log of an emulator in another process. */
export function httpRecords(emulatorUrl: string) {
  return async (callId: string): Promise<EmulatorRequestRecord[]> => {
    const response = await fetch(`${emulatorUrl}/_emulator/requests?callId=${encodeURIComponent(callId)}`);
    if (!response.ok) return [];
    return (await response.json()) as EmulatorRequestRecord[];
  };
}
