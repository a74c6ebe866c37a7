import type { TokenUsage } from '../llm/messages.js';
import { NANO_USD_PER_USD, priceNanoUsd, type ModelPrices } from './pricing.js';

/** What one call has consumed so far. */
export interface Ledger {
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheWriteInputTokens: number;
  costUsd: number;
  requests: number;
}

interface Entry extends Omit<Ledger, 'costUsd'> {
  costNanoUsd: number;
}

const empty = (): Entry => ({ inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0, cacheWriteInputTokens: 0, costNanoUsd: 0, requests: 0 });

function checkUsage(usage: TokenUsage, prices: ModelPrices): void {
  for (const field of ['inputTokens', 'outputTokens', 'cacheReadInputTokens', 'cacheWriteInputTokens'] as const) {
    const value = usage?.[field];
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`usage.${field} must be a non-negative integer, got ${String(value)}`);
  }
  for (const field of ['inputPerMTok', 'outputPerMTok', 'cacheWritePerMTok', 'cacheReadPerMTok'] as const) {
    const value = prices?.[field];
    if (!Number.isFinite(value) || value < 0) throw new Error(`prices.${field} must be a non-negative number of USD per million tokens, got ${String(value)}`);
  }
}

/** Per-call ledgers summed in integer nano-dollars; dollars appear only when read. */
export class CallLedgers {
  private readonly entries = new Map<string, Entry>();

  /** Adds one request's usage to the call and returns its cost in US dollars. */
  add(callId: string, usage: TokenUsage, prices: ModelPrices): number {
    checkUsage(usage, prices);
    const nanos = priceNanoUsd(usage, prices);
    const entry = this.entries.get(callId) ?? empty();
    entry.inputTokens += usage.inputTokens;
    entry.outputTokens += usage.outputTokens;
    entry.cacheReadInputTokens += usage.cacheReadInputTokens;
    entry.cacheWriteInputTokens += usage.cacheWriteInputTokens;
    entry.costNanoUsd += nanos;
    entry.requests += 1;
    this.entries.set(callId, entry);
    return nanos / NANO_USD_PER_USD;
  }

  get(callId: string): Ledger {
    const { costNanoUsd, ...tokens } = this.entries.get(callId) ?? empty();
    return { ...tokens, costUsd: costNanoUsd / NANO_USD_PER_USD };
  }

  delete(callId: string): void {
    this.entries.delete(callId);
  }
}
