import type { EmulatorRequestRecord } from '../emulator/server.js';
import { LatencyHistogram } from './latency.js';
import type { Scenario } from './scenario.js';
import { runSimulatedCall, type CallResult, type TurnTimings } from './simulated-caller.js';

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
  /** Where to read the emulator's request log, when there is one. */
  emulatorUrl?: string;
  playbackMsPerWord: number;
  turnTimeoutMs: number;
}

/** Running counts a live view shows. */
export interface GroupProgress {
  started: number;
  completed: number;
  failed: number;
  turns: number;
}

export interface GroupOutcome {
  results: CallResult[];
  histograms: Record<HistogramName, string>;
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
): Promise<CallResult[]> {
  const readRecords = timingsOf ?? (settings.emulatorUrl ? httpRecords(settings.emulatorUrl) : undefined);
  const timings = readRecords
    ? async (callId: string, turn: number) => turnTimings(await readRecords(callId), turn)
    : undefined;
  return Promise.all(calls.map(async (call) => {
    const wait = startedAt + call.startAfterMs - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    progress.started += 1;
    const result = await runSimulatedCall({
      url: settings.url,
      token: settings.token,
      scenario: scenarios[call.scenario]!,
      callId: call.callId,
      from: call.from,
      to: call.to,
      playbackMsPerWord: settings.playbackMsPerWord,
      turnTimeoutMs: settings.turnTimeoutMs,
      random: seededRandom(call.seed),
    }, {
      timings,
      turn: (sample) => {
        progress.turns += 1;
        histograms.turn.record(sample.latencyMs);
        if (sample.turn <= 1) histograms.firstSay.record(sample.latencyMs);
        if (sample.timings?.ttftMs !== undefined) histograms.ttft.record(sample.timings.ttftMs);
        if (sample.timings?.modelShareMs !== undefined) histograms.overhead.record(Math.max(0, sample.latencyMs - sample.timings.modelShareMs));
      },
    });
    if (result.ok) progress.completed += 1;
    else progress.failed += 1;
    return result;
  }));
}

/** The model's part of a turn, from the emulator's records of this call's requests for that turn. */
export function turnTimings(records: EmulatorRequestRecord[], turn: number): TurnTimings | undefined {
  const ofTurn = records
    .filter((record) => String(record.turn) === String(turn))
    .sort((a, b) => a.receivedAt - b.receivedAt);
  const first = ofTurn[0];
  if (!first) return undefined;
  const ttftMs = first.firstTokenAt !== undefined ? first.firstTokenAt - first.receivedAt : undefined;
  const shareEnd = first.firstSentenceEndAt ?? first.lastTokenAt ?? first.completedAt;
  return {
    ttftMs,
    modelShareMs: shareEnd !== undefined ? shareEnd - first.receivedAt : undefined,
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

function httpRecords(emulatorUrl: string) {
  return async (callId: string): Promise<EmulatorRequestRecord[]> => {
    const response = await fetch(`${emulatorUrl}/_emulator/requests?callId=${encodeURIComponent(callId)}`);
    if (!response.ok) return [];
    return (await response.json()) as EmulatorRequestRecord[];
  };
}

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
