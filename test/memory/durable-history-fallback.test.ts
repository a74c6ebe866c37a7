import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMemory } from '../../src/memory/create.js';
import { callKeys } from '../../src/memory/redis-keys.js';
import { capturingLogger, eventually, isolation, memoryOptions, REDIS_URL, say, startDynalite, textOf } from './memory-fixtures.js';

describe('DynamoDB durable history behind the hot window', () => {
  const space = isolation('durable');
  let dynamo: Awaited<ReturnType<typeof startDynalite>>;
  let redis: Redis;
  let client: DynamoDBClient;
  const items = async (callId: string) => (await client.send(new QueryCommand({
    TableName: 'conversations', KeyConditionExpression: 'call_id = :c', ExpressionAttributeValues: { ':c': { S: callId } },
  }))).Items ?? [];

  beforeAll(async () => {
    dynamo = await startDynalite();
    redis = new Redis(REDIS_URL);
    client = new DynamoDBClient({ region: 'us-east-1', endpoint: dynamo.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  });
  afterAll(async () => {
    client.destroy();
    await redis.quit();
    await dynamo.close();
    await space.cleanup();
  });

  it('reads from DynamoDB when the Redis window is gone, then re-warms the window', async () => {
    const memory = await openMemory(memoryOptions({ ...space, dynamoEndpoint: dynamo.endpoint }), capturingLogger().log);
    for (let i = 1; i <= 15; i += 1) await memory.store.remember('lost', say(`m${i}`));
    await eventually(() => memory.writeQueueDepth() === 0);
    const keys = callKeys(space.keyPrefix, 'lost');
    await redis.del(keys.msgs, keys.seq);

    const context = await memory.store.context('lost', 8);
    expect(context.map(textOf)).toEqual(['m8', 'm9', 'm10', 'm11', 'm12', 'm13', 'm14', 'm15']);
    expect(memory.stats().durableReads).toBeGreaterThan(0);
    expect(await redis.llen(keys.msgs)).toBe(10);
    expect(Number(await redis.get(keys.seq))).toBe(15);

    const hitsBefore = memory.stats().hotHits;
    expect((await memory.store.context('lost', 8)).map(textOf)).toEqual(context.map(textOf));
    expect(memory.stats().hotHits).toBe(hitsBefore + 1);
    // The next message continues the sequence instead of restarting it at 1.
    expect((await memory.store.remember('lost', say('m16'))).seq).toBe(16);
    await memory.close();
  });

  it('asks DynamoDB for more than the window holds and keeps the result chronological', async () => {
    const memory = await openMemory(memoryOptions({ ...space, dynamoEndpoint: dynamo.endpoint }), capturingLogger().log);
    for (let i = 1; i <= 30; i += 1) await memory.store.remember('long', say(`m${i}`));
    const context = await memory.store.context('long', 20);
    expect(context.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 11));
    await memory.close();
  });

  it('writes in batches of at most maxBatch and flushes everything on close', async () => {
    const memory = await openMemory(memoryOptions({
      ...space, dynamoEndpoint: dynamo.endpoint, writeBehind: { maxBatch: 7, flushMs: 60_000, maxQueue: 1_000 },
    }), capturingLogger().log);
    for (let i = 1; i <= 20; i += 1) await memory.store.remember('batched', say(`m${i}`));
    // 20 records at 7 a batch: two full batches go at once, the partial one waits for its flush time.
    await eventually(() => memory.writeQueueDepth() === 6);
    expect((await items('batched')).length).toBe(14);
    await memory.store.endCall('batched', {
      callId: 'batched', agent: 'default', startedAt: 1, endedAt: 2, outcome: 'completed', turns: 10, inputTokens: 5, outputTokens: 6, costUsd: 0.01,
    });
    await memory.close();
    const stored = await items('batched');
    expect(stored.filter((item) => Number(item.seq!.N) >= 1)).toHaveLength(20);
    expect(stored.find((item) => item.seq!.N === '0')).toMatchObject({ outcome: { S: 'completed' }, turns: { N: '10' } });
  });

  it('creates its table in an embedded dynalite and keeps history and snapshots across a restart', async () => {
    const embedded = isolation('embedded');
    const options = memoryOptions({ ...embedded, hot: 'memory', durable: 'embedded' });
    const first = await openMemory(options, capturingLogger().log);
    await first.store.remember('kept', say('hello'));
    await first.store.remember('kept', say('hi there', 'assistant'));
    await first.store.saveSnapshot('kept', { value: 'listening', context: { turnsCompleted: 1 } });
    await first.close();

    const second = await openMemory(options, capturingLogger().log);
    expect((await second.store.context('kept', 10)).map(textOf)).toEqual(['hello', 'hi there']);
    expect(await second.store.loadSnapshot('kept')).toEqual({ value: 'listening', context: { turnsCompleted: 1 } });
    expect((await second.store.remember('kept', say('again'))).seq).toBe(3);
    await second.store.endCall('kept', {
      callId: 'kept', agent: 'default', startedAt: 1, endedAt: 2, outcome: 'hangup', turns: 1, inputTokens: 1, outputTokens: 1, costUsd: 0,
    });
    expect(await second.store.loadSnapshot('kept')).toBeUndefined();
    await second.close();
    await embedded.cleanup();
  });
});
