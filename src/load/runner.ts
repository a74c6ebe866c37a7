import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../log.js';
import { startNode, type RunningNode } from '../runtime/node.js';
import {
  HISTOGRAMS, httpRecords, newHistograms, runClientGroup, turnTimings, type GroupProgress, type GroupSettings, type Histograms, type ScheduledCall,
} from './client-group.js';
import type { ClientWorkerData, ClientWorkerMessage } from './client-worker.js';
import { arrivalTimesMs, type Arrivals } from './arrivals.js';
import { startLiveView } from './live-view.js';
import { runTwilioCalls, startTwilioLine, type TwilioRemote } from './twilio-line.js';
import { failuresOf, type LoadReport } from './report.js';
import type { Pace } from './pacing.js';
import { loadScenarioFile, type Scenario } from './scenario.js';
import { scenarioAgents, scenarioScripts, scenarioTools } from './scenario-agents.js';
import { startScenarioSpeech, type ScenarioSpeechServices } from './scenario-speech.js';
import type { CallResult } from './simulated-caller.js';

export interface LoadOptions {
  files: string[];
  calls?: number;
  rampSeconds?: number;
  /** How the calls' start times spread over the ramp (default `uniform`). */
  arrivals?: Arrivals;
  /** A running server; without it the runner starts its own, with the emulator, in this process. */
  url?: string;
  token?: string;
  emulatorUrl?: string;
  /** The agent every call asks for; by default each scenario's own (named after it). */
  agent?: string;
  seed: number;
  /** Client worker threads; undefined chooses from the number of calls. */
  workers?: number;
  /** How fast the simulated callers speak and hear (src/load/pacing.ts); `--transport twilio` is always real time. */
  pace: Pace;
  /** Replaces the pace's playback time per word of the answers. */
  playbackMsPerWord?: number;
  turnTimeoutMs: number;
  progressOut?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Prints each call's conversation here as it happens; the calls then run on this thread. */
  showOut?: NodeJS.WritableStream;
  /** `aybiza` (default): `aybiza.v1` frames; `twilio`: audio over the emulated Twilio and its Media Streams (to the in-process node, or with `twilio` to `url`). */
  transport?: 'aybiza' | 'twilio';
  /** With `url` and the `twilio` transport: the separate serve's Twilio account and public URL, and the emulated REST API's port. */
  twilio?: TwilioRemote;
}

/** Calls one thread of simulated callers drives comfortably (see the README's capacity notes). */
export const CALLS_PER_CLIENT_THREAD = 2_000;

