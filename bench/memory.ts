import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import dynalite from 'dynalite';
import { Redis } from 'ioredis';
import type { ChatMessage } from '../src/llm/messages.js';
import { createLogger } from '../src/log.js';
import { openMemory, type MemoryConfig } from '../src/memory/create.js';
import { callKeys, deleteKeysWithPrefix } from '../src/memory/redis-keys.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CALLS = 50;
const TURNS = 20;
const WINDOW = 10;

/** One step of a call: remember the caller, remember the answer, read the context for the next turn. */
interface Memory {
  remember(callId: string, message: ChatMessage): Promise<unknown>;
  context(callId: string, lastN: number): Promise<unknown>;
}

const message = (role: ChatMessage['role'], text: string): ChatMessage => ({ role, content: [{ text }] });

/** Operations per second for CALLS concurrent calls of TURNS turns (3 operations a turn). */
async function throughput(memory: Memory, label: string, calls = CALLS, turns = TURNS): Promise<number> {
  const started = performance.now();
  await Promise.all(Array.from({ length: calls }, async (_, c) => {
    const callId = `${label}-${c}`;
    for (let t = 0; t < turns; t += 1) {
      await memory.remember(callId, message('user', `question ${t} about opening hours and parking`));
      await memory.remember(callId, message('assistant', `answer ${t}: we open at nine and parking is free behind the building`));
      await memory.context(callId, WINDOW);
    }
  }));
  return (calls * turns * 3) / ((performance.now() - started) / 1000);
}

/** The naive shape: every step its own awaited command on a shared connection. */
function naiveRedis(redis: Redis, prefix: string): Memory {
  return {
    async remember(callId, msg) {
      const keys = callKeys(prefix, callId);
      const seq = await redis.incr(keys.seq);
      await redis.rpush(keys.msgs, JSON.stringify({ seq, ts: Date.now(), ...msg }));
      await redis.ltrim(keys.msgs, -WINDOW, -1);
      await redis.expire(keys.msgs, 3600);
      await redis.expire(keys.seq, 3600);
    },
    async context(callId, lastN) {
      return (await redis.lrange(callKeys(prefix, callId).msgs, -lastN, -1)).map((entry) => JSON.parse(entry) as unknown);
    },
  };
}

/** The source design's shape: a new connection for every operation. */
function connectionPerOperation(prefix: string): Memory {
  const once = async <T>(work: (redis: Redis) => Promise<T>): Promise<T> => {
    const redis = new Redis(REDIS_URL);
    try {
      return await work(redis);
    } finally {
      await redis.quit();
    }
  };
  return {
    remember: (callId, msg) => once((redis) => naiveRedis(redis, prefix).remember(callId, msg)),
    context: (callId, lastN) => once((redis) => naiveRedis(redis, prefix).context(callId, lastN)),
  };
}

function options(overrides: Partial<MemoryConfig> & Pick<MemoryConfig, 'keyPrefix' | 'dataDir'>): MemoryConfig & { region: string; windowMessages: number } {
  return {
    hot: 'redis', redisUrl: REDIS_URL, hotTtlSeconds: 3600, durable: 'none', tableName: 'conversations',
    writeBehind: { maxBatch: 25, flushMs: 20, maxQueue: 100_000 },
    responseCache: { enabled: false, ttlSeconds: 300, maxEntries: 1 },
    region: 'us-east-1', windowMessages: WINDOW, ...overrides,
  };
}

async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  await deleteKeysWithPrefix(redis, prefix);
  await redis.quit();
}

