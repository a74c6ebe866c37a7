import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/server.js';
import type { ModelEvent } from '../../src/llm/events.js';
import { emulatorClient, streamOutcome, textOf, userTurn } from './converse-stream-fixtures.js';

const GREETING = 'Welcome to Harbor Dental. We are open from eight to six, Monday to Friday. How can I help you today?';
const THINKING = 'The caller wants the cancellation policy. I should look it up before answering.';

const script = {
  ttftMs: 0,
  tokensPerSecond: 5_000,
  rules: [
    { when: 'account and policy', toolUses: [
      { name: 'lookup_customer', input: { identifier: '+15550001', include: ['balance', 'visits'] } },
      { name: 'search_knowledge', input: { query: 'cancellation policy', limit: 3, nested: { deep: [1, { x: 'y' }] } } },
    ] },
    { when: 'think', thinking: THINKING, reply: 'Let me check that for you.' },
    { reply: GREETING },
  ],
};

describe('converseStream events from the emulator through the real SDK', () => {
  let emulator: Awaited<ReturnType<typeof startEmulator>>;
  let client: BedrockRuntimeClient;

  beforeAll(async () => {
    emulator = await startEmulator({ script, seed: 7 });
    client = emulatorClient(emulator.url);
  });
  afterAll(async () => {
    client?.destroy();
    await emulator?.close();
  });

  it('streams a text answer as deltas that reassemble exactly, then stop and usage', async () => {
    const { events, error } = await streamOutcome(client, userTurn('hello', 'text-1'));
    expect(error).toBeUndefined();
    expect(textOf(events)).toBe(GREETING);
    expect(events.filter((event) => event.type === 'text').length).toBeGreaterThan(1);
    expect(events.slice(-2).map((event) => event.type)).toEqual(['stop', 'usage']);
    expect(events.at(-2)).toEqual({ type: 'stop', stopReason: 'end_turn' });
  });

  it('reports usage with integer token counts and latency', async () => {
    const { events } = await streamOutcome(client, userTurn('hello', 'usage-1'));
    const usage = events.find((event) => event.type === 'usage');
    expect(usage).toMatchObject({ type: 'usage' });
    if (usage?.type !== 'usage') return;
    // The emulator counts one token per four characters: of the request body it received, and of the answer.
    const body = emulator.requests({ callId: 'usage-1' })[0]?.body;
    expect(usage.usage).toEqual({
      inputTokens: Math.ceil(JSON.stringify(body).length / 4),
      outputTokens: Math.ceil(GREETING.length / 4),
      cacheReadInputTokens: 0,
      cacheWriteInputTokens: 0,
    });
    expect(Number.isInteger(usage.latencyMs)).toBe(true);
  });

  it('yields both parallel tool uses with their parsed input, each keyed by its own block', async () => {
    const { events, error } = await streamOutcome(client, userTurn('check my account and policy', 'tools-1'));
    expect(error).toBeUndefined();
    const starts = events.filter((event) => event.type === 'toolUseStart');
    const uses = events.filter((event): event is Extract<ModelEvent, { type: 'toolUse' }> => event.type === 'toolUse');
    expect(starts.map((event) => event.name)).toEqual(['lookup_customer', 'search_knowledge']);
    expect(uses.map(({ name, input }) => ({ name, input })).sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'lookup_customer', input: { identifier: '+15550001', include: ['balance', 'visits'] } },
      { name: 'search_knowledge', input: { query: 'cancellation policy', limit: 3, nested: { deep: [1, { x: 'y' }] } } },
    ]);
    expect(new Set(uses.map((use) => use.index)).size).toBe(2);
    for (const use of uses) {
      const start = starts.find((event) => event.index === use.index);
      expect(start).toMatchObject({ toolUseId: use.toolUseId, name: use.name });
    }
    expect(events.find((event) => event.type === 'stop')).toEqual({ type: 'stop', stopReason: 'tool_use' });
  });

  it('yields reasoning deltas with a signature, separate from the text', async () => {
    const thinking = { thinking: { type: 'enabled', budget_tokens: 1024 } };
    const { events, error } = await streamOutcome(client, userTurn('think about the policy', 'think-1', {
      inferenceConfig: { maxTokens: 4096 },
      additionalModelRequestFields: thinking,
    }));
    expect(error).toBeUndefined();
    const reasoning = events.filter((event): event is Extract<ModelEvent, { type: 'reasoning' }> => event.type === 'reasoning');
    expect(reasoning.map((event) => event.text ?? '').join('')).toBe(THINKING);
    expect(reasoning.filter((event) => event.signature).length).toBe(1);
    expect(reasoning.at(-1)?.signature).toBeTruthy();
    expect(textOf(events)).toBe('Let me check that for you.');
    const textIndexes = new Set(events.flatMap((event) => (event.type === 'text' ? [event.index] : [])));
    expect(textIndexes.has(reasoning[0]!.index)).toBe(false);
    const firstText = events.findIndex((event) => event.type === 'text');
    const lastReasoning = events.findLastIndex((event) => event.type === 'reasoning');
    expect(lastReasoning).toBeLessThan(firstText);
  });

  it('is cold: every subscription sends its own request', async () => {
    const stream = userTurn('hello', 'cold-1');
    const [first, second] = await Promise.all([streamOutcome(client, stream), streamOutcome(client, stream)]);
    expect(textOf(first.events)).toBe(GREETING);
    expect(textOf(second.events)).toBe(GREETING);
    expect(emulator.requests({ callId: 'cold-1' })).toHaveLength(2);
  });
});
