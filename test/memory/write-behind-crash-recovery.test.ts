import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMemory } from '../../src/memory/create.js';
import { capturingLogger, eventually, isolation, memoryOptions, say, startDynaliteReader, textOf } from './memory-fixtures.js';

describe('write-behind queue crash safety', () => {
  let dynamo: Awaited<ReturnType<typeof startDynaliteReader>>;
  const seqsOf = async (callId: string) => (await dynamo.storedItems(callId)).map((item) => Number(item.seq!.N));

  beforeAll(async () => {
    dynamo = await startDynaliteReader();
  });
  afterAll(() => dynamo.close());

  for (const hot of ['redis', 'memory'] as const) {
    it(`recovers queued-but-unwritten records from the journal in a new instance (hot: ${hot})`, async () => {
      const space = isolation(`crash-${hot}`);
      const stalled = memoryOptions({ ...space, hot, dynamoEndpoint: dynamo.endpoint, writeBehind: { maxBatch: 25, flushMs: 600_000, maxQueue: 1_000 } });
      // The first instance never flushes: as far as DynamoDB knows, it crashed with its queue full.
      const crashed = await openMemory(stalled, capturingLogger().log);
      for (let i = 1; i <= 12; i += 1) await crashed.store.remember(`call-${hot}`, say(`m${i}`));
      await crashed.store.saveSnapshot(`call-${hot}`, { value: 'speaking', context: { turnsCompleted: 6 } });
      expect(crashed.writeQueueDepth()).toBe(13);
      expect(await seqsOf(`call-${hot}`)).toEqual([]);

      const { log, lines } = capturingLogger();
      const restarted = await openMemory({ ...stalled, writeBehind: { maxBatch: 25, flushMs: 10, maxQueue: 1_000 } }, log);
      expect(lines().find((line) => line.event === 'memory.journal_recovered')).toMatchObject({ records: 13 });
      // Before the recovered records reach DynamoDB, reads already see them through the queue.
      expect((await restarted.store.context(`call-${hot}`, 3)).map(textOf)).toEqual(['m10', 'm11', 'm12']);
      await eventually(async () => (await seqsOf(`call-${hot}`)).length === 13);
      expect((await seqsOf(`call-${hot}`)).sort((a, b) => a - b)).toEqual([-1, ...Array.from({ length: 12 }, (_, i) => i + 1)]);
      expect(await restarted.store.loadSnapshot(`call-${hot}`)).toEqual({ value: 'speaking', context: { turnsCompleted: 6 } });
      expect((await restarted.store.remember(`call-${hot}`, say('m13'))).seq).toBe(13);
      await restarted.close();

      // Writing the crashed instance's queue again later is harmless: puts are idempotent per (call_id, seq).
      await crashed.close();
      expect((await seqsOf(`call-${hot}`)).length).toBe(14);
      expect(readdirSync(join(space.dataDir, 'pending'))).toEqual([]);
      await space.cleanup();
    });
  }

  it('skips a torn journal line with a log and recovers the rest', async () => {
    const space = isolation('torn');
    const options = memoryOptions({ ...space, hot: 'memory', dynamoEndpoint: dynamo.endpoint, writeBehind: { maxBatch: 25, flushMs: 600_000, maxQueue: 1_000 } });
    const crashed = await openMemory(options, capturingLogger().log);
    await crashed.store.remember('torn', say('whole'));
    const [segment] = readdirSync(join(space.dataDir, 'pending'));
    appendFileSync(join(space.dataDir, 'pending', segment!), '{"kind":"message","callId":"torn","mess');

    const { log, lines } = capturingLogger();
    const restarted = await openMemory({ ...options, writeBehind: { maxBatch: 25, flushMs: 10, maxQueue: 1_000 } }, log);
    expect(lines().some((line) => line.event === 'memory.journal_malformed')).toBe(true);
    await eventually(async () => (await seqsOf('torn')).length === 1);
    await restarted.close();
    await crashed.close();
    await space.cleanup();
  });
});
