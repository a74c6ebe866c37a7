import type { ChatMessage } from '../llm/messages.js';

/** Role markers and block framing the tokenizer does not see in the plain text of a message. */
export const MESSAGE_OVERHEAD_TOKENS = 8;
/** Framing of the system prompt and the tool list in the request. */
export const REQUEST_OVERHEAD_TOKENS = 32;
/**
 * Claude averages 3.5–4.5 characters per token on English prose and fewer on JSON; 3 errs on the
 * side of counting too many, so the cheap estimate trims a little more rather than overflowing.
 */
export const FALLBACK_CHARS_PER_TOKEN = 3;

export const charsToTokens = (chars: number): number => Math.ceil(chars / FALLBACK_CHARS_PER_TOKEN);

/**
 * Tokens per UTF-16 unit that a count will not exceed for ordinary text: a byte-level BPE token
 * covers at least one UTF-8 byte and a unit is at most 3 bytes; the fourth leaves room for NFKC
 * expansions (only a handful of rare ligatures expand further).
 */
export const CEILING_TOKENS_PER_CHAR = 4;

export const charsToTokenCeiling = (chars: number): number => chars * CEILING_TOKENS_PER_CHAR;

/** Raw token counts of the parts of one request, before calibration. */
export interface RequestTokens {
  system: number;
  tools: number;
  messages: number[];
}

export interface TrimLimits {
  contextTokens: number;
  maxOutputTokens: number;
  budgetTokens?: number;
}

export interface TrimResult {
  history: ChatMessage[];
  droppedMessages: number;
  estimatedTokens: number;
}

/** The input tokens a request may hold: the context window less the answer, capped by the agent's budget. */
export function inputBudget(limits: TrimLimits): number {
  const window = limits.contextTokens - limits.maxOutputTokens;
  return limits.budgetTokens === undefined ? window : Math.min(window, limits.budgetTokens);
}

/**
 * A kept history may start only at a caller's message that answers no tool: starting anywhere else
 * would open with an assistant turn or orphan a toolResult from the toolUse it belongs to. Because
 * each toolUse (assistant) is followed directly by its toolResult (user), a suffix starting at such a
 * message never splits a pair.
 */
export const isHistoryStart = (message: ChatMessage): boolean =>
  message.role === 'user' && !message.content.some((block) => 'toolResult' in block);

/**
 * Keeps the longest suffix of the history that fits the budget with the system prompt and tools,
 * starting at a valid start. When even the newest valid start does not fit, it is kept anyway: the
 * request then carries the caller's current turn and the model reports the overflow, which beats
 * silently answering a question that was dropped. A history with no valid start keeps nothing.
 */
export function trimToBudget(history: ChatMessage[], tokens: RequestTokens, limits: TrimLimits, ratio = 1): TrimResult {
  const scale = (raw: number): number => Math.ceil(raw * ratio);
  const fixed = scale(tokens.system + tokens.tools + REQUEST_OVERHEAD_TOKENS);
  const budget = inputBudget(limits);
  let suffix = 0;
  let start = -1;
  let kept = fixed;
  for (let i = history.length - 1; i >= 0; i--) {
    suffix += scale((tokens.messages[i] ?? 0) + MESSAGE_OVERHEAD_TOKENS);
    const message = history[i] as ChatMessage;
    if (!isHistoryStart(message)) continue;
    if (start !== -1 && fixed + suffix > budget) break;
    start = i;
    kept = fixed + suffix;
  }
  if (start === -1) return { history: [], droppedMessages: history.length, estimatedTokens: fixed };
  return { history: history.slice(start), droppedMessages: start, estimatedTokens: kept };
}

/** Raw tokens of a request that keeps the history from `from` on, before calibration. */
export function keptTokens(tokens: RequestTokens, from: number): number {
  let total = tokens.system + tokens.tools + REQUEST_OVERHEAD_TOKENS;
  for (let i = from; i < tokens.messages.length; i++) total += (tokens.messages[i] ?? 0) + MESSAGE_OVERHEAD_TOKENS;
  return total;
}
