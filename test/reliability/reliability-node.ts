import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { mergeDeep, startTestNode, type TestNode } from '../integration/test-node.js';

export type ReliabilityNode = TestNode;

/**
 * A whole node for fault and overload runs: test/integration/test-node.ts with a short resume grace
 * (suspended calls end quickly) and one accounting worker, so many such nodes share two cores.
 */
export function startReliabilityNode(options: Parameters<typeof startTestNode>[0] = {}): Promise<ReliabilityNode> {
  return startTestNode({
    ...options,
    config: mergeDeep({ server: { resumeGraceMs: 200 }, accounting: { poolSize: 1 } }, options.config ?? {}),
  });
}

/** Messages stored in DynamoDB for one call (sort keys from 1; the snapshot lives below). */
export async function countStoredMessages(endpoint: string, tableName: string, callId: string): Promise<number> {
  const client = new DynamoDBClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    let count = 0;
    let start: Record<string, never> | undefined;
    do {
      const page = await client.send(new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'call_id = :c AND seq >= :first',
        ExpressionAttributeValues: { ':c': { S: callId }, ':first': { N: '1' } },
        Select: 'COUNT',
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }));
      count += page.Count ?? 0;
      start = page.LastEvaluatedKey as typeof start;
    } while (start);
    return count;
  } finally {
    client.destroy();
  }
}

/** The sum of a metric's samples on the node's /metrics whose labels include `labels`. */
export function metricValue(test: ReliabilityNode, name: string, labels: Record<string, string> = {}): Promise<number> {
  return scrapeMetric(test.node.metricsUrl, name, labels);
}

/** The sum of a metric's samples on a /metrics page whose labels include `labels`. */
export async function scrapeMetric(metricsUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) total += Number(line.split(' ').at(-1));
  }
  return total;
}

/** Heap in use after a full collection; `--expose-gc` is switched on at run time when the process lacks it. */
export function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc ?? exposedGc();
  for (let i = 0; i < 3; i += 1) gc();
  return process.memoryUsage().heapUsed;
}

function exposedGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

export const tempDir = (name: string): { dir: string; remove(): void } => {
  const dir = mkdtempSync(join(tmpdir(), `aybiza-${name}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
};

export const uniqueId = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;
