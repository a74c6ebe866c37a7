import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CallLedgers } from '../../src/accounting/ledger.js';
import { price, priceNanoUsd, type ModelPrices } from '../../src/accounting/pricing.js';
import type { TokenUsage } from '../../src/llm/messages.js';

// Catalogue defaults from docs/bedrock.md ($ per MTok: in / out / cache write 5 min / cache read).
const sonnet45: ModelPrices = { inputPerMTok: 3, outputPerMTok: 15, cacheWritePerMTok: 3.75, cacheReadPerMTok: 0.3 };
const haiku35: ModelPrices = { inputPerMTok: 0.8, outputPerMTok: 4, cacheWritePerMTok: 1, cacheReadPerMTok: 0.08 };
const opus4: ModelPrices = { inputPerMTok: 15, outputPerMTok: 75, cacheWritePerMTok: 18.75, cacheReadPerMTok: 1.5 };

const usage = (partial: Partial<TokenUsage>): TokenUsage => ({ inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0, cacheWriteInputTokens: 0, ...partial });

describe('price', () => {
  it.each([
    ['input', usage({ inputTokens: 1_000_000 }), 3],
    ['output', usage({ outputTokens: 1_000_000 }), 15],
    ['cache write', usage({ cacheWriteInputTokens: 1_000_000 }), 3.75],
    ['cache read', usage({ cacheReadInputTokens: 1_000_000 }), 0.3],
  ])('charges a million %s tokens of Sonnet 4.5 at the catalogue price', (_kind, tokens, dollars) => {
    expect(price(tokens, sonnet45)).toBe(dollars);
  });

  it('prices a realistic voice turn to the cent-fraction', () => {
    // 1,234 fresh input, 2,048 written to cache, 10,000 read from cache, 87 spoken output tokens.
    const turn = usage({ inputTokens: 1234, cacheWriteInputTokens: 2048, cacheReadInputTokens: 10_000, outputTokens: 87 });
    // 1234×3 + 2048×3.75 + 10000×0.30 + 87×15 = 3702 + 7680 + 3000 + 1305 = 15,687 $/MTok·tokens
    expect(price(turn, sonnet45)).toBe(0.015687);
    // Haiku 3.5: 1234×0.8 + 2048×1 + 10000×0.08 + 87×4 = 987.2 + 2048 + 800 + 348 = 4,183.2
    expect(price(turn, haiku35)).toBe(0.0041832);
    // Opus 4: 1234×15 + 2048×18.75 + 10000×1.5 + 87×75 = 18510 + 38400 + 15000 + 6525 = 78,435
    expect(price(turn, opus4)).toBe(0.078435);
  });

  it('is exact in integer nano-dollars for any token counts', () => {
    fc.assert(fc.property(
      fc.nat(1_000_000), fc.nat(1_000_000), fc.nat(1_000_000), fc.nat(1_000_000),
      (inputTokens, outputTokens, cacheReadInputTokens, cacheWriteInputTokens) => {
        const nanos = priceNanoUsd({ inputTokens, outputTokens, cacheReadInputTokens, cacheWriteInputTokens }, haiku35);
        expect(Number.isSafeInteger(nanos)).toBe(true);
        expect(nanos).toBe(inputTokens * 800 + outputTokens * 4000 + cacheReadInputTokens * 80 + cacheWriteInputTokens * 1000);
      },
    ));
  });
});

describe('call ledger', () => {
  it('does not drift over many small turns', () => {
    const ledgers = new CallLedgers();
    const oneToken = usage({ cacheReadInputTokens: 1 });
    for (let i = 0; i < 100_000; i++) ledgers.add('call', oneToken, haiku35);
    // 100,000 × 0.08 $/MTok = $0.008 exactly; float sums of 8e-8 would not land on it.
    expect(ledgers.get('call').costUsd).toBe(0.008);
    expect(ledgers.get('call').requests).toBe(100_000);
  });
});