/** Records per second from `remember` until the write-behind queue has put them all in dynalite. */
async function writeBehindThroughput(endpoint: string, dataDir: string, maxBatch: number, records: number): Promise<number> {
  const memory = await openMemory(options({
    keyPrefix: 'unused:', dataDir, hot: 'memory', durable: 'aws', dynamoEndpoint: endpoint, tableName: `bench_${maxBatch}`,
    writeBehind: { maxBatch, flushMs: 5, maxQueue: 100_000 },
  }), createLogger({ level: 'warn' }));
  const calls = 20;
  const started = performance.now();
  await Promise.all(Array.from({ length: calls }, async (_, c) => {
    for (let i = 0; i < records / calls; i += 1) await memory.store.remember(`wb-${maxBatch}-${c}`, message('user', `message ${i}`));
  }));
  while (memory.writeQueueDepth() > 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const elapsedMs = performance.now() - started;
  await memory.close();
  return records / (elapsedMs / 1000);
}

export async function run(): Promise<void> {
  const log = createLogger({ level: 'warn' });
  const prefix = `aybiza-bench:${process.pid}:`;
  const dataDir = mkdtempSync(join(tmpdir(), 'aybiza-bench-memory-'));
  const server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const dynamoEndpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const pipelined = await openMemory(options({ keyPrefix: `${prefix}store:`, dataDir }), log);
    const inProcess = await openMemory(options({ keyPrefix: `${prefix}lru:`, dataDir, hot: 'memory' }), log);
    const shared = new Redis(REDIS_URL);
    const variants = { naive: naiveRedis(shared, `${prefix}naive:`), store: pipelined.store, lru: inProcess.store };
    // Warm-up: scripts loaded, connections open, code compiled, before anything is timed.
    for (const [name, memory] of Object.entries(variants)) await throughput(memory, `warm-${name}`, 10, 10);
    for (const calls of [1, CALLS]) {
      const turns = calls === 1 ? 300 : TURNS;
      const naive = await throughput(variants.naive, `naive-${calls}`, calls, turns);
      // Fewer operations: each one pays a TCP connect, and the source design would run out of sockets first.
      const perOperation = await throughput(connectionPerOperation(`${prefix}per-op:`), `per-op-${calls}`, Math.min(calls, 10), 10);
      const store = await throughput(variants.store, `store-${calls}`, calls, turns);
      const lru = await throughput(variants.lru, `lru-${calls}`, calls, turns);
      const rows: Array<[string, number]> = [
        ['redis: connection per operation (source design)', perOperation],
        ['redis: one command per step, shared connection (baseline)', naive],
        ['redis: ConversationStore, one script / pipeline per op', store],
        ['in-process LRU ConversationStore', lru],
      ];
      console.log(`\nmemory: remember+remember+context per turn, ${calls} concurrent call(s) x ${turns} turns, window ${WINDOW}`);
      console.log(`${'variant'.padEnd(60)} ${'ops/s'.padStart(10)} ${'x baseline'.padStart(11)}`);
      for (const [name, opsPerSecond] of rows) console.log(`${name.padEnd(60)} ${opsPerSecond.toFixed(0).padStart(10)} ${(opsPerSecond / naive).toFixed(2).padStart(11)}`);
    }
    await shared.quit();
    await pipelined.close();
    await inProcess.close();

    const records = 2_000;
    const single = await writeBehindThroughput(dynamoEndpoint, join(dataDir, 'wb1'), 1, records);
    const batched = await writeBehindThroughput(dynamoEndpoint, join(dataDir, 'wb25'), 25, records);
    console.log(`\nwrite-behind to dynalite, ${records} records from 20 calls, until flushed`);
    console.log(`${'variant'.padEnd(60)} ${'records/s'.padStart(10)} ${'x baseline'.padStart(11)}`);
    console.log(`${'BatchWriteItem of 1 (baseline)'.padEnd(60)} ${single.toFixed(0).padStart(10)} ${'1.00'.padStart(11)}`);
    console.log(`${'BatchWriteItem of 25'.padEnd(60)} ${batched.toFixed(0).padStart(10)} ${(batched / single).toFixed(2).padStart(11)}`);
  } finally {
    await deleteKeys(prefix);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run().then(() => process.exit(0), (error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
