import type { TokenUsage } from '../llm/messages.js';

/** Catalogue prices in US dollars per million tokens, one per kind of token Bedrock bills. */
export interface ModelPrices {
  inputPerMTok: number;
  outputPerMTok: number;
  cacheWritePerMTok: number;
  cacheReadPerMTok: number;
}

/**
 * Costs are kept in integer nano-dollars. A price of P $/MTok is P × 1000 n$ per token, an integer
 * for every catalogue price with at most three decimals (0.08, 18.75, 22.50), so a ledger summed
 * over thousands of turns never drifts the way repeated float additions of 0.000003 would.
 * Integers stay exact up to 2^53 n$ ≈ $9 million.
 */
export const NANO_USD_PER_USD = 1_000_000_000;

/** n$ per token for a $/MTok price; rounding only bites for prices with more than three decimals. */
export const nanoUsdPerToken = (usdPerMTok: number): number => Math.round(usdPerMTok * 1000);

/**
 * The cost of one request's usage in nano-dollars. Thinking tokens are billed as output tokens and
 * Bedrock already counts them in `outputTokens`, so they need no term of their own.
 */
export function priceNanoUsd(usage: TokenUsage, prices: ModelPrices): number {
  return (
    usage.inputTokens * nanoUsdPerToken(prices.inputPerMTok) +
    usage.outputTokens * nanoUsdPerToken(prices.outputPerMTok) +
    usage.cacheWriteInputTokens * nanoUsdPerToken(prices.cacheWritePerMTok) +
    usage.cacheReadInputTokens * nanoUsdPerToken(prices.cacheReadPerMTok)
  );
}

/** The cost of one request's usage in US dollars. */
export const price = (usage: TokenUsage, prices: ModelPrices): number =>
  priceNanoUsd(usage, prices) / NANO_USD_PER_USD;
