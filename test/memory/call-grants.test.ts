import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMemory } from '../../src/memory/create.js';
import type { CallGrant } from '../../src/memory/store.js';
import { capturingLogger, eventually, isolation, memoryOptions, say, startDynaliteReader } from './memory-fixtures.js';

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
