import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProcessAlive } from '../../src/process-alive.js';
import { CallerClient } from '../integration/caller-client.js';
import type { ChildService } from '../reliability/cli-process.js';
import { countStoredMessages, scrapeMetric, uniqueId } from '../reliability/reliability-node.js';
import { dynalitePids, embeddedServe, eventually, type EmbeddedServe } from '../reliability/serve-process.js';

type Line = Record<string, unknown>;
const TABLE = 'aybiza-conversations';

/**
 * One `serve --workers 2` on embedded defaults for the whole file (a start under tsx takes seconds
 * per worker): the primary's dynalite and emulator, calls spread over both workers by node:cluster.
 */
describe('serve --workers 2', () => {
  let world: EmbeddedServe;
  let serve: ChildService & { url: string; metricsUrl: string };
  let dynamoEndpoint: string;
  const lines: Line[] = [];
  const logged = (match: (line: Line) => boolean) => lines.filter(match);
  /** The worker that logged `event` for `callId` (the line may trail the frame the client saw). */
  const workerOf = async (event: string, callId: string): Promise<number> => {
    const line = () => logged((candidate) => candidate.event === event && candidate.callId === callId).at(-1);
    await eventually(() => line() !== undefined, 10_000);
    return line()?.worker as number;
  };

  beforeAll(async () => {
    world = embeddedServe('workers', { workers: 2 });
    serve = await world.start();
    createInterface({ input: serve.child.stdout! }).on('line', (text) => {
      try {
        lines.push(JSON.parse(text) as Line);
      } catch {
        // not a log line
      }
    });
    dynamoEndpoint = String((await serve.waitFor('node.embedded_dynamodb')).endpoint);
  }, 120_000);
  afterAll(async () => {
    await world?.close();
  });

  /** Whether the call's latest model request (the emulator keeps them) held every one of `texts`. */
  async function lastRequestCarries(callId: string, texts: string[]): Promise<boolean> {
    const requests = await (await fetch(`${String(serve.ready.bedrock)}/_emulator/requests?callId=${encodeURIComponent(callId)}`)).json() as Array<{ body: { messages: unknown[] } }>;
    const last = JSON.stringify(requests.at(-1)?.body.messages ?? []);
    return texts.every((text) => last.includes(text));
  }

  /** A call with one turn answered, and the worker that took it. */
  async function callWithOneTurn(prefix: string): Promise<{ caller: CallerClient; callId: string; resumeToken: string; worker: number }> {
    const callId = uniqueId(prefix);
    const caller = await CallerClient.connect(serve.url);
    const { resumeToken } = await caller.start({ callId });
    await caller.turn('Hello');
    return { caller, callId, resumeToken, worker: await workerOf('call.started', callId) };
  }

  /** Drops the call's connection and resumes it; `from` is where the resume landed and how. */
  async function dropAndResume(call: { caller: CallerClient; callId: string; resumeToken: string }): Promise<{ caller: CallerClient; worker: number; suspended: boolean }> {
    call.caller.close();
    await call.caller.closed();
    await eventually(() => logged((line) => line.event === 'call.suspended' && line.callId === call.callId).length > 0, 10_000);
    const before = logged((line) => line.event === 'call.resumed' && line.callId === call.callId).length;
    const caller = await CallerClient.connect(serve.url);
    const ready = await caller.start({ callId: call.callId, resume: true, resumeToken: call.resumeToken });
    expect(ready.resumed).toBe(true);
    await eventually(() => logged((line) => line.event === 'call.resumed' && line.callId === call.callId).length > before, 10_000);
    const resumed = logged((line) => line.event === 'call.resumed' && line.callId === call.callId).at(-1)!;
    return { caller, worker: resumed.worker as number, suspended: resumed.from === 'suspended' };
  }

  it('answers calls on one port from both workers, and /metrics sums them', async () => {
    expect(serve.ready.workers).toHaveLength(2);
    const calls = [];
    for (let i = 0; i < 4; i += 1) calls.push(await callWithOneTurn('spread'));
    expect(new Set(calls.map((call) => call.worker))).toEqual(new Set([1, 2]));
    // One registry per worker, one exposition: every turn and every held call counted once.
    expect(await scrapeMetric(serve.metricsUrl, 'aybiza_turn_latency_seconds_count')).toBe(4);
    expect(await scrapeMetric(serve.metricsUrl, 'aybiza_calls_active')).toBe(4);
    expect((await fetch(`${serve.metricsUrl}/readyz`)).status).toBe(200);
    for (const call of calls) call.caller.close();
  }, 60_000);

  it('a dropped call resumed on the other worker goes on with its history; the first worker lets it go', async () => {
    const call = await callWithOneTurn('moved');
    let resumed = await dropAndResume(call);
    // The same worker may take the reconnection (it reattaches the suspended call): drop it again.
    for (let attempt = 0; resumed.suspended && attempt < 6; attempt += 1) resumed = await dropAndResume({ ...call, caller: resumed.caller });
    expect(resumed.suspended).toBe(false);
    expect(resumed.worker).not.toBe(call.worker);
    expect(logged((line) => line.event === 'call.released' && line.callId === call.callId).map((line) => line.worker)).toEqual([call.worker]);
    await resumed.caller.turn('And again');
    expect(await lastRequestCarries(call.callId, ['Hello', 'And again'])).toBe(true);
    expect(await eventually(async () => (await countStoredMessages(dynamoEndpoint, TABLE, call.callId)) === 4)).toBe(true);
    resumed.caller.close();
  }, 90_000);

  it('a killed worker is forked again, and its call resumes on a worker with its history', async () => {
    const call = await callWithOneTurn('orphan');
    const pids = serve.ready.workers as number[];
    const victim = pids[call.worker - 1]!;
    // Its history is in DynamoDB before the kill, as a turn's write-behind leaves it within ~50 ms.
    expect(await eventually(async () => (await countStoredMessages(dynamoEndpoint, TABLE, call.callId)) === 2)).toBe(true);
    process.kill(victim, 'SIGKILL');
    await call.caller.closed();
    expect(await eventually(() => logged((line) => line.event === 'serve.child_restart' && line.child === `worker-${call.worker}`).length === 1)).toBe(true);
    // The replacement's start: the killed worker's own node.started line may have been collected too.
    expect(await eventually(() => logged((line) => line.event === 'node.started' && line.worker === call.worker && line.pid !== victim).length === 1, 60_000)).toBe(true);
    const caller = await CallerClient.connect(serve.url);
    const ready = await caller.start({ callId: call.callId, resume: true, resumeToken: call.resumeToken });
    expect(ready.resumed).toBe(true);
    await caller.turn('Still there?');
    expect(await lastRequestCarries(call.callId, ['Hello', 'Still there?'])).toBe(true);
    expect(await eventually(async () => (await countStoredMessages(dynamoEndpoint, TABLE, call.callId)) === 4)).toBe(true);
    caller.close();
  }, 120_000);

  it('SIGTERM drains every worker and exits 0, leaving no worker or dynalite behind', async () => {
    const dynalite = dynalitePids(serve.child.pid!);
    expect(dynalite).toHaveLength(1);
    const workerPids = [...serve.ready.workers as number[], ...logged((line) => line.event === 'node.started').map((line) => line.pid as number)];
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toEqual({ code: 0, signal: null });
    expect(logged((line) => line.event === 'node.stopped').map((line) => line.worker).sort()).toEqual([1, 2]);
    expect(await eventually(() => [...dynalite, ...workerPids].every((pid) => !isProcessAlive(pid)), 10_000)).toBe(true);
  }, 60_000);
});

