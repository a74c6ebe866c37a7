import { gunzipSync, gzipSync } from 'node:zlib';
import {
  BatchWriteItemCommand, CreateTableCommand, DescribeTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand,
  waitUntilTableExists, type AttributeValue, type DynamoDBClientConfig, type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { awsSdkLogger, type Logger } from '../log.js';
import { CallIdChecks } from './call-id-checks.js';
import { CALL_RECORD_SEQ, GRANT_SEQ, SNAPSHOT_SEQ, recordKey, toStoredMessage, type DurableRecord } from './records.js';
import type { StoredMessage } from './store.js';
import { parseMessages, stringifyMessages } from '../llm/message-json.js';

type Item = Record<string, AttributeValue>;

/**
 * Message content above this many bytes is not stored inline: it is gzipped, and what is still
 * larger goes in chunks of this size to continuation items. DynamoDB refuses items over 400 KB
 * (names and the other attributes included), so no message is ever refused for size
 * (test/reliability/large-items.test.ts).
 */
const INLINE_CONTENT_BYTES = 300_000;
/** Continuation items of message seq N sort at N * this + part index, under `<callId>#content`. */
const PARTS_PER_MESSAGE = 100_000;
const contentPartition = (callId: string) => `${callId}#content`;

/** The DynamoDB side of memory: one table, `call_id` (S) + `seq` (N); messages from seq 1. */
export interface DurableHistory {
  /** The newest `lastN` messages, oldest first; malformed items are skipped with a log. */
  lastMessages(callId: string, lastN: number): Promise<StoredMessage[]>;
  /** The stored snapshot JSON, unless missing or past its expiry. */
  snapshot(callId: string): Promise<string | undefined>;
  /** The stored grant JSON of a call, if any. */
  grant(callId: string): Promise<string | undefined>;
  /** Whether anything is stored for the call (its grant, snapshot, summary, record or first message; call-id-checks.ts); `signal` bounds the wait. */
  known(callId: string, signal?: AbortSignal): Promise<boolean>;
  /** The stored call record JSON, if the call has one. */
  callRecord(callId: string): Promise<string | undefined>;
  /** One BatchWriteItem (≤ 25 records, distinct keys); resolves with the records DynamoDB left unprocessed. */
  write(records: DurableRecord[]): Promise<DurableRecord[]>;
  ping(): Promise<boolean>;
  close(): void;
}

export interface DurableHistoryOptions {
  region: string;
  endpoint?: string;
  tableName: string;
  /** Static credentials for a local endpoint (dynalite); AWS uses the default provider chain. */
  localCredentials: boolean;
  log: Logger;
}

/** Connects, creating the table when it is missing (PAY_PER_REQUEST, so no capacity to plan). */
export async function openDurableHistory(options: DurableHistoryOptions): Promise<DurableHistory> {
  const client = new DynamoDBClient({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.localCredentials ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    // The write-behind queue retries with its own back-off; the SDK retries reads once more.
    maxAttempts: 2,
    // Every send here passes no per-request options, so the middleware stack is resolved once per
    // command class instead of on every write and read (~1.5 % of serve's CPU at 1,000 calls).
    cacheMiddleware: true,
    // Two of the Logger's four methods, on purpose (log.ts).
    logger: awsSdkLogger(options.log, 'dynamodb') as DynamoDBClientConfig['logger'],
  });
  const table = options.tableName;
  const { log } = options;
  await ensureTable(client, table, log);
  const idChecks = new CallIdChecks(client, table);

  return {
    async lastMessages(callId, lastN) {
      if (lastN <= 0) return [];
      const result = await client.send(new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'call_id = :c AND seq >= :first',
        ExpressionAttributeValues: { ':c': { S: callId }, ':first': { N: '1' } },
        ScanIndexForward: false,
        Limit: lastN,
        ConsistentRead: true,
      }));
      const messages: StoredMessage[] = [];
      for (const item of result.Items ?? []) {
        const parsed = itemToMessage(await withContent(client, table, callId, item));
        if (typeof parsed === 'string') log.warn({ event: 'memory.malformed_entry', callId, source: 'dynamodb', seq: item.seq?.N, reason: parsed });
        else messages.push(parsed);
      }
      return messages.reverse();
    },
    async snapshot(callId) {
      const result = await client.send(new GetItemCommand({
        TableName: table,
        Key: { call_id: { S: callId }, seq: { N: String(SNAPSHOT_SEQ) } },
        ConsistentRead: true,
      }));
      const item = result.Item;
      if (!item?.snapshot?.S) return undefined;
      if (item.ttl?.N && Number(item.ttl.N) * 1000 < Date.now()) return undefined;
      return item.snapshot.S;
    },
    async grant(callId) {
      const result = await client.send(new GetItemCommand({
        TableName: table,
        Key: { call_id: { S: callId }, seq: { N: String(GRANT_SEQ) } },
        ConsistentRead: true,
      }));
      return result.Item?.grant?.S;
    },
    async known(callId, signal) {
      // Not `send(command, { abortSignal })`: a send with options makes the client drop its cached
      // middleware for every command (`delete this.handlers` in @smithy/core's Client.send), so each
      // new call's check cost the next write and read a fresh resolution of the stack. The wait is
      // bounded here instead; a check given up on ends in the background with its batch.
      const check = idChecks.known(callId);
      return signal ? untilAborted(check, signal) : check;
    },
    async callRecord(callId) {
      const result = await client.send(new GetItemCommand({
        TableName: table,
        Key: { call_id: { S: callId }, seq: { N: String(CALL_RECORD_SEQ) } },
        ConsistentRead: true,
      }));
      const packed = result.Item?.record_gz?.B;
      return packed ? gunzipSync(packed).toString('utf8') : undefined;
    },
    async write(records) {
      const byKey = new Map(records.map((record) => [recordKey(record), record]));
      const requests: WriteRequest[] = [];
      for (const record of records) {
        const request = toWriteRequest(record);
        // Continuation items first: the head item that points at them is written only once they exist.
        if (record.kind === 'message') await writeLargeContent(client, table, record.callId, record.message.seq, request);
        requests.push(request);
      }
      const result = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: requests } }));
      const unprocessed = result.UnprocessedItems?.[table] ?? [];
      return unprocessed.map((request) => {
        const key = request.PutRequest?.Item ?? request.DeleteRequest?.Key;
        return byKey.get(`${key?.call_id?.S}\u0000${key?.seq?.N}`);
      }).filter((record): record is DurableRecord => record !== undefined);
    },
    async ping() {
      try {
        await client.send(new DescribeTableCommand({ TableName: table }));
        return true;
      } catch {
        return false;
      }
    },
    close() {
      client.destroy();
    },
  };
}

