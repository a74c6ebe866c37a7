import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { maskPhoneNumbersIn } from '../../src/log.js';
import { capturingLogger } from '../memory/memory-fixtures.js';
import { CallerClient } from './caller-client.js';
import { startTestNode, type TestNode } from './test-node.js';

const CALLER_SAYS = 'My number is 555-123-4567 and my PIN is 4821, can you call me back?';
const AGENT_SAYS = 'Of course, we will call you back from +1 (555) 010-7788 today.';
const agent = (logTranscripts: boolean) => ({ systemPrompt: 'You answer.', tools: [], model: 'sonnet', logTranscripts });

describe('transcripts in the call logs (agents.<name>.logTranscripts)', () => {
  let test: TestNode;
  const logs = capturingLogger();

  /** One call to `agentName`, and every log line that names it. */
  async function callLines(agentName: string, callId: string): Promise<Array<Record<string, unknown>>> {
    const caller = await CallerClient.connect(test.url);
    await caller.start({ callId, agent: agentName, from: '+15551234567' });
    await caller.turn(CALLER_SAYS);
    caller.send({ type: 'hangup' });
    await caller.closed();
    await vi.waitFor(() => expect(logs.lines().some((line) => line.event === 'call.summary' && line.callId === callId)).toBe(true));
    return logs.lines().filter((line) => line.callId === callId);
  }

  beforeAll(async () => {
    test = await startTestNode({
      log: logs.log,
      config: { agents: { default: agent(false), chatty: agent(true) } },
      script: { ttftMs: 5, tokensPerSecond: 10_000, rules: [{ reply: AGENT_SAYS }] },
    });
  }, 60_000);
  afterAll(() => test?.close());

  it('logs what the caller said and what the agent said when on, phone numbers masked', async () => {
    const lines = await callLines('chatty', 'transcripts-on');
    expect(lines.filter((line) => line.event === 'turn.transcript')).toEqual([expect.objectContaining({
      level: 'info', callId: 'transcripts-on',
      caller: 'My number is ***4567 and my PIN is 4821, can you call me back?',
      agent: 'Of course, we will call you back from ***7788 today.',
    })]);
    const text = JSON.stringify(lines);
    expect(text).not.toContain('555-123-4567');
    expect(text).not.toContain('010-7788');
  });

  it('puts no transcript text in any log line when off (the default), even at debug level', async () => {
    const lines = await callLines('default', 'transcripts-off');
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.filter((line) => line.event === 'turn.transcript')).toEqual([]);
    const everything = logs.lines().filter((line) => line.callId !== 'transcripts-on').map((line) => JSON.stringify(line)).join('\n');
    for (const words of ['My number is', 'PIN', 'call me back', 'Of course', 'call you back']) expect(everything).not.toContain(words);
  });

  it('masks numbers written with separators, and leaves short ones such as PINs and times', () => {
    expect(maskPhoneNumbersIn('call +44 20 7946 0958 or (212) 555-0199, PIN 4821 at 10:30')).toBe('call ***0958 or ***0199, PIN 4821 at 10:30');
  });
});
