import {
  AccessDeniedException, ModelErrorException, ModelTimeoutException, ResourceNotFoundException, ServiceQuotaExceededException,
  ValidationException, type ContentBlock, type ConverseStreamCommandInput, type ConverseStreamOutput, type Message,
} from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCatalogue } from '../../src/config/catalogue.js';
import { loadConfig } from '../../src/config/load.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { ModelEventMapper } from '../../src/llm/converse-stream.js';
import { parseMessages, stringifyMessages } from '../../src/llm/message-json.js';
import { buildConverseRequest } from '../../src/llm/prompt.js';
import { SONNET, sdkClient, streamEvents, textOf } from './sdk-client.js';

const OPUS_41 = 'us.anthropic.claude-opus-4-1-20250805-v1:0';
const OPUS_47 = 'global.anthropic.claude-opus-4-7';
const SONNET_46 = 'us.anthropic.claude-sonnet-4-6';
/** A model added the way a configuration adds one: no thinking, no caching. */
const PLAIN = 'us.anthropic.claude-plain-1';

let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startEmulator({
    script: {
      ttftMs: 1, tokensPerSecond: 5_000,
      rules: [
        { when: 'redact', thinking: 'secret', redactedThinking: true, reply: 'Done.' },
        { when: 'both', toolUses: [{ name: 'lookup_customer', input: { identifier: 'a-long-identifier' } }, { name: 'search_knowledge', input: { query: 'cancellation policy' } }] },
        { when: 'account', thinking: 'Look them up.', toolUse: { name: 'lookup_customer', input: { identifier: '+1555' } } },
        { after: 'lookup_customer', reply: 'Found you.' },
        { reply: 'Hello there.' },
      ],
    },
    models: [{
      alias: 'plain-1', id: 'anthropic.claude-plain-1', geos: ['us'], lifecycle: 'active', maxOutputTokens: 4_096, minCacheTokens: 1_024,
      cacheTtls: [], thinkingTypes: [], prefill: true, temperatureWithTopP: true, profileOnly: true,
    }],
  });
});

afterAll(async () => {
  await emulator?.close();
});

const tools = { tools: [
  { toolSpec: { name: 'lookup_customer', inputSchema: { json: { type: 'object' } } } },
  { toolSpec: { name: 'search_knowledge', inputSchema: { json: { type: 'object' } } } },
] };
const enabled = { additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 2_048 } } };
const adaptive = { additionalModelRequestFields: { thinking: { type: 'adaptive' } } };
const user = (...content: ContentBlock[]): Message => ({ role: 'user', content });
const say = (text: string, modelId = SONNET, extra: Partial<ConverseStreamCommandInput> = {}): ConverseStreamCommandInput =>
  ({ modelId, messages: [user({ text })], inferenceConfig: { maxTokens: 4_000 }, ...extra });
const cachePoint = (ttl?: '5m' | '1h') => ({ cachePoint: { type: 'default' as const, ...(ttl ? { ttl } : {}) } });

async function outcome(input: ConverseStreamCommandInput) {
  const client = sdkClient(emulator.url, 'http2');
  try {
    return await streamEvents(client, input);
  } finally {
    client.destroy();
  }
}

/** The assistant message a client builds from a streamed answer, reasoning first, as src/call does. */
function assistantFrom(events: ConverseStreamOutput[]): Message {
  const mapper = new ModelEventMapper();
  const reasoning: { text: string; signature?: string; redacted?: Uint8Array } = { text: '' };
  const content: ContentBlock[] = [];
  for (const modelEvent of events.flatMap((event) => mapper.map(event))) {
    if (modelEvent.type === 'reasoning') {
      reasoning.text += modelEvent.text ?? '';
      if (modelEvent.signature) reasoning.signature = modelEvent.signature;
      if (modelEvent.redactedContent) reasoning.redacted = modelEvent.redactedContent;
    }
    if (modelEvent.type === 'text') content.push({ text: modelEvent.text });
    if (modelEvent.type === 'toolUse') content.push({ toolUse: { toolUseId: modelEvent.toolUseId, name: modelEvent.name, input: modelEvent.input as never } });
  }
  const first: ContentBlock[] = reasoning.redacted
    ? [{ reasoningContent: { redactedContent: reasoning.redacted } }]
    : reasoning.signature ? [{ reasoningContent: { reasoningText: { text: reasoning.text, signature: reasoning.signature } } }] : [];
  return { role: 'assistant', content: [...first, ...content] };
}

