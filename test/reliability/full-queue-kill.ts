import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { openMemory } from '../../src/memory/create.js';
import { capturingLogger, eventually, isolation, memoryOptions, say, startCuttableRelay, startDynalite, textOf } from '../memory/memory-fixtures.js';

export interface FullQueueKillOutcome {
  /** Turns the hot window held (the caller heard them) before the process was abandoned. */
  heard: number;
  /** Records the next process recovered from the journal. */
  recovered: number;
  /** Of the heard turns, those in DynamoDB after the next process flushed. */
  stored: number;
}

/**
 * `calls` calls each finish a turn while DynamoDB is away and the write-behind queue holds
 * `maxQueue`; the process is then abandoned without closing (as SIGKILL leaves it) and a new one
 * opens the same data dir with DynamoDB back (test/reliability/journal-before-back-pressure.test.ts).
 */
export async function runKillUnderFullQueue(options: { calls: number; maxQueue: number }): Promise<FullQueueKillOutcome> {
  const dynamo = await startDynalite();
  const client = new DynamoDBClient({ region: 'us-east-1', endpoint: dynamo.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const relay = await startCuttableRelay(Number(new URL(dynamo.endpoint).port));
  const space = isolation('full-queue-kill');
  const config = memoryOptions({
    ...space, hot: 'memory', dynamoEndpoint: `http://127.0.0.1:${relay.port}`, writeBehind: { maxBatch: 25, flushMs: 10, maxQueue: options.maxQueue },
  });
  const callIds = Array.from({ length: options.calls }, (_, i) => `call-${i}`);
  try {
    const killed = await openMemory(config, capturingLogger().log);
    relay.cut();
    void Promise.allSettled(callIds.map((callId, i) => killed.store.remember(callId, say(`turn ${i}`))));
    let heard = 0;
    await eventually(async () => {
      const windows = await Promise.all(callIds.map(async (callId) => (await killed.store.context(callId, 1)).map(textOf)));
      heard = windows.filter((texts, i) => texts[0] === `turn ${i}`).length;
      return heard === options.calls;
    });

    const { log, lines } = capturingLogger();
    relay.restore();
    const restarted = await openMemory({ ...config, dynamoEndpoint: dynamo.endpoint }, log);
    const recovered = Number(lines().find((line) => line.event === 'memory.journal_recovered')?.records ?? 0);
    await eventually(() => restarted.writeQueueDepth() === 0);
    let stored = 0;
    for (const callId of callIds) {
      const found = await client.send(new QueryCommand({
        TableName: 'conversations', KeyConditionExpression: 'call_id = :c', ExpressionAttributeValues: { ':c': { S: callId } }, ConsistentRead: true, Select: 'COUNT',
      }));
      if ((found.Count ?? 0) === 1) stored += 1;
    }
    await restarted.close();
    await killed.close();
    return { heard, recovered, stored };
  } finally {
    client.destroy();
    await relay.close();
    await dynamo.close();
    await space.cleanup();
  }
}
