import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMemory } from '../../src/memory/create.js';
import { capturingLogger, eventually, isolation, memoryOptions, say, startDynalite, textOf } from '../memory/memory-fixtures.js';

describe('messages larger than a DynamoDB item', () => {
  let dynamo: Awaited<ReturnType<typeof startDynalite>>;
  beforeAll(async () => {
    dynamo = await startDynalite();
  });
  afterAll(async () => {
    await dynamo.close();
  });

  it('are stored whole, compressible or not, with no sequence gap, and read back from DynamoDB', async () => {
    const space = isolation('large-items');
    const options = memoryOptions({ ...space, hot: 'memory', dynamoEndpoint: dynamo.endpoint, writeBehind: { maxBatch: 25, flushMs: 10, maxQueue: 1_000 } });
    const { log, lines } = capturingLogger();
    const writer = await openMemory(options, log);
    // ~400 KB of transcript (compresses well) and ~1.1 MB of random text (does not).
    const repetitive = 'I would like to book a cleaning next week please. '.repeat(8_000);
    const random = randomBytes(800_000).toString('base64');
    const texts = ['before', repetitive, random, 'after'];
    for (const text of texts) await writer.store.remember('large', say(text));
    await eventually(() => writer.writeQueueDepth() === 0);
    expect(lines().filter((line) => line.event === 'memory.write_rejected')).toEqual([]);
    await writer.close();

    // A new process with an empty hot window reads the history from DynamoDB alone.
    const reader = await openMemory(options, capturingLogger().log);
    const read = await reader.store.context('large', 10);
    expect(read.map((message) => message.seq)).toEqual([1, 2, 3, 4]);
    expect(read.map(textOf)).toEqual(texts);
    await reader.close();
    await space.cleanup();
  });
});
