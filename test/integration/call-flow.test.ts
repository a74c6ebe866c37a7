import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallerClient } from './caller-client.js';
import { HAIKU, SONNET, startTestNode, type TestNode } from './test-node.js';

/** Agents of these tests, each with its own emulated model behaviour (scripts are keyed by agent). */
const agents = {
  default: { systemPrompt: 'You are the receptionist of Harbor Dental.', tools: ['lookup_customer', 'book_appointment', 'transfer_call', 'send_email'], model: 'sonnet' },
  parallel: { systemPrompt: 'You book and confirm.', tools: ['book_appointment', 'send_email'], model: 'sonnet' },
  throttled: { systemPrompt: 'You answer.', tools: [], model: 'sonnet' },
  sickregion: { systemPrompt: 'You answer.', tools: [], model: 'sonnet' },
  broken: { systemPrompt: 'You answer.', tools: [], model: 'sonnet', cannedAnswer: 'Sorry, our system is slow right now. Please say that again.' },
  slow: { systemPrompt: 'You talk a lot.', tools: [], model: 'sonnet' },
  cached: { systemPrompt: 'You answer questions about the practice.', tools: [], model: 'haiku', cacheFirstAnswers: true },
};

const scripts = {
  default: {
    ttftMs: { min: 5, max: 20 },
    rules: [
      { when: 'account', toolUse: { name: 'lookup_customer', input: { identifier: '{{from}}' } } },
      { after: 'lookup_customer', reply: 'I found your account. It is active. Anything else?' },
      { when: 'person|human', toolUse: { name: 'transfer_call', input: { to: 'front-desk', reason: 'caller asked for a person' } } },
      { after: 'transfer_call', reply: 'Transferring you now.' },
      { reply: 'We are open from nine to five. How else can I help?' },
    ],
  },
  parallel: {
    rules: [
      {
        when: 'book',
        toolUses: [
          { name: 'book_appointment', input: { date: '2026-12-03', time: '10:00', reason: 'cleaning' } },
          { name: 'send_email', input: { to: 'ana@example.com', subject: 'Your appointment', body: 'See you on December third.' } },
        ],
      },
      { after: 'send_email', reply: 'You are booked, and I sent you an email.' },
    ],
  },
  throttled: {
    rules: [{ reply: 'A cheaper model answers.' }],
    faults: { byModel: { 'claude-sonnet': { throttleRate: 1 } } },
  },
  sickregion: {
    rules: [{ reply: 'The other region answers.' }],
    faults: { byRegion: { 'us-east-1': { notReadyRate: 1 } } },
  },
  broken: {
    rules: [{ reply: 'never heard' }],
    faults: { throttleRate: 1 },
  },
  slow: {
    ttftMs: { min: 5, max: 10 },
    tokensPerSecond: 40,
    rules: [{ reply: 'First sentence is short. Then comes a very long second sentence that keeps going for quite a while so the caller can interrupt it. And a third one that nobody hears.' }],
  },
};

let test: TestNode;

beforeAll(async () => {
  test = await startTestNode({ scripts, config: { agents } });
});

afterAll(async () => {
  await test?.close();
});

