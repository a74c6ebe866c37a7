import { Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CallerClient } from '../integration/caller-client.js';
import { startTestNode, type TestNode } from '../integration/test-node.js';
import { metricValue, uniqueId } from '../reliability/reliability-node.js';
import { eventually } from '../reliability/serve-process.js';

const answered = (says: Array<{ last?: boolean }>) => says.length > 0 && says.at(-1)?.last === true;

/**
 * The listening server of this process on `port`. A listener that fails in production (EMFILE on
 * accept, a handle torn down under it) reports an `error` event; the test makes that event happen.
 */
function listenerOn(port: number): Server {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  const server = handles.find((handle): handle is Server => handle instanceof Server && (handle.address() as { port?: number } | null)?.port === port);
  if (!server) throw new Error(`no listener on port ${port}`);
  return server;
}

const portOf = (url: string) => Number(new URL(url.replace(/^ws/, 'http')).port);

describe('a node whose listening servers fail', () => {
  let test: TestNode | undefined;
  afterEach(async () => {
    await test?.close();
    test = undefined;
  });

  it('restarts only the embedded emulator on its port when its listener fails; the call in progress goes on', async () => {
    test = await startTestNode({ script: { ttftMs: { min: 1, max: 5 }, rules: [{ reply: 'Sure.' }] } });
    const before = test.node.emulator!;
    const caller = await CallerClient.connect(test.url);
    await caller.start({ callId: uniqueId('emulator-fails') });
    expect(answered(await caller.turn('Hello'))).toBe(true);

    listenerOn(before.port).emit('error', new Error('listener failed'));
    expect(await eventually(() => test!.node.emulator !== undefined && test!.node.emulator !== before)).toBe(true);
    expect(test.node.emulator!.port).toBe(before.port);
    expect(await metricValue(test, 'aybiza_actor_restarts_total', { kind: 'service' })).toBe(1);
    expect(caller.closedWith).toBeUndefined();
    expect(answered(await caller.turn('Are you still there?'))).toBe(true);
    caller.close();
  }, 60_000);

  it('restarts telephony alone, the last of the call path, when its listener fails; the caller resumes on the same URL', async () => {
    test = await startTestNode({ script: { ttftMs: { min: 1, max: 5 }, rules: [{ reply: 'Sure.' }] }, config: { server: { resumeGraceMs: 30_000 } } });
    const callsBefore = test.node.calls;
    const callId = uniqueId('telephony-fails');
    const caller = await CallerClient.connect(test.url);
    const { resumeToken } = await caller.start({ callId });
    expect(answered(await caller.turn('Hello'))).toBe(true);

    listenerOn(portOf(test.url)).emit('error', new Error('listener failed'));
    await caller.closed();
    expect(await eventually(() => CallerClient.connect(test!.url).then((probe) => {
      probe.close();
      return true;
    }))).toBe(true);
    expect(test.node.calls).toBe(callsBefore);
    expect(await metricValue(test, 'aybiza_actor_restarts_total', { kind: 'service' })).toBe(1);
    const resumed = await CallerClient.connect(test.url);
    expect((await resumed.start({ callId, resume: true, resumeToken })).resumed).toBe(true);
    expect(answered(await resumed.turn('Are you still there?'))).toBe(true);
    resumed.close();
  }, 60_000);

  it('restarts the metrics server on its port when its listener fails', async () => {
    test = await startTestNode();
    listenerOn(portOf(test.node.metricsUrl)).emit('error', new Error('listener failed'));
    expect(await eventually(async () => (await metricValue(test!, 'aybiza_actor_restarts_total', { kind: 'service' })) === 1)).toBe(true);
    expect((await fetch(`${test.node.metricsUrl}/readyz`)).status).toBe(200);
  }, 60_000);
});
