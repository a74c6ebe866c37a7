/** Output is counted as characters / 4, rounded up: stable, and close enough to Claude's tokenizer for English. */
export const estimateTokens = (chars: number): number => Math.ceil(chars / 4);

/**
 * Splits text into token-sized pieces: up to four non-space characters with the whitespace
 * before them, never joining two words. The pieces concatenate back to the exact text.
 */
export function textPieces(text: string): string[] {
  return text.match(/\s*\S{1,4}|\s+$/gu) ?? [];
}

/**
 * Splits serialized tool input into a few partial-JSON pieces, as Bedrock streams it, so a client
 * must concatenate before parsing.
 */
export function jsonPieces(json: string, pieces = 4): string[] {
  if (json.length <= 1) return [json];
  const size = Math.max(1, Math.ceil(json.length / pieces));
  const out: string[] = [];
  for (let start = 0; start < json.length; start += size) out.push(json.slice(start, start + size));
  return out;
}

/** Index of the first character of text that ends a sentence, or -1. */
export const firstSentenceEnd = (text: string): number => text.search(/[.!?]/);
