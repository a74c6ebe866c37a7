import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMemory } from '../../src/memory/create.js';
import { capturingLogger, eventually, isolation, memoryOptions, startDynaliteReader } from '../memory/memory-fixtures.js';

describe('recovered journal records are validated before they are queued', () => {
  let dynamo: Awaited<ReturnType<typeof startDynaliteReader>>;
  beforeAll(async () => {
    dynamo = await startDynaliteReader();
  });
  afterAll(() => dynamo.close());

  it('quarantines JSON lines that are not records to a named file, logs the count and boots with the rest', async () => {
    const space = isolation('quarantine');
    const pending = join(space.dataDir, 'pending');
    mkdirSync(pending, { recursive: true });
    const good = { kind: 'message', callId: 'kept', message: { seq: 1, ts: 1, role: 'user', content: [{ text: 'hello' }] } };
    const bad = [
      { kind: 'message', callId: 'no-message' },
      { kind: 'summary', callId: 'empty-summary', summary: {} },
      { kind: 'message', callId: 'bad-seq', message: { seq: 'one', ts: 1, role: 'user', content: [] } },
      { kind: 'snapshot', callId: 'no-json' },
      [1, 2, 3],
      null,
    ];
    writeFileSync(join(pending, '000000000000001-crashed-deadbeef.jsonl'), `${[good, ...bad].map((value) => JSON.stringify(value)).join('\n')}\n`);

    const { log, lines } = capturingLogger();
    const memory = await openMemory(memoryOptions({ ...space, hot: 'memory', dynamoEndpoint: dynamo.endpoint, writeBehind: { maxBatch: 25, flushMs: 10, maxQueue: 100 } }), log);
    expect(lines().find((line) => line.event === 'memory.journal_recovered')).toMatchObject({ records: 1 });
    expect(lines().find((line) => line.event === 'memory.journal_quarantined')).toMatchObject({ records: bad.length });
    const quarantined = readFileSync(join(pending, 'quarantine', '000000000000001-crashed-deadbeef.jsonl'), 'utf8').trim().split('\n');
    expect(quarantined.map((line) => JSON.parse(line))).toEqual(bad);

    // The good record is written and nothing is left retrying.
    await eventually(() => memory.writeQueueDepth() === 0);
    expect(await dynamo.storedItems('kept')).toHaveLength(1);
    await memory.close();
    // The quarantine is kept for an operator and never replayed; the recovered segment is gone.
    expect(readdirSync(pending)).toEqual(['quarantine']);
    await space.cleanup();
  });
});
