import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundFrame } from '../../src/protocol/frames.js';
import { callKeys } from '../../src/memory/redis-keys.js';
import { CallerClient } from '../integration/caller-client.js';
import { capturingLogger, eventually, REDIS_URL } from '../memory/memory-fixtures.js';
import { startReliabilityNode, uniqueId, type ReliabilityNode } from './reliability-node.js';
import { droppedCall, runTakeoverAttempts, TAKEOVER_KEYS } from './takeover-attempts.js';

const [KEY_A, KEY_B] = TAKEOVER_KEYS;
const PIN = '4719';
const script = { ttftMs: 1, rules: [{ reply: 'Noted.' }] };

type ErrorFrame = Extract<OutboundFrame, { type: 'error' }>;

/** The first `ready` or `error` a start gets. */
async function answerTo(url: string, key: string, fields: Record<string, unknown>): Promise<{ caller: CallerClient; frame: OutboundFrame }> {
  const caller = await CallerClient.connect(url, { token: key });
  caller.send({ type: 'start', ...fields });
  return { caller, frame: await caller.next((f) => f.type === 'ready' || f.type === 'error') };
}

async function refusal(url: string, key: string, fields: Record<string, unknown>): Promise<ErrorFrame> {
  const { caller, frame } = await answerTo(url, key, fields);
  caller.close();
  if (frame.type !== 'error') throw new Error(`expected a refusal, got ${JSON.stringify(frame)}`);
  return frame;
}

describe('no call is taken over (a node with two API keys)', () => {
  let test: ReliabilityNode;
  let lines: () => Array<Record<string, unknown>>;

  beforeAll(async () => {
    const captured = capturingLogger();
    lines = captured.lines;
    test = await startReliabilityNode({
      log: captured.log,
      script,
      config: { server: { apiKeys: [KEY_A, KEY_B], host: '127.0.0.1', resumeGraceMs: 30_000 }, log: { level: 'info' } },
    });
  });
  afterAll(async () => {
    await test?.close();
  });

  const droppedWithPin = () => droppedCall(test.url, lines, { prefix: 'victim', words: `My PIN is ${PIN}.`, token: KEY_A });

  it('refuses a resume without the token, with a wrong one, or with the token under another key, exactly as for a call that never was', async () => {
    const { callId, resumeToken } = await droppedWithPin();
    const wrongToken = Buffer.alloc(32, 7).toString('base64url');
    const attempts = [
      await refusal(test.url, KEY_B, { callId, resume: true }),
      await refusal(test.url, KEY_B, { callId, resume: true, resumeToken }),
      await refusal(test.url, KEY_A, { callId, resume: true }),
      await refusal(test.url, KEY_A, { callId, resume: true, resumeToken: wrongToken }),
    ];
    const never = await refusal(test.url, KEY_A, { callId: 'never-was', resume: true, resumeToken });
    const expected = { type: 'error', code: 'unknown_call', fatal: false, message: `no call "${callId}" to resume with this resumeToken and key` };
    for (const attempt of attempts) expect(attempt).toEqual(expected);
    expect({ ...never, message: never.message.replace('never-was', callId) }).toEqual(expected);

    // The owner still resumes it, with its history.
    const owner = await CallerClient.connect(test.url, { token: KEY_A });
    expect(await owner.start({ callId, resume: true, resumeToken })).toEqual({ type: 'ready', callId, protocol: 'aybiza.v1', resumed: true, resumeToken });
    expect((await owner.turn('What is my PIN?')).map((say) => say.text).join(' ')).toBe('Noted.');
    expect(JSON.stringify(test.requests(callId).at(-1)?.body)).toContain(PIN);
    owner.send({ type: 'hangup' });
    await owner.closed();
    // Refusals are logged (call.resume_refused), the token never.
    expect(lines().filter((line) => line.event === 'call.resume_refused' && line.callId === callId)).toHaveLength(attempts.length);
    expect(JSON.stringify(lines())).not.toContain(resumeToken);
  });

  it('answers unknown_call for ever to a resume of a hung-up call, even with its token, and refuses its id to a new start; also once Redis forgot it', async () => {
    const callId = uniqueId('hung-up');
    const caller = await CallerClient.connect(test.url, { token: KEY_A });
    const { resumeToken } = await caller.start({ callId });
    await caller.turn(`My PIN is ${PIN}.`);
    caller.send({ type: 'hangup' });
    await caller.closed();

    const checks = async () => {
      expect(await refusal(test.url, KEY_A, { callId, resume: true, resumeToken })).toMatchObject({ code: 'unknown_call', fatal: false });
      for (const key of [KEY_A, KEY_B]) {
        expect(await refusal(test.url, key, { callId })).toEqual({
          type: 'error', code: 'call_exists', fatal: false, message: `call id "${callId}" is or was in use; start a new call without callId or with an unused one`,
        });
      }
    };
    await checks();
    // DynamoDB keeps the ended marker after the hot store has expired the call.
    await eventually(() => test.node.memory.writeQueueDepth() === 0);
    const redis = new Redis(REDIS_URL);
    try {
      const keys = callKeys(test.config.memory.keyPrefix, callId);
      await redis.del(keys.msgs, keys.seq, keys.snap, keys.grant);
    } finally {
      await redis.quit();
    }
    await checks();
    expect(test.requests(callId).length).toBe(1);
  });

  it('refuses a start that reuses the id of a live call with call_exists; the call goes on', async () => {
    const callId = uniqueId('live');
    const owner = await CallerClient.connect(test.url, { token: KEY_A });
    await owner.start({ callId });
    for (const key of [KEY_B, KEY_A]) expect(await refusal(test.url, key, { callId })).toMatchObject({ code: 'call_exists', fatal: false });
    expect((await owner.turn('Hello')).map((say) => say.text).join(' ')).toBe('Noted.');
    owner.close();
  });
});