describe('a call over aybiza.v1', () => {
  it('answers a full call: start, ready, transcript, say chunks ending with last, hangup', async () => {
    const caller = await CallerClient.connect(test.url);
    const ready = await caller.start({ callId: 'flow-basic', from: '+15551000000' });
    expect(ready).toEqual({ type: 'ready', callId: 'flow-basic', protocol: 'aybiza.v1', resumed: false, resumeToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const says = await caller.turn('What are your hours?');
    expect(says.map((say) => say.text).join(' ')).toBe('We are open from nine to five. How else can I help?');
    expect(says.at(-1)?.last).toBe(true);
    expect(says.every((say) => say.turn === 1)).toBe(true);
    caller.send({ type: 'hangup' });
    await caller.closed();
  });

  it('runs a tool the model asks for and speaks the answer; the result goes back in the next request', async () => {
    const caller = await CallerClient.connect(test.url);
    await caller.start({ callId: 'flow-tool', from: '+15551000000' });
    const says = await caller.turn('Is my account active?');
    expect(says.map((say) => say.text).join(' ')).toContain('I found your account.');
    const requests = test.requests('flow-tool');
    expect(requests).toHaveLength(2);
    const second = requests[1]!.body as { messages: Array<{ role: string; content: Array<Record<string, any>> }> };
    const toolResult = second.messages.at(-1)!.content.find((block) => block.toolResult)?.toolResult;
    expect(toolResult.status).toBe('success');
    expect(JSON.stringify(toolResult.content)).toContain('+15551000000');
    caller.close();
  });

  it('runs two parallel tool uses of one answer and sends both results back', async () => {
    const caller = await CallerClient.connect(test.url);
    await caller.start({ callId: 'flow-parallel', agent: 'parallel' });
    const says = await caller.turn('Please book me a cleaning');
    expect(says.at(-1)?.text).toBe('You are booked, and I sent you an email.');
    const second = test.requests('flow-parallel')[1]!.body as { messages: Array<{ content: Array<Record<string, any>> }> };
    const results = second.messages.at(-1)!.content.filter((block) => block.toolResult);
    expect(results).toHaveLength(2);
    caller.close();
  });

  it('on barge-in clears, aborts the model stream, and keeps only what was played in history', async () => {
    const caller = await CallerClient.connect(test.url);
    await caller.start({ callId: 'flow-bargein', agent: 'slow' });
    caller.send({ type: 'transcript', text: 'Tell me everything', final: true });
    const first = await caller.next((f) => f.type === 'say');
    caller.send({ type: 'played', id: (first as { id: string }).id });
    caller.send({ type: 'speech_started' });
    const clear = await caller.next((f) => f.type === 'clear');
    expect(clear).toEqual({ type: 'clear', turn: 1 });
    await expect.poll(() => test.requests('flow-bargein')[0]?.aborted, { timeout: 10_000 }).toBe(true);
    await caller.turn('Never mind');
    const second = test.requests('flow-bargein')[1]!.body as { messages: Array<{ role: string; content: Array<{ text?: string }> }> };
    const assistant = second.messages.find((message) => message.role === 'assistant');
    expect(assistant?.content).toEqual([{ text: 'First sentence is short.' }]);
    caller.close();
  });

  it('falls back to a cheaper model when the primary model is throttled', async () => {
    const caller = await CallerClient.connect(test.url);
    await caller.start({ callId: 'flow-throttled', agent: 'throttled' });
    const says = await caller.turn('Hello');
    expect(says.map((say) => say.text).join(' ')).toBe('A cheaper model answers.');
    const models = test.requests('flow-throttled').map((request) => request.modelId);
    expect(models[0]).toBe(SONNET);
    expect(models.at(-1)).toBe(HAIKU);
    caller.close();
  });

  it('falls back to the other region when the primary region is not ready', async () => {
    const caller = await CallerClient.connect(test.url);
    await caller.start({ callId: 'flow-region', agent: 'sickregion' });
    const says = await caller.turn('Hello');
    expect(says.map((say) => say.text).join(' ')).toBe('The other region answers.');
    const regions = test.requests('flow-region').map((request) => request.region);
    expect(regions[0]).toBe('us-east-1');
    expect(regions.at(-1)).toBe('us-west-2');
    caller.close();
  });

  it('says the canned answer when every model fails, and the call goes on', async () => {
    const caller = await CallerClient.connect(test.url);
    await caller.start({ callId: 'flow-canned', agent: 'broken' });
    const first = await caller.turn('Hello');
    expect(first.map((say) => say.text)).toEqual(['Sorry, our system is slow right now. Please say that again.']);
    const second = await caller.turn('Hello again');
    expect(second.at(-1)?.last).toBe(true);
    caller.close();
  });

  it('transfers the call when the model uses transfer_call', async () => {
    const caller = await CallerClient.connect(test.url);
    await caller.start({ callId: 'flow-transfer' });
    caller.send({ type: 'transcript', text: 'Can I talk to a person?', final: true });
    const transfer = await caller.next((f) => f.type === 'transfer');
    expect(transfer).toMatchObject({ type: 'transfer', to: 'front-desk' });
    await caller.closed();
  });

  it('answers an opening question another caller already asked from the answer cache, without a model call', async () => {
    const ask = async (callId: string) => {
      const caller = await CallerClient.connect(test.url);
      await caller.start({ callId, agent: 'cached' });
      const says = await caller.turn('What are your opening hours?');
      caller.close();
      return says.map((say) => say.text).join(' ');
    };
    const first = await ask('flow-cache-1');
    const second = await ask('flow-cache-2');
    expect(second).toBe(first);
    expect(test.requests('flow-cache-1')).toHaveLength(1);
    expect(test.requests('flow-cache-2')).toHaveLength(0);
  });
});
