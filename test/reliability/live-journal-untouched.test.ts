import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMemory } from '../../src/memory/create.js';
import { capturingLogger, eventually, isolation, memoryOptions, startDynalite } from '../memory/memory-fixtures.js';

describe('a journal segment of a live process', () => {
  let dynamo: Awaited<ReturnType<typeof startDynalite>>;
  beforeAll(async () => {
    dynamo = await startDynalite();
  });
  afterAll(async () => {
    await dynamo.close();
  });

  it('is never recovered (nor deleted) by another process on the same data dir, and is once that process has ended', async () => {
    const space = isolation('live-journal');
    // A process that stays up: the segment carries its pid, as a running node's segments do.
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    await new Promise((resolve) => live.once('spawn', resolve));
    const pending = join(space.dataDir, 'pending');
    mkdirSync(pending, { recursive: true });
    const segment = join(pending, `000000000000001-${live.pid}-abcd1234.jsonl`);
    writeFileSync(segment, `${JSON.stringify({ kind: 'message', callId: 'theirs', message: { seq: 1, ts: 1, role: 'user', content: [{ text: 'mine' }] } })}\n`);
    const options = memoryOptions({ ...space, hot: 'memory', dynamoEndpoint: dynamo.endpoint, writeBehind: { maxBatch: 25, flushMs: 10, maxQueue: 100 } });

    const first = capturingLogger();
    const second = await openMemory(options, first.log);
    expect(first.lines().some((line) => line.event === 'memory.journal_recovered')).toBe(false);
    expect(first.lines().find((line) => line.event === 'memory.journal_live_owner')).toMatchObject({ pid: live.pid });
    await second.close();
    expect(existsSync(segment)).toBe(true);

    live.kill('SIGKILL');
    await new Promise((resolve) => live.once('exit', resolve));
    const after = capturingLogger();
    const restarted = await openMemory(options, after.log);
    expect(after.lines().find((line) => line.event === 'memory.journal_recovered')).toMatchObject({ records: 1 });
    await eventually(() => restarted.writeQueueDepth() === 0);
    await restarted.close();
    expect(existsSync(segment)).toBe(false);
    await space.cleanup();
  });
});
