import type { CallResult } from './simulated-caller.js';

/** The JSON report of `aybiza load --report` (docs/scenarios.md, "Runs"). */
export interface LoadReport {
  scenario: string;
  /** How the callers were paced: `phone`, `fast`, or `real time` (audio over `--transport twilio`). */
  pace: 'phone' | 'fast' | 'real time';
  arrivals: 'uniform' | 'poisson';
  calls: { started: number; completed: number; failed: number };
  turns: number;
  toolCalls: number;
  /** Answers cut short by a caller barging in (`clear` frames). */
  bargeIns: number;
  /** How long calls held a line, dialling to hangup: with the arrival rate, what sets the calls held at once (rate × length). */
  callLengthS: { mean: number; max: number };
  failures: Array<{ callId: string; scenario: string; step: number; reason: string }>;
  latencyMs: {
    turn: Percentiles;
    firstSay: Percentiles;
    ttft: Percentiles;
  };
  overheadMs: { p50: number; p95: number; p99: number };
  eventLoopLagMs: { p50: number; p99: number; max: number } | null;
  serverRssMb: number | null;
  durationS: number;
}

export interface Percentiles { p50: number; p90: number; p95: number; p99: number; max: number }

export const MAX_REPORTED_FAILURES = 100;

export function failuresOf(results: CallResult[]): LoadReport['failures'] {
  return results
    .filter((result) => !result.ok)
    .slice(0, MAX_REPORTED_FAILURES)
    .map((result) => ({ callId: result.callId, scenario: result.scenario, step: result.failure?.step ?? 0, reason: result.failure?.reason ?? 'unknown' }));
}

/** The human summary printed at the end of a run. */
export function formatSummary(report: LoadReport): string {
  const { calls, latencyMs, overheadMs } = report;
  const row = (name: string, p: Percentiles) =>
    `  ${name.padEnd(9)} p50 ${fmt(p.p50)}  p90 ${fmt(p.p90)}  p95 ${fmt(p.p95)}  p99 ${fmt(p.p99)}  max ${fmt(p.max)}`;
  const lines = [
    `scenario ${report.scenario}: ${calls.completed}/${calls.started} calls completed, ${calls.failed} failed, ${report.turns} turns, ${report.toolCalls} tool calls, ${report.bargeIns} barge-ins in ${report.durationS.toFixed(1)} s`,
    `pace ${report.pace}, ${report.arrivals} arrivals, call length mean ${report.callLengthS.mean.toFixed(1)} s, max ${report.callLengthS.max.toFixed(1)} s`,
    'latency (ms)',
    row('turn', latencyMs.turn),
    row('firstSay', latencyMs.firstSay),
    row('ttft', latencyMs.ttft),
    `  overhead  p50 ${fmt(overheadMs.p50)}  p95 ${fmt(overheadMs.p95)}  p99 ${fmt(overheadMs.p99)}`,
  ];
  if (report.eventLoopLagMs) lines.push(`event-loop lag (ms) p50 ${fmt(report.eventLoopLagMs.p50)}  p99 ${fmt(report.eventLoopLagMs.p99)}  max ${fmt(report.eventLoopLagMs.max)}`);
  if (report.serverRssMb !== null) lines.push(`server RSS ${report.serverRssMb} MB`);
  if (report.failures.length > 0) {
    lines.push(`failures (first ${report.failures.length}):`);
    for (const failure of report.failures) lines.push(`  ${failure.callId} [${failure.scenario}] step ${failure.step}: ${failure.reason}`);
  }
  return lines.join('\n');
}

const fmt = (ms: number) => ms.toFixed(1).padStart(7);
