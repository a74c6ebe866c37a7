import { describe, expect, it } from 'vitest';
import { runSigkillResume, runSigtermDrain } from './serve-restart.js';

const CALLS = process.env.AYBIZA_SOAK === '1' ? 1_000 : 50;

describe('a serve process shut down and restarted', () => {
  it(`SIGTERM during ${CALLS} active calls: refuses new calls, ends the active ones politely, writes all history, exits 0`, async () => {
    const result = await runSigtermDrain(CALLS);
    expect(result.exitCode).toBe(0);
    expect(result.refusedWhileDraining).toBe(true);
    expect(result.endedPolitely).toBe(CALLS);
    expect(result.expectedMessages).toBe(CALLS * 2);
    expect(result.storedMessages).toBe(result.expectedMessages);
  }, 180_000);

  it(`SIGKILL during ${CALLS} active calls, restart: every call resumes with its history, nothing stored is lost`, async () => {
    const result = await runSigkillResume(CALLS);
    expect(result.storedBeforeKill).toBe(CALLS * 2);
    expect(result.storedAfterRestart).toBe(result.storedBeforeKill);
    expect(result.resumed).toBe(CALLS);
    expect(result.answeredAfterResume).toBe(CALLS);
    expect(result.historyCarried).toBe(CALLS);
    expect(result.storedAtEnd).toBe(result.storedBeforeKill + CALLS * 2);
  }, 180_000);
});
