import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createServer, Socket, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { DynamoDBClient, QueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { Redis } from 'ioredis';
import { createLogger, type Logger } from '../../src/log.js';
import type { MemoryConfig } from '../../src/memory/create.js';
import { deleteKeysWithPrefix } from '../../src/memory/redis-keys.js';
import type { ChatMessage } from '../../src/llm/messages.js';

export const REDIS_URL = 'redis://127.0.0.1:6379';

export const say = (text: string, role: ChatMessage['role'] = 'user'): ChatMessage => ({ role, content: [{ text }] });
export const textOf = (message: ChatMessage): string => (message.content[0] as { text: string }).text;

/** A logger whose JSON lines the test can read. */
export function capturingLogger(): { log: Logger; lines: () => Array<Record<string, unknown>> } {
  const lines: string[] = [];
  const destination = new Writable({ write(chunk, _encoding, done) { lines.push(...String(chunk).split('\n').filter(Boolean)); done(); } });
  return { log: createLogger({ level: 'debug', destination }), lines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

export async function startDynalite(): Promise<{ endpoint: string; requests(): string[]; close(): Promise<void> }> {
  const server = dynalite({ createTableMs: 0 });
  // The operation of every request, e.g. `BatchGetItem`, as the client names it in X-Amz-Target.
  const operations: string[] = [];
  server.on('request', (request: IncomingMessage) => operations.push(String(request.headers['x-amz-target'] ?? '').split('.').at(-1) ?? ''));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => [...operations],
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** dynalite with a real client that reads back what a call stored, for tests that check what reached DynamoDB. */
export async function startDynaliteReader(): Promise<{
  endpoint: string;
  storedItems(callId: string): Promise<Array<Record<string, AttributeValue>>>;
  close(): Promise<void>;
}> {
  const dynamo = await startDynalite();
  const client = new DynamoDBClient({ region: 'us-east-1', endpoint: dynamo.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  return {
    endpoint: dynamo.endpoint,
    storedItems: async (callId) => (await client.send(new QueryCommand({
      TableName: 'conversations', KeyConditionExpression: 'call_id = :c', ExpressionAttributeValues: { ':c': { S: callId } }, ConsistentRead: true,
    }))).Items ?? [],
    close: async () => {
      client.destroy();
      await dynamo.close();
    },
  };
}

/** A temp data dir and a Redis key prefix no other test run shares; `cleanup` removes both. */
export function isolation(name: string): { keyPrefix: string; dataDir: string; cleanup(): Promise<void> } {
  const keyPrefix = `aybiza-test:${name}:${randomUUID().slice(0, 8)}:`;
  const dataDir = mkdtempSync(join(tmpdir(), `aybiza-memory-${name}-`));
  return {
    keyPrefix,
    dataDir,
    async cleanup() {
      const redis = new Redis(REDIS_URL);
      await deleteKeysWithPrefix(redis, keyPrefix);
      await redis.quit();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function memoryOptions(overrides: Partial<MemoryConfig> & Pick<MemoryConfig, 'keyPrefix' | 'dataDir'>): MemoryConfig & { region: string; windowMessages: number } {
  return {
    hot: 'redis',
    redisUrl: REDIS_URL,
    hotTtlSeconds: 3600,
    durable: 'aws',
    tableName: 'conversations',
    writeBehind: { maxBatch: 25, flushMs: 20, maxQueue: 10_000 },
    responseCache: { enabled: true, ttlSeconds: 300, maxEntries: 1000 },
    region: 'us-east-1',
    windowMessages: 10,
    ...overrides,
  };
}

/**
 * A TCP relay the test can cut: `cut()` drops every connection and refuses new ones (the service
 * "goes away"), `restore()` lets them through again. Used to take Redis away mid-call.
 */
export async function startCuttableRelay(targetPort: number): Promise<{ port: number; cut(): void; restore(): void; close(): Promise<void> }> {
  let open = true;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (!open) return client.destroy();
    const upstream = new Socket();
    upstream.connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    cut() {
      open = false;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      open = true;
    },
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` holds; fails after `timeoutMs` (a bound on a hang, not a performance claim). */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}
