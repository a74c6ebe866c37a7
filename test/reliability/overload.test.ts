import { describe, expect, it } from 'vitest';
import { runPastMaxCalls, runSlowReader, runStartBurst } from './overload.js';

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

  it(`answers every one of ${soak ? 5_000 : 1_000} simultaneous starts, accepted or refused`, async () => {
    const attempts = soak ? 5_000 : 1_000;
    const result = await runStartBurst({ maxCalls: Math.round(attempts * 0.6), attempts });
    console.info(`reliability: ${attempts} simultaneous starts all answered in ${Math.round(result.allAnsweredMs)} ms (${result.accepted} accepted, ${result.refusedCleanly} refused; the model answered ${result.modelAnswered} first turns, the canned answer the rest)`);
    expect(result.unanswered).toBe(0);
    expect(result.accepted + result.refusedCleanly).toBe(attempts);
    expect(result.acceptedAndStarved).toBe(0);
  }, 180_000);
});