const resultsFor = (assistant: Message): Message => user(...(assistant.content ?? []).flatMap((block) =>
  block.toolUse ? [{ toolResult: { toolUseId: block.toolUse.toolUseId!, content: [{ text: 'ok' }], status: 'success' as const } }] : []));

/** A tool round with thinking: the first answer, and the follow-up request built from it. */
async function toolLoop(edit: (assistant: Message) => Message = (assistant) => assistant): Promise<ConverseStreamCommandInput> {
  const first = await outcome(say('Check my account', SONNET, { ...enabled, toolConfig: tools }));
  expect(first.error).toBeUndefined();
  const assistant = edit(assistantFrom(first.events));
  return { ...say('', SONNET, { ...enabled, toolConfig: tools }), messages: [user({ text: 'Check my account' }), assistant, resultsFor(assistant)] };
}

const refusals: Array<[string, () => ConverseStreamCommandInput | Promise<ConverseStreamCommandInput>, RegExp]> = [
  ['maxTokens above the model output limit', () => say('Hi', OPUS_41, { inferenceConfig: { maxTokens: 32_001 } }), /exceeds the model limit of 32000/],
  ['temperature with topP on a 4.5-generation model', () => say('Hi', SONNET, { inferenceConfig: { maxTokens: 100, temperature: 0.5, topP: 0.9 } }), /`temperature` and `top_p` cannot both be specified/],
  ['a cache point with nothing before it', () => say('Hi', SONNET, { system: [cachePoint(), { text: 'You answer.' }] }), /no content before it/],
  ['a message holding only a cache point', () => ({ ...say('Hi'), messages: [user({ text: 'Hi' }), { role: 'assistant', content: [cachePoint()] }, user({ text: 'Again' })] }), /holds only a cachePoint/],
  ['a one-hour cache TTL on a model without it', () => say('Hi', OPUS_41, { system: [{ text: 'You answer.' }, cachePoint('1h')] }), /cache TTL 1h .* not supported/],
  ['thinking on a model without thinking', () => say('Hi', PLAIN, enabled), /thinking: Extra inputs are not permitted/],
  ['adaptive thinking on a model with only enabled', () => say('Hi', SONNET, adaptive), /Input tag 'adaptive'/],
  ['enabled thinking on a model with only adaptive', () => say('Hi', OPUS_47, enabled), /thinking\.type\.enabled is not supported/],
  ['an unknown key in additionalModelRequestFields', () => say('Hi', SONNET, { additionalModelRequestFields: { thinking_enabled: true } }), /thinking_enabled: Extra inputs are not permitted/],
  ['temperature other than 1 with thinking', () => say('Hi', SONNET, { ...enabled, inferenceConfig: { maxTokens: 4_000, temperature: 0.7 } }), /may only be set to 1/],
  ['topP under 0.95 with thinking', () => say('Hi', SONNET, { ...enabled, inferenceConfig: { maxTokens: 4_000, topP: 0.9 } }), /`top_p` must be greater than or equal to 0.95/],
  ['an invented model id', () => say('Hi', 'anthropic.claude-foo-20990101-v1:0'), /provided model identifier is invalid/],
  ['a model past its end of life', () => say('Hi', 'us.anthropic.claude-3-7-sonnet-20250219-v1:0'), /provided model identifier is invalid/],
  ['a profile geography the model is not offered in', () => say('Hi', 'apac.anthropic.claude-opus-4-1-20250805-v1:0'), /provided model identifier is invalid/],
  ['an assistant prefill on a model that refuses it', () => ({ ...say('Hi', SONNET_46), messages: [user({ text: 'Hi' }), { role: 'assistant', content: [{ text: 'Sure' }] }] }), /does not support assistant message prefill/],
  ['an unknown service tier', () => say('Hi', SONNET, { serviceTier: { type: 'gold' as never } }), /serviceTier\.type/],
  ['a tool loop whose assistant message lacks its reasoning', () => toolLoop((a) => ({ ...a, content: a.content!.filter((b) => !b.reasoningContent) })), /Expected `thinking` or `redacted_thinking`, but found `tool_use`/],
  ['a reasoning block after the tool use', () => toolLoop((a) => ({ ...a, content: [...a.content!.slice(1), a.content![0]!] })), /must come before any `text` or `tool_use`|Expected `thinking`/],
  ['a reasoning block with a forged signature', () => toolLoop((a) => ({ ...a, content: [{ reasoningContent: { reasoningText: { text: 'Look them up.', signature: 'Zm9yZ2Vk' } } }, ...a.content!.slice(1)] })), /Invalid `signature` in `thinking` block/],
];

