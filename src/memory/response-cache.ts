import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../log.js';
import { responseCacheRedisKey } from './redis-keys.js';

/**
 * Final answers worth reusing, such as an FAQ-like first turn that called no tools. The caller
 * decides what is cacheable and builds the key with `responseCacheKey`.
 */
export interface ResponseCache {
  get(key: string): Promise<string | undefined>;
  set(key: string, text: string): Promise<void>;
  stats(): { hits: number; misses: number; errors: number };
}

export interface ResponseCacheOptions {
  enabled: boolean;
  ttlSeconds: number;
  maxEntries: number;
}

/** Lower case, punctuation dropped, whitespace collapsed: "What are your hours?" = "what are your hours". */
export function normaliseUtterance(text: string): string {
  return text.toLowerCase().normalize('NFKC').replace(/[^\p{L}\p{N}\s]/gu, ' ').replace(/\s+/g, ' ').trim();
}

/** A fixed-length key for (agent, model, normalised utterance): safe in Redis, no caller text in key names. */
export function responseCacheKey(parts: { agent: string; model?: string; utterance: string }): string {
  return createHash('sha256').update(`${parts.agent}\u0000${parts.model ?? ''}\u0000${normaliseUtterance(parts.utterance)}`).digest('hex');
}

/** In Redis (SET EX) when the hot store is Redis, so every node shares hits; otherwise an in-process LRU. */
export function createResponseCache(options: ResponseCacheOptions & { redis: Redis | undefined; keyPrefix: string; log: Logger }): ResponseCache {
  const counts = { hits: 0, misses: 0, errors: 0 };
  const count = (text: string | undefined) => {
    if (text === undefined) counts.misses += 1;
    else counts.hits += 1;
    return text;
  };
  const stats = () => ({ ...counts });
  if (!options.enabled) {
    return { get: async () => count(undefined), set: async () => undefined, stats };
  }
  const { redis } = options;
  if (redis) {
    const fail = (operation: string, error: unknown) => {
      counts.errors += 1;
      options.log.warn({ event: 'memory.response_cache_failed', operation, error: (error as Error).message });
    };
    return {
      async get(key) {
        try {
          return count((await redis.get(responseCacheRedisKey(options.keyPrefix, key))) ?? undefined);
        } catch (error) {
          fail('get', error);
          return count(undefined);
        }
      },
      async set(key, text) {
        try {
          await redis.set(responseCacheRedisKey(options.keyPrefix, key), text, 'EX', options.ttlSeconds);
        } catch (error) {
          fail('set', error);
        }
      },
      stats,
    };
  }
  const lru = new LRUCache<string, string>({ max: options.maxEntries, ttl: options.ttlSeconds * 1000 });
  return {
    get: async (key) => count(lru.get(key)),
    set: async (key, text) => void lru.set(key, text),
    stats,
  };
}
