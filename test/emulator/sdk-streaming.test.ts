import type { ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { HAIKU, sdkClient, streamEvents, textOf, TRANSPORTS, userSays } from './sdk-client.js';

const REPLY = 'We are open from nine to five. Is there anything else?';
const THINKING = 'The caller wants hours. Answer briefly.';
const TOOL_SPECS = ['book_appointment', 'send_email', 'lookup_customer'].map((name) => ({ toolSpec: { name, inputSchema: { json: { type: 'object' } } } }));

let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startEmulator({
    seed: 7,
    script: {
      ttftMs: { min: 1, max: 5 },
      tokensPerSecond: 2_000,
      rules: [
        { when: 'book', toolUses: [
          { name: 'book_appointment', input: { date: '2026-12-03', time: '10:00', reason: 'cleaning' } },
          { name: 'send_email', input: { to: 'ana@example.com', subject: 'Your appointment', body: 'See you on December third.' } },
        ] },
        { when: 'account', toolUse: { name: 'lookup_customer', input: { identifier: '{{from}}', call: '{{callId}}' } } },
        { after: 'lookup_customer', reply: 'I found your account.' },
        { when: 'hours', thinking: THINKING, reply: REPLY },
        { reply: REPLY },
      ],
    },
    scripts: { sales: { ttftMs: 1, tokensPerSecond: 2_000, rules: [{ reply: 'This is sales.' }] } },
  });
});

afterAll(async () => {
  await emulator?.close();
});

const blockIndexes = (events: ConverseStreamOutput[], kind: 'text' | 'toolUse' | 'reasoningContent') =>
  [...new Set(events.flatMap((event) => {
    const delta = event.contentBlockDelta;
    return delta?.delta && kind in delta.delta ? [delta.contentBlockIndex] : [];
  }))];

describe.each(TRANSPORTS)('ConverseStream through the real SDK over %s', (transport) => {
  it('streams a text reply as several deltas that reassemble exactly, in event order', async () => {
    const client = sdkClient(emulator.url, transport);
    const { events, error } = await streamEvents(client, userSays('Hello'));
    expect(error).toBeUndefined();
    expect(textOf(events)).toBe(REPLY);
    expect(events.filter((event) => event.contentBlockDelta).length).toBeGreaterThan(5);
    expect(Object.keys(events[0]!)).toEqual(['messageStart']);
    expect(events.at(-2)?.messageStop?.stopReason).toBe('end_turn');
    const metadata = events.at(-1)?.metadata;
    expect(Number.isInteger(metadata?.metrics?.latencyMs)).toBe(true);
    expect(metadata?.usage?.outputTokens).toBe(Math.ceil(REPLY.length / 4));
    expect(metadata?.usage?.totalTokens).toBe(metadata!.usage!.inputTokens! + metadata!.usage!.outputTokens!);
    client.destroy();
  });

  it('streams parallel tool uses as separate blocks whose partial JSON reassembles to the inputs', async () => {
    const client = sdkClient(emulator.url, transport);
    const { events, error } = await streamEvents(client, userSays('Please book me', { toolConfig: { tools: TOOL_SPECS } }));
    expect(error).toBeUndefined();
    const starts = events.flatMap((event) => (event.contentBlockStart?.start?.toolUse ? [event.contentBlockStart] : []));
    expect(starts.map((start) => start.start?.toolUse?.name)).toEqual(['book_appointment', 'send_email']);
    const inputs = starts.map((start) => {
      const pieces = events.flatMap((event) =>
        (event.contentBlockDelta?.contentBlockIndex === start.contentBlockIndex && event.contentBlockDelta?.delta?.toolUse ? [event.contentBlockDelta.delta.toolUse.input ?? ''] : []));
      expect(pieces.length).toBeGreaterThan(1);
      return JSON.parse(pieces.join(''));
    });
    expect(inputs).toEqual([
      { date: '2026-12-03', time: '10:00', reason: 'cleaning' },
      { to: 'ana@example.com', subject: 'Your appointment', body: 'See you on December third.' },
    ]);
    expect(starts.every((start) => /^tooluse_[A-Za-z0-9]{22}$/.test(start.start?.toolUse?.toolUseId ?? ''))).toBe(true);
    expect(events.at(-2)?.messageStop?.stopReason).toBe('tool_use');
    client.destroy();
  });

  it('fills {{from}} and {{callId}} from requestMetadata and answers the tool result with the after rule', async () => {
    const client = sdkClient(emulator.url, transport);
    const requestMetadata = { callId: `tmpl-${transport}`, from: '+15551230001', turn: '1' };
    const first = await streamEvents(client, userSays('my account please', { toolConfig: { tools: TOOL_SPECS }, requestMetadata }));
    const start = first.events.find((event) => event.contentBlockStart)!.contentBlockStart!.start!.toolUse!;
    const input = first.events.flatMap((event) => (event.contentBlockDelta?.delta?.toolUse ? [event.contentBlockDelta.delta.toolUse.input] : [])).join('');
    expect(JSON.parse(input)).toEqual({ identifier: '+15551230001', call: `tmpl-${transport}` });
    const second = await streamEvents(client, {
      ...userSays('my account please', { toolConfig: { tools: TOOL_SPECS }, requestMetadata: { ...requestMetadata } }),
      messages: [
        { role: 'user', content: [{ text: 'my account please' }] },
        { role: 'assistant', content: [{ toolUse: { toolUseId: start.toolUseId!, name: start.name!, input: JSON.parse(input) } }] },
        { role: 'user', content: [{ toolResult: { toolUseId: start.toolUseId!, content: [{ json: { found: true } }], status: 'success' } }] },
      ],
    });
    expect(textOf(second.events)).toBe('I found your account.');
    const records = emulator.requests({ callId: `tmpl-${transport}` });
    expect(records.map((record) => [record.turn, record.stopReason])).toEqual([[1, 'tool_use'], [1, 'end_turn']]);
    client.destroy();
  });

  it('streams reasoning deltas and a signature in their own block when the request enables thinking', async () => {
    const client = sdkClient(emulator.url, transport);
    const { events, error } = await streamEvents(client, userSays('What are your hours?', {
      inferenceConfig: { maxTokens: 4_000 },
      additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 2_048 } },
    }));
    expect(error).toBeUndefined();
    const reasoning = events.flatMap((event) => (event.contentBlockDelta?.delta?.reasoningContent ? [event.contentBlockDelta.delta.reasoningContent] : []));
    expect(reasoning.map((piece) => piece.text ?? '').join('')).toBe(THINKING);
    expect(reasoning.at(-1)?.signature).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(blockIndexes(events, 'reasoningContent')).toEqual([0]);
    expect(blockIndexes(events, 'text')).toEqual([1]);
    expect(textOf(events)).toBe(REPLY);
    client.destroy();
  });

  it('emits no reasoning when thinking is not enabled', async () => {
    const client = sdkClient(emulator.url, transport);
    const { events } = await streamEvents(client, userSays('What are your hours?'));
    expect(blockIndexes(events, 'reasoningContent')).toEqual([]);
    expect(blockIndexes(events, 'text')).toEqual([0]);
    client.destroy();
  });

  it('continues a prefilled assistant message from where the prefill ended', async () => {
    const client = sdkClient(emulator.url, transport);
    const { events } = await streamEvents(client, {
      ...userSays('Hello'),
      messages: [{ role: 'user', content: [{ text: 'Hello' }] }, { role: 'assistant', content: [{ text: 'We are open' }] }],
    });
    expect(textOf(events)).toBe(REPLY.slice('We are open'.length));
    client.destroy();
  });

  it('answers with the script of the agent named in requestMetadata', async () => {
    const client = sdkClient(emulator.url, transport);
    const sales = await streamEvents(client, userSays('Hello', { requestMetadata: { agent: 'sales', callId: `agent-${transport}` } }));
    expect(textOf(sales.events)).toBe('This is sales.');
    const unknown = await streamEvents(client, userSays('Hello', { requestMetadata: { agent: 'nobody' } }));
    expect(textOf(unknown.events)).toBe(REPLY);
    expect(emulator.requests({ callId: `agent-${transport}` })[0]?.agent).toBe('sales');
    client.destroy();
  });

  it('records the region of the SigV4 credential scope and the model id decoded from the path', async () => {
    const client = sdkClient(emulator.url, transport, { region: 'eu-west-3' });
    await streamEvents(client, userSays('Hello', { modelId: HAIKU, requestMetadata: { callId: `region-${transport}` } }));
    const [record] = emulator.requests({ callId: `region-${transport}` });
    expect(record).toMatchObject({ region: 'eu-west-3', modelId: HAIKU, operation: 'ConverseStream', status: 200, aborted: false });
    expect(record!.firstTokenAt).toBeGreaterThanOrEqual(record!.receivedAt);
    expect(record!.firstSentenceEndAt).toBeGreaterThanOrEqual(record!.firstTokenAt!);
    expect(record!.lastTokenAt).toBeGreaterThanOrEqual(record!.firstSentenceEndAt!);
    expect(record!.completedAt).toBeGreaterThanOrEqual(record!.lastTokenAt!);
    client.destroy();
  });
});

