import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMemory } from '../../src/memory/create.js';
import { capturingLogger, isolation, memoryOptions, say, startDynalite } from './memory-fixtures.js';
import { forwardPost } from '../support/http-forward.js';

interface WriteRequests { RequestItems: Record<string, unknown[]> }

/**
 * A throttling relay in front of dynalite: of every three BatchWriteItem calls, the first is refused
 * with ProvisionedThroughputExceededException and the second has half its items forwarded and the
 * other half handed back as UnprocessedItems, as DynamoDB does under load.
 */
async function startThrottlingRelay(target: string): Promise<{ endpoint: string; batchCalls: () => number; close(): Promise<void> }> {
  const upstream = new URL(target);
  let batchCalls = 0;
  const forward = (body: string, headers: IncomingHttpHeaders) => forwardPost(upstream, body, headers);
  const server: Server = createServer((incoming, outgoing) => {
    let body = '';
    incoming.on('data', (chunk) => (body += chunk));
    incoming.on('end', async () => {
      const reply = (status: number, text: string) => {
        outgoing.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
        outgoing.end(text);
      };
      if (!String(incoming.headers['x-amz-target']).endsWith('BatchWriteItem')) {
        const answer = await forward(body, incoming.headers);
        return reply(answer.status, answer.body);
      }
      batchCalls += 1;
      if (batchCalls % 3 === 1) {
        return reply(400, JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'injected throttling' }));
      }
      if (batchCalls % 3 === 2) {
        const parsed = JSON.parse(body) as WriteRequests;
        const [table, writes] = Object.entries(parsed.RequestItems)[0]!;
        const kept = writes.slice(0, Math.ceil(writes.length / 2));
        const left = writes.slice(kept.length);
        const answer = await forward(JSON.stringify({ RequestItems: { [table]: kept } }), incoming.headers);
        if (answer.status !== 200) return reply(answer.status, answer.body);
        return reply(200, JSON.stringify({ UnprocessedItems: left.length > 0 ? { [table]: left } : {} }));
      }
      const answer = await forward(body, incoming.headers);
      reply(answer.status, answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    batchCalls: () => batchCalls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('write-behind under DynamoDB throttling', () => {
  const space = isolation('throttling');
  let dynamo: Awaited<ReturnType<typeof startDynalite>>;
  let relay: Awaited<ReturnType<typeof startThrottlingRelay>>;

  beforeAll(async () => {
    dynamo = await startDynalite();
    relay = await startThrottlingRelay(dynamo.endpoint);
  });
  afterAll(async () => {
    await relay.close();
    await dynamo.close();
    await space.cleanup();
  });

  it('loses nothing when batches are refused or partly unprocessed', async () => {
    const { log, lines } = capturingLogger();
    const memory = await openMemory(memoryOptions({ ...space, hot: 'memory', dynamoEndpoint: relay.endpoint, writeBehind: { maxBatch: 10, flushMs: 5, maxQueue: 1_000 } }), log);
    const calls = ['t1', 't2', 't3', 't4'];
    await Promise.all(calls.map(async (callId) => {
      for (let i = 1; i <= 30; i += 1) await memory.store.remember(callId, say(`${callId}-${i}`));
    }));
    await memory.close();
    expect(relay.batchCalls()).toBeGreaterThan(12);
    expect(lines().some((line) => line.event === 'memory.write_failed' && line.code === 'ProvisionedThroughputExceededException')).toBe(true);

    const client = new DynamoDBClient({ region: 'us-east-1', endpoint: dynamo.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    for (const callId of calls) {
      const items = (await client.send(new QueryCommand({
        TableName: 'conversations', KeyConditionExpression: 'call_id = :c', ExpressionAttributeValues: { ':c': { S: callId } },
      }))).Items ?? [];
      expect(items.map((item) => Number(item.seq!.N))).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    }
    client.destroy();
  });
});