describe('the emulator refuses what Bedrock refuses, with ValidationException and HTTP 400', () => {
  it.each(refusals)('%s', async (_name, build, message) => {
    const { error } = await outcome(await build());
    expect(error).toBeInstanceOf(ValidationException);
    expect((error as ValidationException).$metadata.httpStatusCode).toBe(400);
    expect((error as Error).message).toMatch(message);
  });
});

const acceptances: Array<[string, () => ConverseStreamCommandInput | Promise<ConverseStreamCommandInput>]> = [
  ['temperature 1 and topP 0.95 with thinking', () => say('Hi', SONNET, { ...enabled, inferenceConfig: { maxTokens: 4_000, temperature: 1 } })],
  ['topP 0.95 with thinking', () => say('Hi', SONNET, { ...enabled, inferenceConfig: { maxTokens: 4_000, topP: 0.95 } })],
  ['temperature with topP on a model that takes both', () => say('Hi', OPUS_41, { inferenceConfig: { maxTokens: 100, temperature: 0.5, topP: 0.9 } })],
  ['maxTokens at the output limit', () => say('Hi', OPUS_41, { inferenceConfig: { maxTokens: 32_000 } })],
  ['a one-hour cache TTL on a model with it', () => say('Hi', SONNET, { system: [{ text: 'You answer.' }, cachePoint('1h')] })],
  ['adaptive thinking on Opus 4.7 (undated id)', () => say('Hi', OPUS_47, adaptive)],
  ['enabled thinking on Sonnet 4.6 (undated id)', () => say('Hi', SONNET_46, enabled)],
  ['a configured model through its profile', () => say('Hi', PLAIN)],
  ['an assistant prefill on a model that takes it', () => ({ ...say('Hi', SONNET), messages: [user({ text: 'Hi' }), { role: 'assistant', content: [{ text: 'Sure' }] }] })],
  ['known model fields: thinking with the interleaved-thinking beta', () => say('Hi', SONNET, { additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 2_048 }, anthropic_beta: ['interleaved-thinking-2025-05-14'] } })],
  ['a cache point after text in a message', () => ({ ...say('Hi'), messages: [user({ text: 'Hi' }, cachePoint())] })],
  ['a tool loop without reasoning blocks when thinking is off', async () => {
    const loop = await toolLoop((a) => ({ ...a, content: a.content!.filter((b) => !b.reasoningContent) }));
    return { ...loop, additionalModelRequestFields: undefined };
  }],
  ['the priority service tier', () => say('Hi', SONNET, { serviceTier: { type: 'priority' } })],
  ['the tool loop with the reasoning block the emulator signed', () => toolLoop()],
];

