import { parentPort, workerData } from 'node:worker_threads';
import { HISTOGRAMS, newHistograms, runClientGroup, type GroupProgress, type GroupSettings, type ScheduledCall } from './client-group.js';
import type { Scenario } from './scenario.js';

/** A worker thread of simulated callers: its own event loop, reporting progress and, at the end, its histograms. */
export interface ClientWorkerData {
  scenarios: Scenario[];
  calls: ScheduledCall[];
  settings: GroupSettings;
  /** Epoch ms the run started, shared by every thread so the ramp stays even. */
  startedAtEpochMs: number;
}

export type ClientWorkerMessage =
  | { type: 'progress'; progress: GroupProgress }
  | { type: 'done'; results: Awaited<ReturnType<typeof runClientGroup>>; histograms: Record<string, string> };

const data = workerData as ClientWorkerData;
const progress: GroupProgress = { started: 0, completed: 0, failed: 0, turns: 0 };
const histograms = newHistograms();
const port = parentPort;
if (!port) throw new Error('client-worker must run as a worker thread');

const ticker = setInterval(() => port.postMessage({ type: 'progress', progress } satisfies ClientWorkerMessage), 250);
const startedAt = performance.now() - (Date.now() - data.startedAtEpochMs);
const results = await runClientGroup(data.scenarios, data.calls, data.settings, progress, histograms, startedAt);
clearInterval(ticker);
port.postMessage({
  type: 'done',
  results,
  histograms: Object.fromEntries(HISTOGRAMS.map((name) => [name, histograms[name].encode()])),
} satisfies ClientWorkerMessage);
