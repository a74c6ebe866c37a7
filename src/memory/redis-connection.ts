import { Redis } from 'ioredis';
import { redactRedisUrl } from './redis-keys.js';

/** How long `open` waits for the first PING before deciding Redis is not there. */
export const REDIS_PING_TIMEOUT_MS = 500;
/** A command slower than this fails, so a stalled Redis degrades a call instead of stalling it. */
const COMMAND_TIMEOUT_MS = 1_000;

/**
 * Opens the one Redis connection of the process and proves it answers PING. After that, commands
 * fail fast while it is away (no offline queue, one try) and it reconnects in the background.
 */
export async function connectRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: REDIS_PING_TIMEOUT_MS,
    commandTimeout: COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2_000),
    // Commands issued in one event-loop turn (many calls' snapshots, claims and windows) go out as one
    // pipeline, one socket write instead of one each. Without it serve made 7,833 write syscalls in
    // 10 s at 400 calls / 200 turns/s offered (bench/calls.ts under strace); with it 3,914 (docs/capacity.md).
    enableAutoPipelining: true,
  });
  // Errors surface on the commands that hit them; the emitter's copy would only crash the process.
  redis.on('error', () => undefined);
  try {
    await withTimeout(redis.connect().then(() => redis.ping()), REDIS_PING_TIMEOUT_MS);
    return redis;
  } catch (error) {
    redis.disconnect();
    throw new Error(`redis at ${redactRedisUrl(url)} did not answer PING within ${REDIS_PING_TIMEOUT_MS} ms: ${(error as Error).message}`);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
