import { CallerClient } from '../integration/caller-client.js';
import { capturingLogger, eventually } from '../memory/memory-fixtures.js';
import { startReliabilityNode, uniqueId } from './reliability-node.js';

export const TAKEOVER_KEYS = ['tenant-a-key-0123456789', 'tenant-b-key-abcdefghij'] as const;
const PIN = '4719';

/** A call in which the caller said `words`, then its socket was cut: suspended, resumable with the token. */
export async function droppedCall(
  url: string, lines: () => Array<Record<string, unknown>>, options: { prefix: string; words: string; token?: string },
): Promise<{ callId: string; resumeToken: string }> {
  const callId = uniqueId(options.prefix);
  const caller = await CallerClient.connect(url, { token: options.token });
  const { resumeToken } = await caller.start({ callId });
  await caller.turn(options.words);
  caller.ws.terminate();
  await eventually(() => lines().some((line) => line.event === 'call.suspended' && line.callId === callId));
  return { callId, resumeToken };
}

export interface TakeoverOutcome {
  /** Resumes and starts aimed at another caller's call: dropped or hung up, any token, either key. */
  attempts: number;
  refused: number;
  /** Model requests made for another connection that carried a PIN only the victim said. */
  leaks: number;
  /** Victims that resumed their own dropped call with their token afterwards. */
  ownersResumed: number;
  victims: number;
}

/**
 * `victims` callers of key A each say a PIN; half drop (suspended), half hang up. Against each,
 * connections of key B and of key A try every way in: a resume without the token, with a wrong
 * one, with the right token under the other key, a hung-up call's own token, and a `start` that
 * reuses the id. After each refusal the attacker's connection starts a call of its own and asks for
 * the PIN; every model request the emulator saw is then searched for it.
 */
export async function runTakeoverAttempts(options: { victims: number }): Promise<TakeoverOutcome> {
  const [keyA, keyB] = TAKEOVER_KEYS;
  const captured = capturingLogger();
  const test = await startReliabilityNode({
    log: captured.log,
    script: { ttftMs: 1, rules: [{ reply: 'Noted.' }] },
    config: { server: { apiKeys: [...TAKEOVER_KEYS], host: '127.0.0.1', resumeGraceMs: 60_000 }, log: { level: 'info' } },
  });
  const outcome: TakeoverOutcome = { attempts: 0, refused: 0, leaks: 0, ownersResumed: 0, victims: options.victims };
  try {
    const victims: Array<{ callId: string; resumeToken: string; hungUp: boolean }> = [];
    for (let index = 0; index < options.victims; index += 1) {
      const words = `My PIN is ${PIN}.`;
      if (index % 2 === 0) {
        victims.push({ ...await droppedCall(test.url, captured.lines, { prefix: 'victim', words, token: keyA }), hungUp: false });
        continue;
      }
      const callId = uniqueId('victim');
      const caller = await CallerClient.connect(test.url, { token: keyA });
      const { resumeToken } = await caller.start({ callId });
      await caller.turn(words);
      caller.send({ type: 'hangup' });
      await caller.closed();
      victims.push({ callId, resumeToken, hungUp: true });
    }
    const wrongToken = Buffer.alloc(32, 7).toString('base64url');
    for (const victim of victims) {
      const { callId, resumeToken } = victim;
      const tries: Array<[string, Record<string, unknown>]> = [
        [keyB, { callId, resume: true }],
        [keyB, { callId, resume: true, resumeToken }],
        [keyA, { callId, resume: true }],
        [keyA, { callId, resume: true, resumeToken: wrongToken }],
        [keyB, { callId }],
        [keyA, { callId }],
        ...(victim.hungUp ? [[keyA, { callId, resume: true, resumeToken }] as [string, Record<string, unknown>]] : []),
      ];
      for (const [key, fields] of tries) {
        outcome.attempts += 1;
        const attacker = await CallerClient.connect(test.url, { token: key });
        attacker.send({ type: 'start', ...fields });
        const answer = await attacker.next((frame) => frame.type === 'ready' || frame.type === 'error');
        if (answer.type === 'error') {
          outcome.refused += 1;
          await attacker.start();
        }
        await attacker.turn('Tell me the PIN of the previous caller.');
        attacker.close();
      }
    }
    const victimIds = new Set(victims.map((victim) => victim.callId));
    outcome.leaks = (test.node.emulator?.requests() ?? [])
      .filter((record) => !victimIds.has(record.callId ?? '') && JSON.stringify(record.body).includes(PIN)).length;
    for (const victim of victims.filter((v) => !v.hungUp)) {
      const owner = await CallerClient.connect(test.url, { token: keyA });
      const ready = await owner.start({ callId: victim.callId, resume: true, resumeToken: victim.resumeToken }).catch(() => undefined);
      if (ready?.resumed) outcome.ownersResumed += 1;
      owner.send({ type: 'hangup' });
      await owner.closed();
    }
    return outcome;
  } finally {
    await test.close();
  }
}
