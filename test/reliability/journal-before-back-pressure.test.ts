import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMemory } from '../../src/memory/create.js';
import { capturingLogger, eventually, isolation, memoryOptions, say, startCuttableRelay, startDynalite, textOf } from '../memory/memory-fixtures.js';

const CALLS = 40;
const MAX_QUEUE = 5;

describe('a turn the caller heard is durable even with the write-behind queue full', () => {
  let dynamo: Awaited<ReturnType<typeof startDynalite>>;
  let client: DynamoDBClient;
  beforeAll(async () => {
    dynamo = await startDynalite();
    client = new DynamoDBClient({ region: 'us-east-1', endpoint: dynamo.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  });
  afterAll(async () => {
    client.destroy();
    await dynamo.close();
  });

  it('journals every turn before waiting for queue space, so a killed process loses none', async () => {
    const space = isolation('journal-first');
    const relay = await startCuttableRelay(Number(new URL(dynamo.endpoint).port));
    const options = memoryOptions({
      ...space, hot: 'memory', dynamoEndpoint: `http://127.0.0.1:${relay.port}`, writeBehind: { maxBatch: 25, flushMs: 10, maxQueue: MAX_QUEUE },
    });
    const killed = await openMemory(options, capturingLogger().log);
    relay.cut();
    // Many calls each finish a turn while DynamoDB is away: far more than the queue holds.
    const turns = Array.from({ length: CALLS }, (_, i) => killed.store.remember(`call-${i}`, say(`turn ${i}`)));
    void Promise.allSettled(turns);
    // The caller heard each turn once the hot window has it.
    await eventually(async () => {
      const heard = await Promise.all(Array.from({ length: CALLS }, async (_, i) => (await killed.store.context(`call-${i}`, 1)).map(textOf)));
      return heard.every((texts, i) => texts[0] === `turn ${i}`);
    });

    // As if SIGKILLed: the first instance never closes before the next one opens its data dir.
    const { log, lines } = capturingLogger();
    relay.restore();
    const restarted = await openMemory({ ...options, dynamoEndpoint: dynamo.endpoint }, log);
    expect(lines().find((line) => line.event === 'memory.journal_recovered')).toMatchObject({ records: CALLS });
    await eventually(() => restarted.writeQueueDepth() === 0);
    for (let i = 0; i < CALLS; i += 1) {
      const stored = await client.send(new QueryCommand({
        TableName: 'conversations', KeyConditionExpression: 'call_id = :c', ExpressionAttributeValues: { ':c': { S: `call-${i}` } }, ConsistentRead: true,
      }));
      expect(stored.Items?.length, `call-${i}`).toBe(1);
    }
    await restarted.close();
    await killed.close();
    await relay.close();
    await space.cleanup();
  });
});
