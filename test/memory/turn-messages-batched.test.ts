import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMemory } from '../../src/memory/create.js';
import { callKeys } from '../../src/memory/redis-keys.js';
import { capturingLogger, isolation, memoryOptions, REDIS_URL, say, startDynalite, textOf } from './memory-fixtures.js';

describe('a turn\'s messages remembered together', () => {
  let dynamo: Awaited<ReturnType<typeof startDynalite>>;
  let redis: Redis;

  beforeAll(async () => {
    dynamo = await startDynalite();
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await redis.quit();
    await dynamo.close();
  });

  for (const hot of ['redis', 'memory'] as const) {
    it(`numbers them in order after earlier messages, in one journal write (hot: ${hot})`, async () => {
      const space = isolation(`batched-${hot}`);
      // Its own call id: the table is shared, and a call's durable history sets its seq floor.
      const callId = `turns-${hot}`;
      // No flush: every record stays queued and journaled, so the journal shows what was written.
      const memory = await openMemory(memoryOptions({ ...space, hot, dynamoEndpoint: dynamo.endpoint, writeBehind: { maxBatch: 25, flushMs: 600_000, maxQueue: 1_000 } }), capturingLogger().log);
      await memory.store.remember(callId, say('hello'));
      const stored = await memory.store.rememberAll(callId, [say('when are you open?'), say('nine to five', 'assistant'), say('thanks')]);
      expect(stored.map((message) => message.seq)).toEqual([2, 3, 4]);
      expect(stored.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
      expect((await memory.store.context(callId, 10)).map(textOf)).toEqual(['hello', 'when are you open?', 'nine to five', 'thanks']);
      expect(await memory.store.rememberAll(callId, [])).toEqual([]);
      expect(memory.writeQueueDepth()).toBe(4);
      const [segment] = readdirSync(join(space.dataDir, 'pending'));
      const lines = readFileSync(join(space.dataDir, 'pending', segment!), 'utf8').trim().split('\n');
      expect(lines.map((line) => (JSON.parse(line) as { message: { seq: number } }).message.seq)).toEqual([1, 2, 3, 4]);
      await memory.close();
      await space.cleanup();
    });
  }

  it('keeps concurrent turns of one call distinct and in list order in Redis', async () => {
    const space = isolation('batched-concurrent');
    const memory = await openMemory(memoryOptions({ ...space, dynamoEndpoint: dynamo.endpoint }), capturingLogger().log);
    const turns = await Promise.all(Array.from({ length: 10 }, (_, i) => memory.store.rememberAll('busy', [say(`q${i}`), say(`a${i}`, 'assistant')])));
    const seqs = turns.flat().map((message) => message.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    for (const [question, answer] of turns) expect(answer!.seq).toBe(question!.seq + 1);
    await memory.close();
    await space.cleanup();
  });

  it('starts above the seq floor when Redis lost the call\'s counter', async () => {
    const space = isolation('batched-floor');
    const memory = await openMemory(memoryOptions({ ...space, dynamoEndpoint: dynamo.endpoint }), capturingLogger().log);
    await memory.store.rememberAll('floor', [say('one'), say('two', 'assistant'), say('three')]);
    await redis.del(callKeys(space.keyPrefix, 'floor').seq);
    const stored = await memory.store.rememberAll('floor', [say('four', 'assistant'), say('five')]);
    expect(stored.map((message) => message.seq)).toEqual([4, 5]);
    expect(Number(await redis.get(callKeys(space.keyPrefix, 'floor').seq))).toBe(5);
    await memory.close();
    await space.cleanup();
  });
});