/** Replays scenario files as concurrent calls and reports latency percentiles. Every file is validated before any call starts. */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const scenarios = options.files.map(loadScenarioFile);
  const calls = planCalls(scenarios, options);
  const twilio = options.transport === 'twilio' ? await startTwilioLine(options.twilio) : undefined;
  // Scenarios' speech latencies need emulators of their own, which only a node of this run can be given.
  const speech = twilio && !options.url ? await startScenarioSpeech(scenarios) : undefined;
  const target = options.url ? undefined : await startInProcessTarget(scenarios, calls.length, twilio?.configFor(scenarios), speech?.agentSpeech);
  if (twilio && target) twilio.answerAt(Number(new URL(target.node.telephonyUrl).port));
  const settings: GroupSettings = {
    url: options.url ?? target!.node.telephonyUrl,
    token: options.token,
    agent: options.agent,
    emulatorUrl: options.emulatorUrl ?? target?.node.bedrockEndpoint,
    pace: options.pace,
    playbackMsPerWord: options.playbackMsPerWord,
    turnTimeoutMs: options.turnTimeoutMs,
  };
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  let peakRssBytes = 0;
  const rssSampler = setInterval(() => (peakRssBytes = Math.max(peakRssBytes, process.memoryUsage().rss)), 500);
  const histograms = newHistograms();
  const progress: GroupProgress = { started: 0, completed: 0, failed: 0, turns: 0 };
  const workers = options.showOut ? 0 : options.workers ?? (calls.length > CALLS_PER_CLIENT_THREAD ? Math.min(availableParallelism(), Math.ceil(calls.length / CALLS_PER_CLIENT_THREAD)) : 0);
  const view = options.progressOut
    ? startLiveView(options.progressOut, () => ({ progress, total: calls.length, p50: histograms.turn.percentile(50), p99: histograms.turn.percentile(99) }))
    : undefined;
  const startedAt = performance.now();
  let results: CallResult[];
  try {
    results = twilio
      ? await runTwilioCalls({ scenarios, calls, turnTimeoutMs: options.turnTimeoutMs, progress, histograms, startedAt, scenarioSpeech: speech !== undefined }, twilio, {
          timings: target?.node.emulator ? async (callId, turn) => turnTimings(await target.node.emulator!.requests({ callId }), turn)
            : options.emulatorUrl ? async (callId, turn) => turnTimings(await httpRecords(options.emulatorUrl!)(callId), turn) : undefined,
          conversation: options.showOut ? (callId, line) => options.showOut!.write(`${callId} ${line}\n`) : undefined,
        })
      : workers > 0
      ? await runOnWorkers(scenarios, calls, settings, workers, progress, histograms)
      : await runClientGroup(scenarios, calls, settings, progress, histograms, startedAt,
          target?.node.emulator ? async (callId) => target.node.emulator!.requests({ callId }) : undefined,
          options.showOut ? (callId, line) => options.showOut!.write(`${callId} ${line}\n`) : undefined);
  } finally {
    view?.stop();
    clearInterval(rssSampler);
    lag.disable();
  }
  const durationS = (performance.now() - startedAt) / 1000;
  peakRssBytes = Math.max(peakRssBytes, process.memoryUsage().rss);
  await target?.close();
  await twilio?.emulator.close();
  await speech?.close();
  const failed = results.filter((result) => !result.ok).length;
  const callSeconds = results.map((result) => result.durationMs / 1000);
  return {
    scenario: scenarios.map((scenario) => scenario.name).join('+'),
    pace: options.transport === 'twilio' ? 'real time' : options.pace,
    arrivals: options.arrivals ?? 'uniform',
    calls: { started: results.length, completed: results.length - failed, failed },
    turns: results.reduce((sum, result) => sum + result.turns, 0),
    toolCalls: results.reduce((sum, result) => sum + result.toolCalls, 0),
    bargeIns: results.reduce((sum, result) => sum + result.clears, 0),
    callLengthS: {
      mean: round1(callSeconds.reduce((sum, seconds) => sum + seconds, 0) / Math.max(1, callSeconds.length)),
      max: round1(Math.max(0, ...callSeconds)),
    },
    failures: failuresOf(results),
    latencyMs: { turn: histograms.turn.summary(), firstSay: histograms.firstSay.summary(), ttft: histograms.ttft.summary() },
    overheadMs: pick(histograms.overhead.summary()),
    eventLoopLagMs: target ? { p50: ns(lag.percentile(50)), p99: ns(lag.percentile(99)), max: ns(lag.max) } : null,
    serverRssMb: target ? Math.round(peakRssBytes / 1_048_576) : null,
    durationS: round1(durationS),
  };
}

/** Shares calls among the files by their `load.calls`, interleaved, started over the ramp as `arrivals` says. */
export function planCalls(scenarios: Scenario[], options: Pick<LoadOptions, 'calls' | 'rampSeconds' | 'arrivals' | 'seed'>, runId = Date.now().toString(36)): ScheduledCall[] {
  const weights = scenarios.map((scenario) => scenario.load?.calls ?? 1);
  const total = options.calls ?? weights.reduce((sum, weight) => sum + weight, 0);
  const rampMs = 1000 * (options.rampSeconds ?? Math.max(0, ...scenarios.map((scenario) => scenario.load?.rampSeconds ?? 0)));
  const weightSum = weights.reduce((sum, weight) => sum + weight, 0);
  const given = weights.map(() => 0);
  const startTimesMs = arrivalTimesMs(total, rampMs, options.arrivals ?? 'uniform', options.seed);
  return Array.from({ length: total }, (_, index) => {
    // The scenario furthest behind its share gets the next call, so mixes stay even along the ramp.
    let scenario = 0;
    let deficit = -Infinity;
    weights.forEach((weight, candidate) => {
      const behind = ((index + 1) * weight) / weightSum - given[candidate]!;
      if (behind > deficit) {
        deficit = behind;
        scenario = candidate;
      }
    });
    given[scenario]! += 1;
    return {
      scenario,
      // The run id keeps call ids unique across runs against one server, whose history outlives a run.
      callId: `load-${options.seed}-${runId}-${index}`,
      from: `+1555${String(1_000_000 + index).slice(-7)}`,
      to: '+15550000000',
      startAfterMs: startTimesMs[index]!,
      seed: options.seed * 100_003 + index,
    };
  });
}