async function ensureTable(client: DynamoDBClient, table: string, log: Logger): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: table }));
    return;
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
  }
  try {
    await client.send(new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [{ AttributeName: 'call_id', AttributeType: 'S' }, { AttributeName: 'seq', AttributeType: 'N' }],
      KeySchema: [{ AttributeName: 'call_id', KeyType: 'HASH' }, { AttributeName: 'seq', KeyType: 'RANGE' }],
      BillingMode: 'PAY_PER_REQUEST',
    }));
    log.info({ event: 'memory.table_created', table });
  } catch (error) {
    // Another node created it first.
    if ((error as Error).name !== 'ResourceInUseException') throw error;
  }
  await waitUntilTableExists({ client, maxWaitTime: 120, minDelay: 1, maxDelay: 5 }, { TableName: table });
}

function toWriteRequest(record: DurableRecord): WriteRequest {
  const key = { call_id: { S: record.callId } };
  switch (record.kind) {
    case 'message': {
      const { seq, ts, role, content } = record.message;
      return { PutRequest: { Item: { ...key, seq: { N: String(seq) }, ts: { N: String(ts) }, role: { S: role }, content: { S: stringifyMessages(content) } } } };
    }
    case 'snapshot':
      return { PutRequest: { Item: {
        ...key, seq: { N: String(SNAPSHOT_SEQ) }, ts: { N: String(record.ts) }, snapshot: { S: record.snapshotJson }, ttl: { N: String(record.expiresAtSeconds) },
      } } };
    case 'snapshot-delete':
      return { DeleteRequest: { Key: { ...key, seq: { N: String(SNAPSHOT_SEQ) } } } };
    case 'grant':
      // No ttl: an ended call's marker must outlive every other trace of it.
      return { PutRequest: { Item: { ...key, seq: { N: String(GRANT_SEQ) }, grant: { S: record.grantJson } } } };
    case 'summary': {
      const s = record.summary;
      const item: Item = {
        ...key, seq: { N: '0' }, kind: { S: 'summary' }, agent: { S: s.agent }, started_at: { N: String(s.startedAt) },
        ended_at: { N: String(s.endedAt) }, outcome: { S: s.outcome }, turns: { N: String(s.turns) },
        input_tokens: { N: String(s.inputTokens) }, output_tokens: { N: String(s.outputTokens) }, cost_usd: { N: String(s.costUsd) },
      };
      if (s.from) item.from = { S: s.from };
      if (s.to) item.to = { S: s.to };
      return { PutRequest: { Item: item } };
    }
    case 'call-record':
      return { PutRequest: { Item: { ...key, seq: { N: String(CALL_RECORD_SEQ) }, kind: { S: 'call-record' }, record_gz: { B: gzipSync(record.recordJson) } } } };
  }
}

