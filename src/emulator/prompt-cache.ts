import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { ConverseRequest } from './converse-request.js';
import { estimateTokens } from './token-pieces.js';

export interface CacheUsage {
  cacheReadInputTokens: number;
  cacheWriteInputTokens: number;
}

/**
 * Emulates Bedrock prompt caching: the prompt prefix before each cache point (tools, then system,
 * then messages, as Claude orders them) is written the first time it is seen and read afterwards.
 * A cache point before the model's minimum prompt length caches nothing, as on Bedrock.
 */
export class PromptCache {
  private readonly prefixes: LRUCache<string, true>;

  constructor(maxPrefixes = 10_000) {
    this.prefixes = new LRUCache({ max: maxPrefixes });
  }

  /** Undefined when the request has no cache point (Bedrock then omits the cache fields). */
  /** `minimumTokens` is the model's smallest cacheable prefix (bedrock-models.json). */
  account(modelId: string, minimumTokens: number, request: ConverseRequest): CacheUsage | undefined {
    const blocks = [
      ...(request.toolConfig?.tools ?? []),
      ...(request.system ?? []),
      ...request.messages.flatMap((message) => [{ role: message.role }, ...message.content]),
    ] as Array<Record<string, unknown>>;
    if (!blocks.some((block) => block.cachePoint !== undefined)) return undefined;

    const minimum = minimumTokens;
    const hash = createHash('sha256').update(modelId);
    let chars = 0;
    let read = 0;
    let cachedUpTo = 0;
    for (const block of blocks) {
      if (block.cachePoint === undefined) {
        const json = JSON.stringify(block);
        chars += json.length;
        hash.update(json);
        continue;
      }
      const tokens = estimateTokens(chars);
      if (tokens < minimum) continue;
      const key = hash.copy().digest('base64');
      if (this.prefixes.has(key)) read = tokens;
      else this.prefixes.set(key, true);
      cachedUpTo = tokens;
    }
    return { cacheReadInputTokens: read, cacheWriteInputTokens: Math.max(0, cachedUpTo - read) };
  }
}
