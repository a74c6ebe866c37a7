import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMemory } from '../../src/memory/create.js';
import type { CallGrant } from '../../src/memory/store.js';
import { callKeys } from '../../src/memory/redis-keys.js';
import { capturingLogger, eventually, isolation, memoryOptions, REDIS_URL, say, startCuttableRelay, startDynaliteReader } from './memory-fixtures.js';
import { Redis } from 'ioredis';

const grant: CallGrant = { state: 'open', tokenSha256: 'ab'.repeat(32), principal: 'key:example' };

describe('call grants in memory', () => {
  let dynamo: Awaited<ReturnType<typeof startDynaliteReader>>;

  beforeAll(async () => {
    dynamo = await startDynaliteReader();
  });
  afterAll(() => dynamo.close());

  it('claims a new id once; a second claim, or an id with history from before grants, is refused; ended replaces the grant', async () => {
    const space = isolation('grants');
    const memory = await openMemory(memoryOptions({ ...space, dynamoEndpoint: dynamo.endpoint }), capturingLogger().log);
    try {
      expect(await memory.store.claimCall('fresh', grant)).toBe(true);
      expect(await memory.store.claimCall('fresh', grant)).toBe(false);
      expect(await memory.store.loadGrant('fresh')).toEqual(grant);
      await memory.store.remember('older', say('a call without a grant'));
      expect(await memory.store.claimCall('older', grant)).toBe(false);
      expect(await memory.store.loadGrant('older')).toBeUndefined();
      await memory.store.markEnded('fresh');
      expect(await memory.store.loadGrant('fresh')).toEqual({ state: 'ended' });
      expect(await memory.store.claimCall('fresh', grant)).toBe(false);
    } finally {
      await memory.close();
      await space.cleanup();
    }
  });

  it('keeps a grant and an ended marker through a crash (journal) and a new process whose hot store is empty', async () => {
    const space = isolation('grants-crash');
    const stalled = memoryOptions({ ...space, hot: 'memory', dynamoEndpoint: dynamo.endpoint, writeBehind: { maxBatch: 25, flushMs: 600_000, maxQueue: 1_000 } });
    // Never flushes: as far as DynamoDB knows, the process crashed with both records queued.
    const crashed = await openMemory(stalled, capturingLogger().log);
    expect(await crashed.store.claimCall('kept', grant)).toBe(true);
    expect(await crashed.store.claimCall('gone', grant)).toBe(true);
    await crashed.store.markEnded('gone');

    const restarted = await openMemory({ ...stalled, writeBehind: { maxBatch: 25, flushMs: 10, maxQueue: 1_000 } }, capturingLogger().log);
    try {
      await eventually(() => restarted.writeQueueDepth() === 0);
      expect(await restarted.store.loadGrant('kept')).toEqual(grant);
      expect(await restarted.store.loadGrant('gone')).toEqual({ state: 'ended' });
      expect(await restarted.store.claimCall('gone', grant)).toBe(false);
      expect((await dynamo.storedItems('gone')).map((item) => [Number(item.seq!.N), item.grant?.S])).toEqual([[-2, '{"state":"ended"}']]);
    } finally {
      await restarted.close();
      await crashed.close();
      await space.cleanup();
    }
  });

  it('numbers a call claimed as new from 1 without asking DynamoDB for its history', async () => {
    const space = isolation('grants-new');
    const memory = await openMemory(memoryOptions({ ...space, dynamoEndpoint: dynamo.endpoint }), capturingLogger().log);
    try {
      expect(await memory.store.claimCall('new-call', grant)).toBe(true);
      const stored = await memory.store.rememberAll('new-call', [say('hello'), say('hi there', 'assistant')]);
      expect(stored.map((message) => message.seq)).toEqual([1, 2]);
      expect(memory.stats().durableReads).toBe(0);
    } finally {
      await memory.close();
      await space.cleanup();
    }
  });

  it('still reads the seq floor from DynamoDB when the claim could not check the id there', async () => {
    const space = isolation('grants-unchecked');
    const port = Number(new URL(dynamo.endpoint).port);
    const relay = await startCuttableRelay(port);
    const redis = new Redis(REDIS_URL);
    const options = memoryOptions({ ...space, dynamoEndpoint: `http://127.0.0.1:${relay.port}`, writeBehind: { maxBatch: 25, flushMs: 10, maxQueue: 1_000 } });
    const earlier = await openMemory(options, capturingLogger().log);
    const memory = await openMemory(options, capturingLogger().log);
    try {
      // Three messages of a call from before grants, in DynamoDB only (its hot window expired).
      for (const text of ['one', 'two', 'three']) await earlier.store.remember('old-call', say(text));
      await eventually(() => earlier.writeQueueDepth() === 0);
      const keys = callKeys(space.keyPrefix, 'old-call');
      await redis.del(keys.msgs, keys.seq);
      relay.cut();
      expect(await memory.store.claimCall('old-call', grant)).toBe(true);
      relay.restore();
      const [next] = await memory.store.rememberAll('old-call', [say('four')]);
      expect(next!.seq).toBe(4);
    } finally {
      relay.restore();
      await earlier.close();
      await memory.close();
      await redis.quit();
      await relay.close();
      await space.cleanup();
    }
  });

  it('reads a malformed stored grant as ended, so it lets nothing through', async () => {
    const space = isolation('grants-malformed');
    const memory = await openMemory(memoryOptions({ ...space, hot: 'memory', durable: 'none' }), capturingLogger().log);
    try {
      expect(await memory.store.claimCall('odd', { state: 'open', tokenSha256: 'not-hex', principal: 'key:x' })).toBe(true);
      expect(await memory.store.loadGrant('odd')).toEqual({ state: 'ended' });
    } finally {
      await memory.close();
      await space.cleanup();
    }
  });
});