describe('serve --workers 2 whose worker keeps dying', () => {
  let world: EmbeddedServe;
  afterAll(async () => {
    await world?.close();
  });

  it('forks it again up to the restart intensity (3 a minute), then gives up: exit 1 with one line, nothing left running', async () => {
    world = embeddedServe('workers-crash-loop', { workers: 2 });
    const serve = await world.start();
    const started: Line[] = [];
    createInterface({ input: serve.child.stdout! }).on('line', (text) => {
      if (text.includes('"node.started"')) started.push(JSON.parse(text) as Line);
    });
    const dynalite = dynalitePids(serve.child.pid!);
    let victim = (serve.ready.workers as number[])[0]!;
    // The first workers' own node.started lines may or may not reach the listener (it starts after
    // ready): a replacement is a worker 1 with a pid not seen before.
    const seen = new Set<number>(serve.ready.workers as number[]);
    const replacement = () => started.find((line) => line.worker === 1 && !seen.has(line.pid as number));
    for (let kill = 1; kill <= 4; kill += 1) {
      process.kill(victim, 'SIGKILL');
      if (kill === 4) break;
      expect(await eventually(() => replacement() !== undefined, 60_000)).toBe(true);
      victim = replacement()!.pid as number;
      seen.add(victim);
    }
    expect((await serve.exited).code).toBe(1);
    expect(serve.stderr().trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^aybiza serve: the supervision tree gave up: more than 3 restarts within 60000 ms \(last: child "worker-1": worker 1 \(pid \d+\) exited \(SIGKILL\)\)$/),
    ]);
    const pids = [...dynalite, ...(serve.ready.workers as number[]), ...started.map((line) => line.pid as number)];
    expect(await eventually(() => pids.every((pid) => !isProcessAlive(pid)), 10_000)).toBe(true);
  }, 120_000);
});