/**
 * Rewrites a message's put request when its content is too large to store inline: gzipped in the
 * item when that fits, else in continuation items (written here, one PutItem each) the item counts.
 */
async function writeLargeContent(client: DynamoDBClient, table: string, callId: string, seq: number, request: WriteRequest): Promise<void> {
  const item = request.PutRequest!.Item!;
  const json = item.content!.S!;
  if (Buffer.byteLength(json) <= INLINE_CONTENT_BYTES) return;
  const packed = gzipSync(json);
  delete item.content;
  if (packed.length <= INLINE_CONTENT_BYTES) {
    item.content_gz = { B: packed };
    return;
  }
  const parts = Math.ceil(packed.length / INLINE_CONTENT_BYTES);
  for (let index = 0; index < parts; index += 1) {
    await client.send(new PutItemCommand({
      TableName: table,
      Item: {
        call_id: { S: contentPartition(callId) },
        seq: { N: String(seq * PARTS_PER_MESSAGE + index) },
        chunk: { B: packed.subarray(index * INLINE_CONTENT_BYTES, (index + 1) * INLINE_CONTENT_BYTES) },
      },
    }));
  }
  item.content_parts = { N: String(parts) };
}

/** The item with its content back inline as JSON text, however it was stored. */
async function withContent(client: DynamoDBClient, table: string, callId: string, item: Item): Promise<Item> {
  if (item.content_gz?.B) return { ...item, content: { S: gunzipSync(item.content_gz.B).toString('utf8') } };
  if (!item.content_parts?.N) return item;
  const seq = Number(item.seq?.N);
  const parts = Number(item.content_parts.N);
  const chunks: Uint8Array[] = [];
  let start: Item | undefined;
  do {
    const page = await client.send(new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'call_id = :c AND seq BETWEEN :first AND :last',
      ExpressionAttributeValues: { ':c': { S: contentPartition(callId) }, ':first': { N: String(seq * PARTS_PER_MESSAGE) }, ':last': { N: String(seq * PARTS_PER_MESSAGE + parts - 1) } },
      ConsistentRead: true,
      ExclusiveStartKey: start,
    }));
    for (const part of page.Items ?? []) if (part.chunk?.B) chunks.push(part.chunk.B);
    start = page.LastEvaluatedKey;
  } while (start);
  if (chunks.length !== parts) return { ...item, content: { S: '' } };
  return { ...item, content: { S: gunzipSync(Buffer.concat(chunks)).toString('utf8') } };
}

function itemToMessage(item: Item): StoredMessage | string {
  let content: unknown;
  try {
    content = parseMessages(item.content?.S ?? '');
  } catch (error) {
    return `content: not JSON: ${(error as Error).message}`;
  }
  return toStoredMessage({ seq: Number(item.seq?.N), ts: Number(item.ts?.N), role: item.role?.S, content });
}

/** `work`'s result, or the signal's reason once it aborts first (`work` goes on, still observed). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