describe('takeover attempts of every kind (npm run reliability:report runs more)', () => {
  it('refuses every one, never lets the PIN one caller said reach a model request of another connection, and the owners still resume', async () => {
    expect(await runTakeoverAttempts({ victims: 2 })).toEqual({ attempts: 13, refused: 13, leaks: 0, ownersResumed: 1, victims: 2 });
  }, 60_000);
});

describe('simultaneous resumes of one call are single-flight', () => {
  const PARALLEL = 8;
  let first: ReliabilityNode;
  let second: ReliabilityNode;
  let lines: () => Array<Record<string, unknown>>;

  beforeAll(async () => {
    const captured = capturingLogger();
    lines = captured.lines;
    first = await startReliabilityNode({ log: captured.log, script, config: { server: { resumeGraceMs: 30_000 }, log: { level: 'info' } } });
    // A second node on the same Redis: the call is not live there, so a resume restores it from its snapshot.
    second = await startReliabilityNode({ script, config: { server: { resumeGraceMs: 30_000 }, memory: { keyPrefix: first.config.memory.keyPrefix } } });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  for (const where of ['the node that holds it suspended', 'another node, from its stored snapshot'] as const) {
    it(`${PARALLEL} resumes at once on ${where}: one gets ready, the others call_busy, the winner talks on, no actor leaks`, async () => {
      const node = where.startsWith('another') ? second : first;
      const { callId, resumeToken } = await droppedCall(first.url, lines, { prefix: 'parallel', words: 'Hello' });
      const before = node.node.calls.active();
      const callers = await Promise.all(Array.from({ length: PARALLEL }, () => CallerClient.connect(node.url)));
      for (const caller of callers) caller.send({ type: 'start', callId, resume: true, resumeToken });
      const answers = await Promise.all(callers.map((caller) => caller.next((f) => f.type === 'ready' || f.type === 'error')));
      const winners = callers.filter((_, index) => answers[index]!.type === 'ready');
      expect(winners).toHaveLength(1);
      const losers = answers.filter((answer): answer is ErrorFrame => answer.type === 'error');
      expect(losers.map((loser) => [loser.code, loser.fatal])).toEqual(Array.from({ length: PARALLEL - 1 }, () => ['call_busy', false]));
      expect((await winners[0]!.turn('Are you there?')).map((say) => say.text).join(' ')).toBe('Noted.');
      // On the holding node the call was live already; elsewhere exactly one actor more.
      expect(node.node.calls.active()).toBe(before + (node === first ? 0 : 1));
      for (const caller of callers) caller.close();
    });
  }
});
