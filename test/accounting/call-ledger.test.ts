import { afterAll, describe, expect, it } from 'vitest';
import { createAccounting } from '../../src/accounting/accounting.js';
import { CallLedgers } from '../../src/accounting/ledger.js';
import type { ModelPrices } from '../../src/accounting/pricing.js';
import { createMetrics } from '../../src/metrics/metrics.js';

const sonnet: ModelPrices = { inputPerMTok: 3, outputPerMTok: 15, cacheWritePerMTok: 3.75, cacheReadPerMTok: 0.3 };
const haiku: ModelPrices = { inputPerMTok: 1, outputPerMTok: 5, cacheWritePerMTok: 1.25, cacheReadPerMTok: 0.1 };

describe('per-call ledger', () => {
  const metrics = createMetrics();
  const accounting = createAccounting({ poolSize: 1, queueMax: 4, trimTimeoutMs: 1_000, metrics });
  afterAll(() => accounting.close());

  it('folds every request of a call into its ledger and the cost metric by model and agent', async () => {
    accounting.recordUsage({ callId: 'c1', agent: 'clinic', modelId: 'sonnet', prices: sonnet, usage: { inputTokens: 1_000, outputTokens: 100, cacheReadInputTokens: 4_000, cacheWriteInputTokens: 2_000 } });
    accounting.recordUsage({ callId: 'c1', agent: 'clinic', modelId: 'haiku', prices: haiku, usage: { inputTokens: 500, outputTokens: 40, cacheReadInputTokens: 0, cacheWriteInputTokens: 0 } });
    accounting.recordUsage({ callId: 'c2', agent: 'shop', modelId: 'haiku', prices: haiku, usage: { inputTokens: 10, outputTokens: 10, cacheReadInputTokens: 0, cacheWriteInputTokens: 0 } });

    // c1: sonnet 3000 + 1500 + 1200 + 7500 = 13,200; haiku 500 + 200 = 700 → 13,900 µ$
    expect(accounting.costSoFar('c1')).toBe(0.0139);
    expect(accounting.ledger('c1')).toEqual({ inputTokens: 1_500, outputTokens: 140, cacheReadInputTokens: 4_000, cacheWriteInputTokens: 2_000, costUsd: 0.0139, requests: 2 });
    expect(accounting.price({ inputTokens: 10, outputTokens: 10, cacheReadInputTokens: 0, cacheWriteInputTokens: 0 }, haiku)).toBe(0.00006);

    const cost = await metrics.costUsd.get();
    const byLabels = Object.fromEntries(cost.values.map((v) => [`${v.labels.model}/${v.labels.agent}`, v.value]));
    expect(byLabels['sonnet/clinic']).toBeCloseTo(0.0132, 12);
    expect(byLabels['haiku/clinic']).toBeCloseTo(0.0007, 12);
    expect(byLabels['haiku/shop']).toBeCloseTo(0.00006, 12);
  });

  it('forgets a call and reads an unknown call as empty', () => {
    accounting.forget('c1');
    expect(accounting.costSoFar('c1')).toBe(0);
    expect(accounting.ledger('nobody')).toEqual({ inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0, cacheWriteInputTokens: 0, costUsd: 0, requests: 0 });
  });

  it('rejects a configuration that cannot work, naming the field', () => {
    expect(() => createAccounting({ poolSize: 0, queueMax: 4, trimTimeoutMs: 100, metrics })).toThrow(/accounting\.poolSize/);
    expect(() => createAccounting({ poolSize: 1, queueMax: 4, trimTimeoutMs: 0, metrics })).toThrow(/accounting\.trimTimeoutMs/);
  });
});

describe('bad usage records', () => {
  it('are refused by the ledger with the field named, and never thrown at the caller\'s turn', async () => {
    const ledgers = new CallLedgers();
    const usage = { inputTokens: 1, outputTokens: 1, cacheReadInputTokens: 0, cacheWriteInputTokens: 0 };
    expect(() => ledgers.add('c', { ...usage, outputTokens: -3 }, sonnet)).toThrow('usage.outputTokens must be a non-negative integer, got -3');
    expect(() => ledgers.add('c', usage, { ...sonnet, cacheReadPerMTok: Number.NaN })).toThrow(/prices\.cacheReadPerMTok/);

    const accounting = createAccounting({ poolSize: 1, queueMax: 1, trimTimeoutMs: 1_000, metrics: createMetrics() });
    expect(() => accounting.recordUsage({ callId: 'c', agent: 'a', modelId: 'm', usage, prices: undefined as unknown as ModelPrices })).not.toThrow();
    expect(accounting.ledger('c').requests).toBe(0);
    await accounting.close();
  });
});
