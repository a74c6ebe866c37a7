import { getTokenizer } from '@anthropic-ai/tokenizer';
import { LRUCache } from 'lru-cache';
import type { ChatMessage } from '../llm/messages.js';
import { messageText } from './message-text.js';
import type { RequestTokens } from './trim.js';

export interface EstimateTask {
  system: string;
  toolsJson: string;
  history: ChatMessage[];
}

/**
 * This module runs once per worker thread, so these are per-thread, not per-process: the tokenizer
 * takes ~140 ms to build from its 600 kB rank table and is reused for every task, and the cache
 * spares re-tokenizing the same older messages that every turn of a call sends again.
 */
const tokenizer = getTokenizer();
const counts = new LRUCache<string, number>({ max: 20_000, maxSize: 8_000_000, sizeCalculation: (_count, text) => Math.max(1, text.length) });

function countTokens(text: string): number {
  if (text.length === 0) return 0;
  const cached = counts.get(text);
  if (cached !== undefined) return cached;
  const count = tokenizer.encode(text.normalize('NFKC'), 'all').length;
  counts.set(text, count);
  return count;
}

/** Raw Claude-tokenizer counts of a request's system prompt, tool list and each history message. */
export default function estimate(task: EstimateTask): RequestTokens {
  return {
    system: countTokens(task.system),
    tools: countTokens(task.toolsJson),
    messages: task.history.map((message) => countTokens(messageText(message))),
  };
}
