import type { Redis } from 'ioredis';

/**
 * Redis key names. The call id is a hash tag (`{callId}`) so every key of one call lands in one
 * Redis Cluster slot and a script may touch them together.
 */
export interface CallKeys {
  msgs: string;
  seq: string;
  snap: string;
  grant: string;
}

export const callKeys = (prefix: string, callId: string): CallKeys => ({
  msgs: `${prefix}{${callId}}:msgs`,
  seq: `${prefix}{${callId}}:seq`,
  snap: `${prefix}{${callId}}:snap`,
  grant: `${prefix}{${callId}}:grant`,
});

export const responseCacheRedisKey = (prefix: string, key: string): string => `${prefix}rc:${key}`;

/** Deletes every key of a namespace; SCAN, not KEYS, so a shared Redis keeps answering others meanwhile. */
export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** The URL with its password replaced, for logs and error messages. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable redis url>';
  }
}
