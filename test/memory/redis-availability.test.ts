import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMemory } from '../../src/memory/create.js';
import { capturingLogger, eventually, isolation, memoryOptions, say, startCuttableRelay, startDynalite, textOf } from './memory-fixtures.js';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('Redis availability', () => {
  const space = isolation('availability');
  let dynamo: Awaited<ReturnType<typeof startDynalite>>;

  beforeAll(async () => {
    dynamo = await startDynalite();
  });
  afterAll(async () => {
    await dynamo.close();
    await space.cleanup();
  });

  it("falls back to in-process memory in 'auto' when Redis does not answer at open, without logging its password", async () => {
    const redisUrl = `redis://:s3cret-pass@127.0.0.1:${await closedPort()}`;
    const { log, lines } = capturingLogger();
    const memory = await openMemory(memoryOptions({ ...space, hot: 'auto', redisUrl, dynamoEndpoint: dynamo.endpoint }), log);
    expect(lines().find((line) => line.event === 'memory.redis_unavailable')).toBeDefined();
    expect(lines().find((line) => line.event === 'memory.opened')).toMatchObject({ hot: 'memory' });
    expect(JSON.stringify(lines())).not.toContain('s3cret-pass');
    await memory.store.remember('auto', say('works'));
    expect((await memory.store.context('auto', 5)).map(textOf)).toEqual(['works']);
    expect(await memory.store.healthy()).toBe(true);
    await memory.close();
  });

  it("refuses to open in 'redis' with an error naming the setting and the redacted URL", async () => {
    const redisUrl = `redis://:s3cret-pass@127.0.0.1:${await closedPort()}`;
    const opening = openMemory(memoryOptions({ ...space, hot: 'redis', redisUrl, dynamoEndpoint: dynamo.endpoint }), capturingLogger().log);
    await expect(opening).rejects.toThrow(/memory\.hot is 'redis' but redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/? did not answer PING/);
    await expect(opening).rejects.not.toThrow(/s3cret/);
  });

  it('keeps remembering while Redis is away, reads from DynamoDB, and recovers when it is back', async () => {
    const relay = await startCuttableRelay(6379);
    const { log, lines } = capturingLogger();
    const memory = await openMemory(memoryOptions({ ...space, hot: 'redis', redisUrl: `redis://127.0.0.1:${relay.port}`, dynamoEndpoint: dynamo.endpoint }), log);
    for (let i = 1; i <= 3; i += 1) await memory.store.remember('outage', say(`m${i}`));

    relay.cut();
    for (let i = 4; i <= 6; i += 1) expect((await memory.store.remember('outage', say(`m${i}`))).seq).toBe(i);
    expect((await memory.store.context('outage', 10)).map(textOf)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    await memory.store.saveSnapshot('outage', { value: 'listening' });
    expect(await memory.store.loadSnapshot('outage')).toEqual({ value: 'listening' });
    expect(await memory.store.healthy()).toBe(false);
    expect(memory.stats().hotErrors).toBeGreaterThan(0);
    expect(lines().some((line) => line.event === 'memory.hot_degraded' && line.callId === 'outage')).toBe(true);

    relay.restore();
    await eventually(() => memory.store.healthy());
    expect((await memory.store.remember('outage', say('m7'))).seq).toBe(7);
    expect((await memory.store.context('outage', 10)).map(textOf)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
    const hits = memory.stats().hotHits;
    expect((await memory.store.context('outage', 10)).map(textOf)).toHaveLength(7);
    expect(memory.stats().hotHits).toBe(hits + 1);
    await memory.close();
    await relay.close();

    const client = new DynamoDBClient({ region: 'us-east-1', endpoint: dynamo.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const items = (await client.send(new QueryCommand({
      TableName: 'conversations', KeyConditionExpression: 'call_id = :c AND seq >= :one',
      ExpressionAttributeValues: { ':c': { S: 'outage' }, ':one': { N: '1' } },
    }))).Items ?? [];
    expect(items.map((item) => Number(item.seq!.N))).toEqual([1, 2, 3, 4, 5, 6, 7]);
    client.destroy();
  });
});
