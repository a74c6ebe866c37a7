import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createAccounting } from '../../src/accounting/accounting.js';
import { inputBudget, isHistoryStart, keptTokens, trimToBudget, type RequestTokens } from '../../src/accounting/trim.js';
import type { ChatMessage } from '../../src/llm/messages.js';
import { createMetrics } from '../../src/metrics/metrics.js';

/** A caller turn: the transcript, zero or more tool rounds, and usually a spoken answer. */
const turnArbitrary = (turn: number) => fc.record({
  toolRounds: fc.nat(2),
  answered: fc.boolean(),
}).map(({ toolRounds, answered }): ChatMessage[] => {
  const messages: ChatMessage[] = [{ role: 'user', content: [{ text: `caller turn ${turn}` }] }];
  for (let round = 0; round < toolRounds; round++) {
    const toolUseId = `t${turn}-${round}`;
    messages.push({ role: 'assistant', content: [{ text: 'one moment' }, { toolUse: { toolUseId, name: 'lookup', input: { round } } }] });
    messages.push({ role: 'user', content: [{ toolResult: { toolUseId, content: [{ json: { ok: true } }], status: 'success' } }] });
  }
  if (answered) messages.push({ role: 'assistant', content: [{ text: `answer ${turn}` }] });
  return messages;
});

const historyArbitrary = fc.integer({ min: 1, max: 12 })
  .chain((turns) => fc.tuple(...Array.from({ length: turns }, (_, turn) => turnArbitrary(turn))))
  .map((turns) => turns.flat());

const caseArbitrary = historyArbitrary.chain((history) => fc.record({
  history: fc.constant(history),
  tokens: fc.record({
    system: fc.integer({ min: 0, max: 2_000 }),
    tools: fc.integer({ min: 0, max: 2_000 }),
    messages: fc.array(fc.integer({ min: 1, max: 800 }), { minLength: history.length, maxLength: history.length }),
  }),
  contextTokens: fc.integer({ min: 1_000, max: 12_000 }),
  maxOutputTokens: fc.integer({ min: 0, max: 900 }),
  budgetTokens: fc.option(fc.integer({ min: 500, max: 12_000 }), { nil: undefined }),
}));

const toolUseIds = (messages: ChatMessage[]): string[] =>
  messages.flatMap((m) => m.content.flatMap((b) => ('toolUse' in b ? [b.toolUse.toolUseId] : [])));
const toolResultIds = (messages: ChatMessage[]): string[] =>
  messages.flatMap((m) => m.content.flatMap((b) => ('toolResult' in b ? [b.toolResult.toolUseId] : [])));

describe('trimming history to the context budget', () => {
  it('keeps the newest messages that fit, starting at a caller message, with tool pairs intact', () => {
    fc.assert(fc.property(caseArbitrary, ({ history, tokens, ...limits }) => {
      const result = trimToBudget(history, tokens as RequestTokens, limits);
      const budget = inputBudget(limits);
      const starts = history.flatMap((m, i) => (isHistoryStart(m) ? [i] : []));
      const newestStart = starts.at(-1) as number;

      expect(result.history).toEqual(history.slice(result.droppedMessages));
      expect(result.estimatedTokens).toBe(keptTokens(tokens, result.droppedMessages));
      expect(isHistoryStart(result.history[0] as ChatMessage)).toBe(true);
      expect(toolResultIds(result.history).sort()).toEqual(toolUseIds(result.history).sort());
      if (result.estimatedTokens > budget) {
        // Only the caller's current turn may overflow, and only when nothing smaller is possible.
        expect(result.droppedMessages).toBe(newestStart);
      } else {
        const older = starts.filter((i) => i < result.droppedMessages).at(-1);
        if (older !== undefined) expect(keptTokens(tokens, older)).toBeGreaterThan(budget);
      }
    }), { numRuns: 500 });
  });

  it('caps the budget by the agent\'s token budget as well as the context window', () => {
    expect(inputBudget({ contextTokens: 200_000, maxOutputTokens: 4_000 })).toBe(196_000);
    expect(inputBudget({ contextTokens: 200_000, maxOutputTokens: 4_000, budgetTokens: 20_000 })).toBe(20_000);
  });

  it('scales every part of the estimate by the calibration ratio', () => {
    const history: ChatMessage[] = [{ role: 'user', content: [{ text: 'hi' }] }];
    const tokens: RequestTokens = { system: 100, tools: 0, messages: [10] };
    const raw = trimToBudget(history, tokens, { contextTokens: 10_000, maxOutputTokens: 0 });
    const scaled = trimToBudget(history, tokens, { contextTokens: 10_000, maxOutputTokens: 0 }, 1.5);
    expect(scaled.estimatedTokens).toBeGreaterThanOrEqual(Math.floor(raw.estimatedTokens * 1.5));
  });
});

describe('trimming on the accounting pool', () => {
  const metrics = createMetrics();
  const accounting = createAccounting({ poolSize: 1, queueMax: 8, trimTimeoutMs: 20_000, metrics });
  afterAll(() => accounting.close());

  it('keeps the system prompt budget and drops the oldest turns with the Claude tokenizer', async () => {
    const filler = 'The caller asked about opening hours and parking near the clinic. '.repeat(40);
    const history: ChatMessage[] = [];
    for (let turn = 0; turn < 10; turn++) {
      history.push({ role: 'user', content: [{ text: `${turn}: ${filler}` }] });
      history.push({ role: 'assistant', content: [{ toolUse: { toolUseId: `t${turn}`, name: 'hours', input: { turn } } }] });
      history.push({ role: 'user', content: [{ toolResult: { toolUseId: `t${turn}`, content: [{ text: filler }], status: 'success' } }] });
      history.push({ role: 'assistant', content: [{ text: `answer ${turn}` }] });
    }
    const system = 'You are the receptionist of a dental clinic. '.repeat(50);
    const result = await accounting.trimHistory({
      modelId: 'anthropic.claude-haiku-4-5-20251001-v1:0', contextTokens: 200_000, maxOutputTokens: 1_000, budgetTokens: 6_000,
      system, toolsJson: '[]', history,
    });
    expect(result.droppedMessages).toBeGreaterThan(0);
    expect(result.droppedMessages % 4).toBe(0);
    expect(result.history.at(-1)).toEqual(history.at(-1));
    expect(result.estimatedTokens).toBeLessThanOrEqual(6_000);
    expect(result.tokenizerTokens).toBe(result.estimatedTokens);
    const fallbacks = await metrics.registry.getSingleMetric('aybiza_accounting_trim_fallbacks_total')?.get();
    expect(fallbacks?.values ?? []).toEqual([]);
  });
});