describe('the emulator accepts what Bedrock accepts', () => {
  it.each(acceptances)('%s', async (_name, build) => {
    const { error, events } = await outcome(await build());
    expect(error).toBeUndefined();
    expect(events.at(-1)?.metadata).toBeDefined();
  });
});

describe('the emulator answers as Claude on Bedrock does', () => {
  it('never answers with a tool use when the request has no toolConfig', async () => {
    const { events } = await outcome(say('Check my account'));
    expect(events.some((event) => event.contentBlockStart?.start?.toolUse)).toBe(false);
    expect(events.find((event) => event.messageStop)?.messageStop?.stopReason).toBe('end_turn');
  });

  it('always thinks first when thinking is on, even where the script has no thinking', async () => {
    const { events } = await outcome(say('Hi', SONNET, enabled));
    const first = events.find((event) => event.contentBlockDelta)?.contentBlockDelta;
    expect(first?.contentBlockIndex).toBe(0);
    expect(first?.delta?.reasoningContent?.text).toBeTruthy();
    expect(textOf(events)).toBe('Hello there.');
  });

  it('streams parallel tool uses one block at a time: start, deltas, stop, then the next', async () => {
    const { events } = await outcome(say('both please', SONNET, { toolConfig: tools }));
    const order = events.flatMap((event) => event.contentBlockStart ? [`start ${event.contentBlockStart.contentBlockIndex}`]
      : event.contentBlockStop ? [`stop ${event.contentBlockStop.contentBlockIndex}`]
        : event.contentBlockDelta?.delta?.toolUse ? [`delta ${event.contentBlockDelta.contentBlockIndex}`] : []);
    const compact = order.filter((step, index) => step !== order[index - 1]);
    expect(compact).toEqual(['start 0', 'delta 0', 'stop 0', 'start 1', 'delta 1', 'stop 1']);
  });

  it('interleaves them when the script asks, and the client still assembles both inputs', async () => {
    emulator.setScript({ ttftMs: 1, tokensPerSecond: 5_000, toolUseStreaming: 'interleaved', rules: [
      { toolUses: [{ name: 'lookup_customer', input: { identifier: 'a-long-identifier' } }, { name: 'search_knowledge', input: { query: 'cancellation policy' } }] },
    ] }, 'interleaving');
    const { events } = await outcome(say('both', SONNET, { toolConfig: tools, requestMetadata: { agent: 'interleaving' } }));
    const starts = events.flatMap((event, position) => (event.contentBlockStart ? [position] : []));
    const firstDelta = events.findIndex((event) => event.contentBlockDelta?.delta?.toolUse);
    expect(starts.every((position) => position < firstDelta)).toBe(true);
    const mapper = new ModelEventMapper();
    const uses = events.flatMap((event) => mapper.map(event)).filter((event) => event.type === 'toolUse');
    expect(uses.map((use) => use.input)).toEqual([{ identifier: 'a-long-identifier' }, { query: 'cancellation policy' }]);
  });
});

describe('redacted thinking', () => {
  it('round-trips as the same bytes through the client, its stored JSON and the SDK', async () => {
    const first = await outcome(say('redact this', SONNET, enabled));
    const assistant = assistantFrom(first.events);
    const blob = assistant.content?.[0]?.reasoningContent?.redactedContent;
    expect(blob).toBeInstanceOf(Uint8Array);
    const stored = parseMessages(stringifyMessages(assistant)) as Message;
    expect(stored.content?.[0]?.reasoningContent?.redactedContent).toEqual(blob);
    const next = { ...say('', SONNET, enabled), messages: [user({ text: 'redact this' }), stored, user({ text: 'Thanks' })] };
    expect((await outcome(next)).error).toBeUndefined();
    const sent = emulator.requests().at(-1)!.body as { messages: Array<{ content: Array<{ reasoningContent?: { redactedContent?: string } }> }> };
    expect(Buffer.from(sent.messages[1]!.content[0]!.reasoningContent!.redactedContent!, 'base64')).toEqual(Buffer.from(blob!));
  });

  it('is refused when the blob was base64-encoded once too often', async () => {
    const first = await outcome(say('redact this', SONNET, enabled));
    const blob = assistantFrom(first.events).content![0]!.reasoningContent!.redactedContent!;
    const twice = new TextEncoder().encode(Buffer.from(blob).toString('base64'));
    const next = { ...say('', SONNET, enabled), messages: [user({ text: 'redact this' }), { role: 'assistant' as const, content: [{ reasoningContent: { redactedContent: twice } }, { text: 'Done.' }] }, user({ text: 'Thanks' })] };
    const { error } = await outcome(next);
    expect(error).toBeInstanceOf(ValidationException);
    expect((error as Error).message).toMatch(/Invalid `data` in `redacted_thinking` block/);
  });
});

