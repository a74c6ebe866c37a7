import { setImmediate as nextLoopTurn } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createAccounting } from '../../src/accounting/accounting.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { longHistory } from './history-fixture.js';

// How late the loop runs under 50 trims per second is measured by bench/accounting.ts; this checks
// the behaviour that keeps it low: the estimate is counted off the main thread.
describe('event loop while the pool estimates long contexts', () => {
  const accounting = createAccounting({ poolSize: 1, queueMax: 16, trimTimeoutMs: 5_000, metrics: createMetrics() });
  afterAll(() => accounting.close());

  it('keeps turning while a 150,000-token context is counted, and the count comes from the tokenizer', async () => {
    const history = longHistory(150_000);
    const request = { modelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0', contextTokens: 200_000, maxOutputTokens: 4_000, system: 'You answer calls.', toolsJson: '[]', history };
    await accounting.ready();

    let trimmed = false;
    const trim = accounting.trimHistory(request).then((result) => {
      trimmed = true;
      return result;
    });
    await nextLoopTurn();
    // A count on the main thread would have finished before the loop turned once.
    expect(trimmed).toBe(false);
    const result = await trim;
    expect(result.droppedMessages).toBe(0);
    // The Claude tokenizer's count of this fixture; the in-thread fallback counts characters and would not set it.
    expect(result.tokenizerTokens).toBe(98_293);
  });
});
