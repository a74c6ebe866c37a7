import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMemory } from '../../src/memory/create.js';
import { SEGMENT_RECORDS } from '../../src/memory/pending-journal.js';
import { capturingLogger, eventually, isolation, memoryOptions, say, startDynaliteReader } from '../memory/memory-fixtures.js';


describe('a failing journal degrades the node instead of failing calls', () => {
  let dynamo: Awaited<ReturnType<typeof startDynaliteReader>>;
  beforeAll(async () => {
    dynamo = await startDynaliteReader();
  });
  afterAll(() => dynamo.close());
  const storedCount = async (callId: string) => (await dynamo.storedItems(callId)).length;

  it('keeps taking turns when the journal directory is unusable, reports not-ready and counts what is at risk', async () => {
    const space = isolation('journal-fails');
    const { log, lines } = capturingLogger();
    const memory = await openMemory(memoryOptions({ ...space, hot: 'memory', dynamoEndpoint: dynamo.endpoint, writeBehind: { maxBatch: 25, flushMs: 10, maxQueue: 10_000 } }), log);
    for (let i = 1; i <= SEGMENT_RECORDS; i += 1) await memory.store.remember('busy', say(`m${i}`));
    expect(await memory.store.healthy()).toBe(true);

    // The journal directory stops taking files (as a read-only or vanished data dir does): the next
    // append must rotate, and neither deleting the full segment nor opening a new one can succeed.
    const pending = join(space.dataDir, 'pending');
    renameSync(pending, `${pending}.gone`);
    writeFileSync(pending, 'not a directory');
    const turn = await memory.store.remember('busy', say('after the disk went'));
    expect(turn.seq).toBe(SEGMENT_RECORDS + 1);
    expect(lines().find((line) => line.event === 'memory.journal_failed')).toBeDefined();
    expect(await memory.store.healthy()).toBe(false);
    // DynamoDB still gets everything; until it has it, the unjournaled count says what a crash would lose.
    await eventually(async () => (await storedCount('busy')) === SEGMENT_RECORDS + 1);
    await eventually(() => memory.stats().unjournaled === 0);

    // The journal heals when the directory does.
    rmSync(pending);
    mkdirSync(pending);
    await memory.store.remember('busy', say('disk is back'));
    expect(await memory.store.healthy()).toBe(true);
    expect(lines().some((line) => line.event === 'memory.journal_recovered_from_failure')).toBe(true);
    await memory.close();
    await space.cleanup();
  });
});