async function runOnWorkers(
  scenarios: Scenario[], calls: ScheduledCall[], settings: GroupSettings, workerCount: number,
  progress: GroupProgress, histograms: Histograms,
): Promise<CallResult[]> {
  const startedAtEpochMs = Date.now();
  const shares = Array.from({ length: workerCount }, (_, worker) => calls.filter((_, index) => index % workerCount === worker));
  const perWorker = shares.map((): GroupProgress => ({ started: 0, completed: 0, failed: 0, turns: 0 }));
  const sync = () => {
    for (const key of ['started', 'completed', 'failed', 'turns'] as const) progress[key] = perWorker.reduce((sum, p) => sum + p[key], 0);
  };
  const outcomes = await Promise.all(shares.map((share, index) => new Promise<CallResult[]>((resolve, reject) => {
    const [entry, execOptions] = workerEntry();
    const worker = new Worker(entry, {
      ...execOptions,
      workerData: { scenarios, calls: share, settings, startedAtEpochMs } satisfies ClientWorkerData,
    });
    worker.on('message', (message: ClientWorkerMessage) => {
      if (message.type === 'progress') {
        perWorker[index] = message.progress;
        sync();
        return;
      }
      for (const name of HISTOGRAMS) histograms[name].merge(message.histograms[name]!);
      resolve(message.results);
      void worker.terminate();
    });
    worker.on('error', reject);
    worker.on('exit', (code) => {
      if (code !== 0) reject(new Error(`client worker ${index} exited with code ${code}`));
    });
  })));
  sync();
  return outcomes.flat();
}

/**
 * The worker's module: compiled JS beside this file, or the TypeScript source run through tsx. On
 * Node 20 `--import tsx` in a worker's execArgv does not apply to the worker's own entry
 * (ERR_UNKNOWN_FILE_EXTENSION), so a small bootstrap registers tsx first and then imports it.
 */
function workerEntry(): [URL | string, { eval?: boolean }] {
  if (!import.meta.url.endsWith('.ts')) return [new URL('./client-worker.js', import.meta.url), {}];
  const entry = JSON.stringify(new URL('./client-worker.ts', import.meta.url).href);
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return [`import(${tsx}).then(({ register }) => { register(); return import(${entry}); })`, { eval: true }];
}

async function startInProcessTarget(
  scenarios: Scenario[], callCount: number, extra: Record<string, unknown> = {}, agentSpeech: ScenarioSpeechServices['agentSpeech'] = {},
): Promise<{ node: RunningNode; close(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'aybiza-load-'));
  const agents = scenarioAgents(scenarios, loadConfig({ env: {} }).agents.default!);
  for (const [name, endpoints] of Object.entries(agentSpeech)) {
    const agent = agents[name] as { speech?: Record<string, unknown> };
    agents[name] = { ...agent, speech: { ...agent.speech, ...endpoints } };
  }
  const config = loadConfig({
    env: {},
    overrides: {
      // Clients on this thread make the loop late too, so lag is no sign of the server's overload here.
      server: { port: 0, metricsPort: 0, maxCalls: Math.max(callCount * 2, 1_000), maxEventLoopLagMs: 0, drainTimeoutMs: 1_000 },
      // A key prefix of its own, so no earlier run's history (same call ids) is ever read back.
      memory: { dataDir, keyPrefix: `aybiza-load-${randomUUID()}:`, hotTtlSeconds: 3_600 },
      agents,
      tools: scenarioTools(scenarios),
      log: { level: 'error' },
      ...extra,
    },
  });
  // Only errors: the live view owns the terminal, and fallbacks are what some scenarios are about.
  const node = await startNode({ config, log: createLogger({ level: 'error' }), emulator: { scripts: scenarioScripts(scenarios) } });
  return {
    node,
    close: async () => {
      await node.shutdown();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const round1 = (value: number) => Math.round(value * 10) / 10;
const ns = (value: number) => Math.round((Number.isFinite(value) ? value : 0) / 10_000) / 100;
const pick = ({ p50, p95, p99 }: { p50: number; p95: number; p99: number }) => ({ p50, p95, p99 });
