import { afterEach, describe, expect, it } from 'vitest';
import { createAccounting, type Accounting } from '../../src/accounting/accounting.js';
import { charsToTokens, inputBudget, isHistoryStart, trimToBudget } from '../../src/accounting/trim.js';
import { messageChars } from '../../src/accounting/message-text.js';
import type { ChatMessage } from '../../src/llm/messages.js';
import { createMetrics, type RuntimeMetrics } from '../../src/metrics/metrics.js';
import { longHistory } from './history-fixture.js';

async function fallbacks(metrics: RuntimeMetrics): Promise<Record<string, number>> {
  const metric = await metrics.trimFallbacks.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.reason), v.value]));
}

describe('trim fallback when the pool cannot answer in time', () => {
  let accounting: Accounting | undefined;
  afterEach(() => accounting?.close());

  const request = (history: ChatMessage[]) => ({
    modelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0', contextTokens: 200_000, maxOutputTokens: 4_000, budgetTokens: 20_000,
    system: 'You answer phone calls for a clinic.', toolsJson: '[]', history,
  });

  it('uses the character estimate at once when every worker is busy and the queue is full', async () => {
    const metrics = createMetrics();
    accounting = createAccounting({ poolSize: 1, queueMax: 1, trimTimeoutMs: 60_000, metrics });
    const history = longHistory(100_000);
    const results = await Promise.all(Array.from({ length: 6 }, () => accounting!.trimHistory(request(history))));
    const counted = await fallbacks(metrics);
    // One running and one queued; the other four never waited on the pool.
    expect(counted.saturated).toBe(4);
    expect(results.filter((r) => r.tokenizerTokens === undefined)).toHaveLength(4);
    for (const result of results) {
      expect(isHistoryStart(result.history[0] as ChatMessage)).toBe(true);
      expect(result.estimatedTokens).toBeLessThanOrEqual(inputBudget(request(history)));
    }
  });

  it('uses the character estimate when the pool is slower than the trim timeout', async () => {
    const metrics = createMetrics();
    accounting = createAccounting({ poolSize: 1, queueMax: 8, trimTimeoutMs: 1, metrics });
    const result = await accounting.trimHistory(request(longHistory(150_000)));
    expect((await fallbacks(metrics)).timeout).toBe(1);
    expect(result.tokenizerTokens).toBeUndefined();
    expect(result.droppedMessages).toBeGreaterThan(0);
    expect(result.estimatedTokens).toBeLessThanOrEqual(20_000);
  });

  it('errs towards trimming more with the character estimate than with the tokenizer', async () => {
    const metrics = createMetrics();
    accounting = createAccounting({ poolSize: 1, queueMax: 0, trimTimeoutMs: 60_000, metrics });
    const history = longHistory(60_000);
    const [exact, cheap] = await Promise.all([accounting.trimHistory(request(history)), accounting.trimHistory(request(history))]);
    expect(exact!.tokenizerTokens).toBeDefined();
    expect(cheap!.tokenizerTokens).toBeUndefined();
    expect(cheap!.droppedMessages).toBeGreaterThanOrEqual(exact!.droppedMessages);
  });

  const shortCall: ChatMessage[] = [
    { role: 'user', content: [{ text: 'Hi, when are you open on Saturday?' }] },
    { role: 'assistant', content: [{ text: 'We are open from nine to one on Saturdays. Would you like to book?' }] },
    { role: 'user', content: [{ text: 'Yes, this Saturday at ten please.' }] },
  ];
  /** What the in-thread character estimate charges for a request (trim.ts), which the skip must charge too. */
  const characterEstimate = (history: ChatMessage[]) => trimToBudget(history, {
    system: charsToTokens(request(history).system.length),
    tools: charsToTokens(request(history).toolsJson.length),
    messages: history.map((message) => charsToTokens(messageChars(message))),
  }, request(history)).estimatedTokens;

  it('does not count when even a worst-case count keeps the whole history, and charges the character estimate', async () => {
    const metrics = createMetrics();
    accounting = createAccounting({ poolSize: 1, queueMax: 8, trimTimeoutMs: 60_000, metrics });
    await accounting.ready();
    const result = await accounting.trimHistory(request(shortCall));
    expect(result.history).toEqual(shortCall);
    expect(result.droppedMessages).toBe(0);
    expect(result.tokenizerTokens).toBeUndefined();
    // Not the worst case (4 tokens per character) that decided nothing needs dropping.
    expect(result.estimatedTokens).toBe(characterEstimate(shortCall));
    expect((await metrics.trimSkips.get()).values[0]?.value).toBe(1);
    expect(await fallbacks(metrics)).toEqual({});
  });

  it('does not wait for a busy pool when even a worst-case count keeps the whole history', async () => {
    const metrics = createMetrics();
    accounting = createAccounting({ poolSize: 1, queueMax: 8, trimTimeoutMs: 60_000, metrics });
    const busy = accounting.trimHistory(request(longHistory(150_000)));
    const result = await accounting.trimHistory(request(shortCall));
    expect(result.history).toEqual(shortCall);
    expect(result.tokenizerTokens).toBeUndefined();
    expect((await metrics.trimSkips.get()).values[0]?.value).toBe(1);
    expect(await fallbacks(metrics)).toEqual({});
    expect((await busy).tokenizerTokens).toBeDefined();
  });

  it('still counts behind a busy pool when a worst-case count would drop messages', async () => {
    const metrics = createMetrics();
    accounting = createAccounting({ poolSize: 1, queueMax: 8, trimTimeoutMs: 60_000, metrics });
    const history = longHistory(8_000);
    const [first, second] = await Promise.all([accounting.trimHistory(request(history)), accounting.trimHistory(request(history))]);
    expect(first!.tokenizerTokens).toBeDefined();
    expect(second!.tokenizerTokens).toBeDefined();
    expect((await metrics.trimSkips.get()).values[0]?.value ?? 0).toBe(0);
  });
});
