import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { CallerClient } from '../integration/caller-client.js';
import { saturate } from '../support/busy-loop.js';
import { runPastMaxCalls, runSlowReader, runStartBurst } from './overload.js';
import { metricValue, startReliabilityNode } from './reliability-node.js';

const soak = process.env.AYBIZA_SOAK === '1';

describe('overload', () => {
  it('refuses calls past maxCalls with error(overloaded), hangup and close; every accepted call is answered', async () => {
    const result = await runPastMaxCalls({ maxCalls: 20, surplus: 10 });
    expect(result).toMatchObject({ accepted: 20, refusedCleanly: 10, acceptedAndStarved: 0, unanswered: 0 });
  }, 60_000);

  it('ends only the call of a client that stops reading, once its send buffer passes the bound', async () => {
    const result = await runSlowReader({ sendBufferBytes: 64 * 1024, maxFrames: 400_000 });
    expect(result.slowCallEnded).toBe(true);
    expect(result.droppedCalls).toBe(1);
    expect(result.slowSocketClosed).toBe(true);
    expect(result.healthyTurns.completed).toBe(result.healthyTurns.asked);
  }, 120_000);

  it(`answers every one of ${soak ? 5_000 : 300} simultaneous starts, accepted or refused`, async () => {
    const attempts = soak ? 5_000 : 300;
    const result = await runStartBurst({ maxCalls: Math.round(attempts * 0.6), attempts });
    console.info(`reliability: ${attempts} simultaneous starts all answered in ${Math.round(result.allAnsweredMs)} ms (${result.accepted} accepted, ${result.refusedCleanly} refused; the model answered ${result.modelAnswered} first turns, the canned answer the rest)`);
    expect(result.unanswered).toBe(0);
    expect(result.accepted + result.refusedCleanly).toBe(attempts);
    expect(result.acceptedAndStarved).toBe(0);
  }, 180_000);

  // Real saturation against a real limit depends on this machine's speed, so it runs in the soak
  // only; test/runtime/overload-guard.test.ts checks the guard's decisions on recorded delays.
  it.runIf(soak)('refuses new calls while its event loop is saturated, keeps serving the calls it holds, and takes calls again once it recovers', async () => {
    const test = await startReliabilityNode({ config: { server: { maxEventLoopLagMs: 60 } } });
    try {
      const held = await CallerClient.connect(test.url);
      await held.start();
      // More work than the loop can do for longer than one guard window (2 s), then a new caller.
      const busy = saturate(5_000, 120);
      await sleep(4_400);
      const refused = await CallerClient.connect(test.url);
      refused.send({ type: 'start' });
      const error = await refused.next((frame) => frame.type === 'error');
      await busy;
      await refused.closed();
      expect(error).toMatchObject({ code: 'overloaded', fatal: true });
      expect(JSON.stringify(error)).toMatch(/its event loop ran \d+ ms late/);
      expect(refused.frames.at(-1)).toMatchObject({ type: 'hangup', reason: 'overloaded' });
      expect(await metricValue(test, 'aybiza_protocol_errors_total', { code: 'overloaded' })).toBe(1);

      expect((await held.turn('Hello there')).at(-1)?.last).toBe(true);
      await sleep(4_200);
      const later = await CallerClient.connect(test.url);
      await later.start();
      expect((await later.turn('Hello there')).at(-1)?.last).toBe(true);
      held.close();
      later.close();
    } finally {
      await test.close();
    }
  }, 60_000);
});
