import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { loadConfig } from '../../src/config/load.js';
import type { AybizaConfig } from '../../src/config/schema.js';
import type { ModelScript } from '../../src/emulator/script.js';
import { createLogger, type Logger } from '../../src/log.js';
import { startNode, type NodeOptions, type RunningNode } from '../../src/runtime/node.js';
import { isolation } from '../memory/memory-fixtures.js';
import { mergeDeep } from '../integration/test-node.js';

export interface ReliabilityNode {
  node: RunningNode;
  config: AybizaConfig;
  url: string;
  close(): Promise<void>;
}

/**
 * A whole node for fault and overload runs: like test/integration/test-node.ts, but the caller
 * chooses the logger, Redis URL and DynamoDB endpoint (so relays can stand between them), and
 * Redis keys are removed on close.
 */
export async function startReliabilityNode(options: {
  script?: ModelScript;
  scripts?: Record<string, ModelScript>;
  config?: Record<string, unknown>;
  log?: Logger;
  extraTools?: NodeOptions['extraTools'];
  effectOverrides?: NodeOptions['effectOverrides'];
} = {}): Promise<ReliabilityNode> {
  const isolated = isolation('reliability');
  const config = loadConfig({
    env: {},
    overrides: mergeDeep({
      server: { port: 0, metricsPort: 0, drainTimeoutMs: 2_000, resumeGraceMs: 200 },
      memory: { dataDir: isolated.dataDir, hot: 'redis', keyPrefix: isolated.keyPrefix, hotTtlSeconds: 300 },
      bedrock: { firstEventTimeoutMs: 3_000, idleTimeoutMs: 3_000 },
      accounting: { poolSize: 1 },
      log: { level: 'silent' },
    }, options.config ?? {}),
  });
  const node = await startNode({
    config,
    log: options.log ?? createLogger({ level: process.env.AYBIZA_TEST_LOG ?? 'silent' }),
    emulator: { script: options.script, scripts: options.scripts },
    extraTools: options.extraTools,
    effectOverrides: options.effectOverrides,
  });
  return {
    node,
    config,
    url: node.telephonyUrl,
    close: async () => {
      await node.shutdown();
      await isolated.cleanup();
    },
  };
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
export async function metricValue(test: ReliabilityNode, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${test.node.metricsUrl}/metrics`)).text();
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
