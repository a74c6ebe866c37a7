import { describe, expect, it } from 'vitest';
import { callSummary, nearestRank } from '../../src/metrics/call-summary.js';
import { recordId } from '../../src/metrics/record-id.js';

const ledger = { inputTokens: 1_500, outputTokens: 140, cacheReadInputTokens: 4_000, cacheWriteInputTokens: 2_000, costUsd: 0.0139, requests: 3 };

describe('end-of-call summary line', () => {
  it('reports the call\'s own latency percentiles, turns, tokens and cost', () => {
    const summary = callSummary({ callId: 'c1', outcome: 'completed', turnLatenciesSeconds: [0.9, 0.31, 0.45, 0.52, 1.7], ledger });
    expect(summary).toEqual({
      event: 'call.summary', callId: 'c1', recordId: recordId('c1'), outcome: 'completed', turns: 5,
      turnLatencyMs: { p50: 520, p95: 1700, max: 1700 },
      tokens: { input: 1_500, output: 140, cacheRead: 4_000, cacheWrite: 2_000 },
      modelRequests: 3, costUsd: 0.0139,
    });
  });

  it('names the call by a record id that is stable within the process and reveals nothing of the call id', () => {
    expect(recordId('c1')).toBe(recordId('c1'));
    expect(recordId('c1')).not.toBe(recordId('c2'));
    expect(recordId('c1')).toMatch(/^[0-9a-f]{32}$/);
  });

  it('has no latency for a call that never reached a turn', () => {
    expect(callSummary({ callId: 'c2', outcome: 'hangup', turnLatenciesSeconds: [], ledger }).turnLatencyMs).toBeNull();
  });

  it('takes percentiles by nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(nearestRank(values, 50)).toBe(50);
    expect(nearestRank(values, 99)).toBe(99);
    expect(nearestRank([7], 95)).toBe(7);
  });
});
