import { recordId } from './record-id.js';

/**
 * The one log line a call leaves at its end: its own latency percentiles, turns, tokens and cost,
 * so a slow or expensive call found through an exemplar's `record_id` (the line's `recordId`) can
 * be explained without per-call series in Prometheus.
 */
export interface CallSummary {
  event: 'call.summary';
  callId: string;
  /** The `record_id` of this call's exemplars on /metrics (src/metrics/record-id.ts). */
  recordId: string;
  outcome: string;
  turns: number;
  turnLatencyMs: { p50: number; p95: number; max: number } | null;
  tokens: { input: number; output: number; cacheRead: number; cacheWrite: number };
  modelRequests: number;
  costUsd: number;
}

/** Nearest-rank percentile of ascending values: always a latency that really happened. */
export function nearestRank(sorted: readonly number[], percentile: number): number {
  if (sorted.length === 0) throw new Error('nearestRank needs at least one value');
  const rank = Math.max(1, Math.ceil((percentile / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

/**
 * The counts of a call's ledger (`src/accounting/ledger.ts`) that its summary reports, named here
 * so that metrics, which accounting records into, does not depend on accounting.
 */
export type CallUsage = Readonly<Record<'inputTokens' | 'outputTokens' | 'cacheReadInputTokens' | 'cacheWriteInputTokens' | 'requests' | 'costUsd', number>>;

const ms = (seconds: number): number => Math.round(seconds * 10_000) / 10;

export function callSummary(input: { callId: string; outcome: string; turnLatenciesSeconds: readonly number[]; ledger: CallUsage }): CallSummary {
  const sorted = [...input.turnLatenciesSeconds].sort((a, b) => a - b);
  const { ledger } = input;
  return {
    event: 'call.summary',
    callId: input.callId,
    recordId: recordId(input.callId),
    outcome: input.outcome,
    turns: sorted.length,
    turnLatencyMs: sorted.length === 0 ? null : {
      p50: ms(nearestRank(sorted, 50)),
      p95: ms(nearestRank(sorted, 95)),
      max: ms(sorted.at(-1) as number),
    },
    tokens: { input: ledger.inputTokens, output: ledger.outputTokens, cacheRead: ledger.cacheReadInputTokens, cacheWrite: ledger.cacheWriteInputTokens },
    modelRequests: ledger.requests,
    costUsd: ledger.costUsd,
  };
}