describe('injectable faults answer with the status and exception the SDK model gives', () => {
  it.each([
    ['accessDeniedRate', AccessDeniedException, 403],
    ['resourceNotFoundRate', ResourceNotFoundException, 404],
    ['modelTimeoutRate', ModelTimeoutException, 408],
    ['modelErrorRate', ModelErrorException, 424],
    ['serviceQuotaExceededRate', ServiceQuotaExceededException, 400],
  ] as const)('%s', async (rate, type, status) => {
    emulator.setScript({ ttftMs: 1, rules: [{ reply: 'Hi.' }], faults: { [rate]: 1 } }, rate);
    const { error } = await outcome(say('Hi', SONNET, { requestMetadata: { agent: rate } }));
    expect(error).toBeInstanceOf(type);
    expect((error as AccessDeniedException).$metadata.httpStatusCode).toBe(status);
  });

  it.each([
    ['inStreamInternalErrorRate', 'InternalServerException'],
    ['inStreamUnavailableRate', 'ServiceUnavailableException'],
    ['inStreamValidationRate', 'ValidationException'],
  ] as const)('%s arrives mid-stream after some text', async (rate, name) => {
    emulator.setScript({ ttftMs: 1, tokensPerSecond: 5_000, rules: [{ reply: 'One sentence here. And another sentence after it.' }], faults: { [rate]: 1 } }, rate);
    const { events, error } = await outcome(say('Hi', SONNET, { requestMetadata: { agent: rate } }));
    expect(textOf(events).length).toBeGreaterThan(0);
    expect((error as Error).name).toBe(name);
  });
});

describe('continuing after a broken stream on a model that refuses prefill', () => {
  it('is accepted, and the answer goes on from the words already spoken', async () => {
    const agent = { ...loadConfig({ env: {} }).agents.default!, tools: [] };
    const request = buildConverseRequest({
      agent, model: createCatalogue({}).resolve('sonnet-4.6', 'us-east-1'), tools: [], thinking: false,
      history: [{ role: 'user', content: [{ text: 'Hi' }] }, { role: 'assistant', content: [{ text: 'Hello' }] }],
      call: { callId: 'prefill-1', turn: 1, agent: 'default' },
    });
    const { events, error } = await outcome(request);
    expect(error).toBeUndefined();
    expect(textOf(events)).toBe(' there.');
  });
});

describe('minimum cacheable prefix, from the shared model data', () => {
  const longSystem = [{ text: 'Policy. '.repeat(1_100) }, cachePoint()];
  const cacheWrite = async (modelId: string) =>
    (await outcome(say('Hi', modelId, { system: longSystem }))).events.at(-1)?.metadata?.usage?.cacheWriteInputTokens;

  it('caches about 2,000 tokens on Sonnet 4.5 (1,024 minimum) but not on Opus 4.5 (4,096 minimum)', async () => {
    expect(await cacheWrite(SONNET)).toBeGreaterThan(1_024);
    expect(await cacheWrite('us.anthropic.claude-opus-4-5-20251101-v1:0')).toBe(0);
  });
});
