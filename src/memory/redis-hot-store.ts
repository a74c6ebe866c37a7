import type { Redis } from 'ioredis';
import type { ChatMessage } from '../llm/messages.js';
import type { Logger } from '../log.js';
import type { HotStore, HotStoreOptions, WindowRead } from './hot-store.js';
import { messageBody, parseStoredMessage } from './records.js';
import { callKeys } from './redis-keys.js';
import type { StoredMessage } from './store.js';
import { stringifyMessages } from '../llm/message-json.js';

/**
 * Appends the messages ARGV[4..] in one atomic round trip: their seqs come from INCRBY (the first
 * raised to the caller's floor when the process issued seqs while Redis was away) and are spliced
 * into the stored JSON, then the list is trimmed and both keys get their expiry. Returns the first seq.
 */
const APPEND_SCRIPT = `
local count = #ARGV - 3
local last = redis.call('INCRBY', KEYS[1], count)
local floor = tonumber(ARGV[1])
if last - count + 1 <= floor then
  last = floor + count
  redis.call('SET', KEYS[1], last)
end
local first = last - count + 1
for i = 1, count do
  redis.call('RPUSH', KEYS[2], '{"seq":' .. (first + i - 1) .. ',' .. string.sub(ARGV[3 + i], 2))
end
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return first
`;

/** Replaces the window with history read back from DynamoDB; the counter never goes backwards. */
const REWARM_SCRIPT = `
redis.call('DEL', KEYS[2])
for i = 4, #ARGV do
  redis.call('RPUSH', KEYS[2], ARGV[i])
end
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[1]), -1)
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < tonumber(ARGV[3]) then
  redis.call('SET', KEYS[1], ARGV[3])
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1
`;

type ScriptCall = (...args: (string | number)[]) => Promise<unknown>;

/** The hot window in Redis over one shared connection; every operation is a single round trip. */
export function createRedisHotStore(redis: Redis, options: HotStoreOptions & { keyPrefix: string; log: Logger }): HotStore {
  redis.defineCommand('aybizaAppend', { numberOfKeys: 2, lua: APPEND_SCRIPT });
  redis.defineCommand('aybizaRewarm', { numberOfKeys: 2, lua: REWARM_SCRIPT });
  const scripts = redis as unknown as { aybizaAppend: ScriptCall; aybizaRewarm: ScriptCall };
  const keys = (callId: string) => callKeys(options.keyPrefix, callId);
  const { log } = options;

  return {
    kind: 'redis',
    async append(callId: string, messages: readonly ChatMessage[], ts: number, seqFloor: number): Promise<StoredMessage[]> {
      if (messages.length === 0) return [];
      const k = keys(callId);
      const bodies = messages.map((message) => messageBody(message, ts));
      const first = Number(await scripts.aybizaAppend(k.seq, k.msgs, seqFloor, options.windowMessages, options.ttlSeconds, ...bodies));
      return messages.map((message, index) => ({ seq: first + index, ts, role: message.role, content: message.content }));
    },
    async window(callId: string, lastN: number): Promise<WindowRead> {
      if (lastN <= 0) return { messages: [], lastSeq: 0 };
      const k = keys(callId);
      const replies = await redis.pipeline().lrange(k.msgs, -lastN, -1).get(k.seq).exec();
      const failed = replies?.find(([error]) => error);
      if (!replies || failed) throw failed?.[0] ?? new Error('redis pipeline returned no replies');
      const raw = replies[0]![1] as string[];
      const messages: StoredMessage[] = [];
      for (const entry of raw) {
        const parsed = parseStoredMessage(entry);
        if (typeof parsed === 'string') log.warn({ event: 'memory.malformed_entry', callId, source: 'redis', reason: parsed });
        else messages.push(parsed);
      }
      return { messages, lastSeq: Number(replies[1]![1] ?? 0) };
    },
    async rewarm(callId: string, messages: StoredMessage[]): Promise<void> {
      const k = keys(callId);
      const window = messages.slice(-options.windowMessages);
      const lastSeq = window.at(-1)?.seq ?? 0;
      await scripts.aybizaRewarm(k.seq, k.msgs, options.windowMessages, options.ttlSeconds, lastSeq, ...window.map((m) => stringifyMessages(m)));
    },
    async saveSnapshot(callId: string, json: string): Promise<void> {
      await redis.set(keys(callId).snap, json, 'EX', options.ttlSeconds);
    },
    async loadSnapshot(callId: string): Promise<string | undefined> {
      return (await redis.get(keys(callId).snap)) ?? undefined;
    },
    async dropSnapshot(callId: string): Promise<void> {
      await redis.del(keys(callId).snap);
    },
    async claimGrant(callId: string, json: string): Promise<boolean> {
      return (await redis.set(keys(callId).grant, json, 'EX', options.ttlSeconds, 'NX')) === 'OK';
    },
    async saveGrant(callId: string, json: string): Promise<void> {
      await redis.set(keys(callId).grant, json, 'EX', options.ttlSeconds);
    },
    async loadGrant(callId: string): Promise<string | undefined> {
      return (await redis.get(keys(callId).grant)) ?? undefined;
    },
    async ping(): Promise<boolean> {
      try {
        return (await redis.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    async close(): Promise<void> {
      // The connection is shared with the response cache; its owner closes it.
    },
  };
}
