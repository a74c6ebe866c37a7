import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { createConversationStore, type MemoryStats } from './conversation-store.js';
import { openDurableHistory, type DurableHistory } from './dynamo-history.js';
import { startEmbeddedDynamo, type EmbeddedDynamo } from './embedded-dynamo.js';
import type { HotStore } from './hot-store.js';
import { createMemoryHotStore } from './memory-hot-store.js';
import { PendingJournal } from './pending-journal.js';
import { connectRedis } from './redis-connection.js';
import { createRedisHotStore } from './redis-hot-store.js';
import { redactRedisUrl } from './redis-keys.js';
import { createResponseCache, type ResponseCache } from './response-cache.js';
import type { ConversationStore } from './store.js';
import { WriteBehindQueue } from './write-behind.js';

/** The memory section of the configuration (same shape as in src/config/schema.ts). */
export interface MemoryConfig {
  hot: 'auto' | 'redis' | 'memory';
  redisUrl: string;
  keyPrefix: string;
  hotTtlSeconds: number;
  durable: 'embedded' | 'aws' | 'none';
  dynamoEndpoint?: string;
  tableName: string;
  dataDir: string;
  writeBehind: { maxBatch: number; flushMs: number; maxQueue: number };
  responseCache: { enabled: boolean; ttlSeconds: number; maxEntries: number };
}

export interface OpenedMemory {
  store: ConversationStore;
  responseCache: ResponseCache;
  writeQueueDepth(): number;
  /** Counters for metrics: hot-store failures served another way, hits, durable reads. */
  stats(): MemoryStats & { written: number; unjournaled: number };
  /**
   * Settles when memory fails on its own: the embedded dynalite process exits or the Redis connection
   * ends for good. Never settles after `close`.
   */
  failed: Promise<Error>;
  close(): Promise<void>;
}

export interface OpenMemoryOptions extends MemoryConfig {
  region: string;
  windowMessages: number;
  /** The embedded DynamoDB another process runs for this one (a `serve --workers` primary): used instead of starting one. */
  embeddedDynamoEndpoint?: string;
}

/**
 * Opens conversation memory as configured: the hot store (Redis, or an in-process LRU), durable
 * history (embedded dynalite, AWS DynamoDB, or none), the crash-safe write-behind queue between them
 * (recovering what an earlier process left in its journal) and the response cache.
 */
export async function openMemory(options: OpenMemoryOptions, log: Logger): Promise<OpenedMemory> {
  const hotOptions = { windowMessages: options.windowMessages, ttlSeconds: options.hotTtlSeconds };
  const redis = await openRedis(options, log);
  const hot: HotStore = redis
    ? createRedisHotStore(redis, { ...hotOptions, keyPrefix: options.keyPrefix, log })
    : createMemoryHotStore(hotOptions);

  let embedded: EmbeddedDynamo | undefined;
  let durable: DurableHistory | undefined;
  let writer: WriteBehindQueue | undefined;
  try {
    const shared = options.durable === 'embedded' ? options.embeddedDynamoEndpoint : undefined;
    if (options.durable === 'embedded' && !shared) embedded = await startEmbeddedDynamo(options.dataDir);
    if (options.durable !== 'none') {
      const endpoint = embedded?.endpoint ?? shared ?? options.dynamoEndpoint;
      durable = await openDurableHistory({
        region: options.region,
        ...(endpoint ? { endpoint } : {}),
        tableName: options.tableName,
        localCredentials: embedded !== undefined || shared !== undefined || isLoopbackEndpoint(endpoint),
        log,
      });
      const { journal, recovered } = PendingJournal.open(join(options.dataDir, 'pending'), log);
      const history = durable;
      writer = new WriteBehindQueue({ ...options.writeBehind, write: (records) => history.write(records), journal, log });
      writer.restore(recovered);
    }
  } catch (error) {
    durable?.close();
    await embedded?.close();
    redis?.disconnect();
    throw error;
  }

  const store = createConversationStore({ hot, durable, writer, windowMessages: options.windowMessages, ttlSeconds: options.hotTtlSeconds, log });
  const responseCache = createResponseCache({ ...options.responseCache, redis, keyPrefix: options.keyPrefix, log });
  log.info({ event: 'memory.opened', hot: hot.kind, durable: options.durable, table: options.tableName, ...(embedded ? { dynalitePid: embedded.pid } : {}) });

  let closing = false;
  const failed = new Promise<Error>((resolve) => {
    embedded?.failed.then(resolve);
    // ioredis ends a connection only when told to or when its retry strategy gives up.
    redis?.once('end', () => resolve(new Error('the Redis connection ended')));
  }).then((error) => {
    if (!closing) return error;
    return new Promise<Error>(() => undefined);
  });

  return {
    store,
    responseCache,
    writeQueueDepth: () => writer?.depth() ?? 0,
    stats: () => ({ ...store.stats(), written: writer?.written() ?? 0, unjournaled: writer?.unjournaled() ?? 0 }),
    failed,
    async close() {
      closing = true;
      await store.close();
      await embedded?.close();
      await redis?.quit().catch(() => redis.disconnect());
    },
  };
}

async function openRedis(options: MemoryConfig, log: Logger): Promise<Redis | undefined> {
  if (options.hot === 'memory') return undefined;
  try {
    const redis = await connectRedis(options.redisUrl);
    log.info({ event: 'memory.redis_connected', url: redactRedisUrl(options.redisUrl) });
    return redis;
  } catch (error) {
    if (options.hot === 'redis') throw new Error(`memory.hot is 'redis' but ${(error as Error).message}`);
    log.warn({ event: 'memory.redis_unavailable', url: redactRedisUrl(options.redisUrl), error: (error as Error).message },
      'hot window in process memory: single node only');
    return undefined;
  }
}

/** A DynamoDB on this machine (dynalite, DynamoDB Local) accepts any credentials; AWS needs real ones. */
export function isLoopbackEndpoint(endpoint: string | undefined): boolean {
  if (!endpoint) return false;
  try {
    return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(endpoint).hostname);
  } catch {
    throw new Error(`memory.dynamoEndpoint: expected a URL such as http://127.0.0.1:8000, got ${JSON.stringify(endpoint)}`);
  }
}
