import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CallerClient } from '../integration/caller-client.js';
import { dynalitePids, embeddedServe, eventually, type EmbeddedServe } from './serve-process.js';
import { scrapeMetric, uniqueId } from './reliability-node.js';

const answered = (says: Array<{ last?: boolean }>) => says.length > 0 && says.at(-1)?.last === true;

describe('a serve process whose service children fail', () => {
  let world: EmbeddedServe | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('restarts memory when its dynalite process is killed mid-call, counts the restart, and the call resumes and is answered', async () => {
    world = embeddedServe('dynalite-kill');
    const serve = await world.start();
    const callId = uniqueId('dynalite-kill');
    const caller = await CallerClient.connect(serve.url);
    const { resumeToken } = await caller.start({ callId });
    expect(answered(await caller.turn('Hello, I would like an appointment.'))).toBe(true);

    const [dynalite] = dynalitePids(serve.child.pid!);
    expect(dynalite).toBeGreaterThan(0);
    process.kill(dynalite!, 'SIGKILL');
    const restart = await serve.waitFor('node.child_restart', 30_000);
    expect(restart.child).toBe('memory');
    // rest_for_one: calls and telephony restart after memory, so the caller is cut off and resumes.
    await caller.closed();
    expect(await eventually(async () => (await fetch(`${serve.metricsUrl}/readyz`)).ok)).toBe(true);
    expect(await scrapeMetric(serve.metricsUrl, 'aybiza_actor_restarts_total', { kind: 'service' })).toBe(1);
    const fresh = dynalitePids(serve.child.pid!);
    expect(fresh).toHaveLength(1);
    expect(fresh[0]).not.toBe(dynalite);

    const resumed = await CallerClient.connect(serve.url);
    expect((await resumed.start({ callId, resume: true, resumeToken })).resumed).toBe(true);
    expect(answered(await resumed.turn('Tomorrow morning, please.'))).toBe(true);
    const another = await CallerClient.connect(serve.url);
    await another.start({ callId: uniqueId('after-restart') });
    expect(answered(await another.turn('Hello?'))).toBe(true);
    for (const client of [resumed, another]) client.close();
  }, 120_000);

  it('exits 1 with one line naming the reason when dynalite cannot be started again', async () => {
    world = embeddedServe('dynalite-unstartable');
    const serve = await world.start();
    const [dynalite] = dynalitePids(serve.child.pid!);
    // The running dynalite keeps its open files; a restart finds a file where its folder was.
    renameSync(join(world.dataDir, 'dynamo'), join(world.dataDir, 'dynamo-moved'));
    writeFileSync(join(world.dataDir, 'dynamo'), 'not a folder');
    process.kill(dynalite!, 'SIGKILL');
    const { code } = await serve.exited;
    expect(code).toBe(1);
    const lines = serve.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^aybiza serve: the supervision tree gave up: more than 3 restarts within 60000 ms \(last: child "call-path": .*memory.*\)$/);
  }, 120_000);
});
