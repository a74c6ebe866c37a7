import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad, type LoadOptions } from '../../src/load/runner.js';

/** Small scenarios with a fast emulated model, written to a temporary folder as a user would. */
const scenarios = {
  'lookup.json': {
    name: 'lookup',
    agent: { systemPrompt: 'You look callers up.', tools: ['lookup_customer'], model: 'sonnet' },
    model: {
      ttftMs: { min: 5, max: 15 },
      tokensPerSecond: 400,
      rules: [
        { when: 'account', toolUse: { name: 'lookup_customer', input: { identifier: '{{from}}' } } },
        { after: 'lookup_customer', reply: 'Your account is in good standing. Anything else?' },
        { reply: 'Goodbye!' },
      ],
    },
    caller: [
      { say: 'Can you check my account?', expect: { tool: 'lookup_customer', sayMatches: 'good standing' } },
      { say: 'No thanks, bye.', expect: { sayMatches: 'Goodbye' } },
      { hangup: true },
    ],
  },
  'interrupts.json': {
    name: 'interrupts',
    model: {
      ttftMs: { min: 5, max: 10 },
      tokensPerSecond: 30,
      rules: [
        { when: 'bye', reply: 'Goodbye!' },
        { reply: 'Short first sentence. Then a long second sentence that goes on and on so that there is time to interrupt it properly.' },
      ],
    },
    caller: [
      { say: 'Tell me about your hours.' },
      { say: 'Sorry, I mean on Saturday.', bargeInAfterMs: 150 },
      { say: 'Okay, bye.', expect: { sayMatches: 'Goodbye' } },
      { hangup: true },
    ],
  },
  'paced.json': {
    name: 'paced',
    // Phone pacing four times faster than a phone, so the test stays short: 100 ms a word each way.
    pacing: { callerWordsPerMinute: 600, partialEveryMs: 50, endpointingMs: 50, agentWordsPerMinute: 600 },
    model: { ttftMs: 5, tokensPerSecond: 400, rules: [{ when: 'bye', reply: 'Goodbye!' }, { reply: 'We are open from nine to five.' }] },
    caller: [
      { say: 'When are you open on weekdays?', expect: { sayMatches: 'nine to five' } },
      { say: 'Thanks, bye.', expect: { sayMatches: 'Goodbye' } },
      { hangup: true },
    ],
  },
  'wrong-expectation.json': {
    name: 'wrong-expectation',
    model: { ttftMs: 5, tokensPerSecond: 400, rules: [{ reply: 'We are open from nine to five.' }] },
    caller: [
      { say: 'When are you open?', expect: { sayMatches: 'open from nine' } },
      { say: 'And on Sunday?', expect: { sayMatches: 'closed on sunday' } },
      { hangup: true },
    ],
  },
};

let dir: string;
const file = (name: keyof typeof scenarios) => join(dir, name);
const run = (options: Partial<LoadOptions> & Pick<LoadOptions, 'files'>) =>
  runLoad({ seed: 7, pace: 'fast', playbackMsPerWord: 2, turnTimeoutMs: 10_000, ...options });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aybiza-scenarios-'));
  for (const [name, scenario] of Object.entries(scenarios)) writeFileSync(join(dir, name), JSON.stringify(scenario));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('load runner against an in-process server', () => {
  it('reports every turn and tool call of a small run, with latency percentiles', async () => {
    const report = await run({ files: [file('lookup.json')], calls: 6, rampSeconds: 0.2 });
    expect(report.failures).toEqual([]);
    expect(report.calls).toEqual({ started: 6, completed: 6, failed: 0 });
    expect(report.turns).toBe(12);
    expect(report.toolCalls).toBe(6);
    expect(report.latencyMs.turn.p50).toBeGreaterThan(0);
    expect(report.latencyMs.ttft.p50).toBeGreaterThan(0);
    expect(report.overheadMs.p99).toBeGreaterThanOrEqual(0);
    expect(report.eventLoopLagMs).not.toBeNull();
    expect(report.serverRssMb).toBeGreaterThan(0);
  });

  it('mixes several files by share and drives a barge-in that the client sees as `clear`', async () => {
    const report = await run({ files: [file('lookup.json'), file('interrupts.json')], calls: 4 });
    expect(report.failures).toEqual([]);
    expect(report.scenario).toBe('lookup+interrupts');
    expect(report.bargeIns).toBe(2);
  });

  it('plays a call at phone pace, partial transcripts as the words come, with Poisson arrivals', async () => {
    const report = await run({ files: [file('paced.json')], calls: 2, rampSeconds: 0.2, pace: 'phone', arrivals: 'poisson', playbackMsPerWord: undefined });
    expect(report.failures).toEqual([]);
    expect(report).toMatchObject({ pace: 'phone', arrivals: 'poisson', calls: { completed: 2 }, turns: 4 });
  });

  it('fails a call whose expectation is not met, naming the call, the step and why', async () => {
    const report = await run({ files: [file('wrong-expectation.json')], calls: 2 });
    expect(report.calls.failed).toBe(2);
    expect(report.failures).toHaveLength(2);
    expect(report.failures[0]).toMatchObject({
      callId: expect.stringMatching(/^load-7-[a-z0-9]+-\d$/),
      scenario: 'wrong-expectation',
      step: 1,
      reason: expect.stringContaining('/closed on sunday/i'),
    });
  });

  it('refuses a bad file before any call starts', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ name: 'bad', caller: [{ say: 'hi', dtmf: '1' }] }));
    await expect(run({ files: [file('lookup.json'), bad] })).rejects.toThrow(/bad\.json: invalid scenario\n {2}caller\[0\]/);
  });
});