describe('token accounting', () => {
  it('reports a cache write for a long cached prefix the first time and a cache read after', async () => {
    const client = sdkClient(emulator.url, 'http2');
    const system = [{ text: `You are the receptionist. ${'Policy text. '.repeat(400)}` }, { cachePoint: { type: 'default' as const } }];
    const first = await streamEvents(client, userSays('Hello', { system }));
    const second = await streamEvents(client, userSays('Hello again', { system }));
    const firstUsage = first.events.at(-1)?.metadata?.usage;
    const secondUsage = second.events.at(-1)?.metadata?.usage;
    expect(firstUsage?.cacheWriteInputTokens).toBeGreaterThan(1_024);
    expect(firstUsage?.cacheReadInputTokens).toBe(0);
    expect(secondUsage?.cacheReadInputTokens).toBe(firstUsage?.cacheWriteInputTokens);
    expect(secondUsage?.cacheWriteInputTokens).toBe(0);
    client.destroy();
  });

  it('reports no cache figures for a prompt without cache points', async () => {
    const client = sdkClient(emulator.url, 'http2');
    const { events } = await streamEvents(client, userSays('Hello'));
    expect(events.at(-1)?.metadata?.usage?.cacheReadInputTokens).toBeUndefined();
    client.destroy();
  });

  it('stops at maxTokens with stopReason max_tokens', async () => {
    const client = sdkClient(emulator.url, 'http2');
    const { events } = await streamEvents(client, userSays('Hello', { inferenceConfig: { maxTokens: 3 } }));
    expect(textOf(events)).toBe(REPLY.slice(0, 12));
    expect(events.at(-2)?.messageStop?.stopReason).toBe('max_tokens');
    expect(events.at(-1)?.metadata?.usage?.outputTokens).toBe(3);
    client.destroy();
  });
});
