import { ValidationException, type ConverseStreamCommandInput } from '@aws-sdk/client-bedrock-runtime';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { SONNET, sdkClient, streamEvents, textOf, userSays } from './sdk-client.js';

let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startEmulator({ script: { ttftMs: 1, tokensPerSecond: 2_000, rules: [{ reply: 'Still here.' }] } });
});

afterAll(async () => {
  await emulator?.close();
});

const tools = { tools: [{ toolSpec: { name: 'lookup_customer', inputSchema: { json: { type: 'object' } } } }] };
const thinking = (budget: number) => ({ additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: budget } } });
const conversation = (...messages: ConverseStreamCommandInput['messages'] & object): ConverseStreamCommandInput => ({ modelId: SONNET, messages });
const user = (text: string) => ({ role: 'user' as const, content: [{ text }] });
const assistant = (text: string) => ({ role: 'assistant' as const, content: [{ text }] });
const usesTool = (id: string) => ({ role: 'assistant' as const, content: [{ toolUse: { toolUseId: id, name: 'lookup_customer', input: {} } }] });
const result = (id: string, status: 'success' | 'error' = 'success', content: Array<{ text: string }> = [{ text: 'ok' }]) =>
  ({ role: 'user' as const, content: [{ toolResult: { toolUseId: id, content, status } }] });

const badRequests: Array<[string, ConverseStreamCommandInput, RegExp]> = [
  ['an unknown model id', { ...userSays('Hi'), modelId: 'anthropic.claude-4-opus-20250120' }, /provided model identifier is invalid/],
  ['a Claude 4 model id without an inference profile', { ...userSays('Hi'), modelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0' }, /on-demand throughput isn.t supported/],
  ['a conversation starting with the assistant', conversation(assistant('Hello'), user('Hi')), /must start with a user message/],
  ['two user messages in a row', conversation(user('Hi'), user('Hello?')), /must alternate between user and assistant/],
  ['a message with empty content', conversation({ role: 'user', content: [] }), /content field in the Message object at messages\.0 is empty/],
  ['a blank text block', conversation(user('  ')), /text field in the ContentBlock object at messages\.0\.content\.0 is blank/],
  ['tool blocks without toolConfig', conversation(user('Hi'), usesTool('t1'), result('t1')), /toolConfig field must be defined/],
  ['a tool result answering no tool use', { ...conversation(user('Hi'), usesTool('t1'), result('t2')), toolConfig: tools }, /unexpected `tool_use_id`.*t2/],
  ['an error tool result without content', { ...conversation(user('Hi'), usesTool('t1'), result('t1', 'error', [])), toolConfig: tools }, /cannot be empty when status value is error/],
  ['a tool name with spaces', { ...userSays('Hi'), toolConfig: { tools: [{ toolSpec: { name: 'look up', inputSchema: { json: {} } } }] } }, /toolSpec\.name/],
  ['a thinking budget under 1024', { ...userSays('Hi'), ...thinking(512) }, /budget_tokens: Input should be greater than or equal to 1024/],
  ['maxTokens not above the thinking budget', { ...userSays('Hi'), ...thinking(2_048), inferenceConfig: { maxTokens: 2_048 } }, /`max_tokens` must be greater than `thinking.budget_tokens`/],
  ['temperature with thinking', { ...userSays('Hi'), ...thinking(2_048), inferenceConfig: { maxTokens: 4_000, temperature: 0.5 } }, /`temperature` may only be set to 1 when thinking is enabled/],
  ['a forced tool choice with thinking', { ...userSays('Hi'), ...thinking(2_048), toolConfig: { ...tools, toolChoice: { any: {} } } }, /tool_choice forces tool use/],
  ['a prefill with thinking', { ...conversation(user('Hi'), assistant('Sure')), ...thinking(2_048) }, /prefill/],
  ['a temperature above 1', { ...userSays('Hi'), inferenceConfig: { temperature: 1.5 } }, /inferenceConfig\.temperature/],
  ['five cache points', { ...userSays('Hi'), system: Array.from({ length: 5 }, (_, n) => [{ text: `part ${n}` }, { cachePoint: { type: 'default' as const } }]).flat() }, /maximum of 4 blocks/],
];

describe('request validation', () => {
  it.each(badRequests)('refuses %s with a ValidationException', async (_, input, message) => {
    const client = sdkClient(emulator.url, 'http2');
    const { error } = await streamEvents(client, input);
    expect(error).toBeInstanceOf(ValidationException);
    expect((error as ValidationException).$metadata.httpStatusCode).toBe(400);
    expect((error as Error).message).toMatch(message);
    client.destroy();
  });

  it('accepts a tool result that answers the previous tool use, and a prefill without thinking', async () => {
    const client = sdkClient(emulator.url, 'http2');
    expect((await streamEvents(client, { ...conversation(user('Hi'), usesTool('t1'), result('t1')), toolConfig: tools })).error).toBeUndefined();
    expect((await streamEvents(client, conversation(user('Hi'), assistant('Still')))).error).toBeUndefined();
    client.destroy();
  });

  it('writes errors as the service does: status, x-amzn-ErrorType and a body with only a message', async () => {
    const response = await fetch(`${emulator.url}/model/${encodeURIComponent(SONNET)}/converse-stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'assistant', content: [{ text: 'Hi' }] }] }),
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/');
    expect(response.headers.get('x-amzn-requestid')).toBeTruthy();
    expect(Object.keys(await response.json() as object)).toEqual(['message']);
  });

  it('refuses malformed JSON and unknown paths without falling over', async () => {
    const malformed = await fetch(`${emulator.url}/model/${encodeURIComponent(SONNET)}/converse`, { method: 'POST', body: '{"messages": [' });
    expect(malformed.status).toBe(400);
    expect((await malformed.json() as { message: string }).message).toMatch(/Malformed input request/);
    const unknown = await fetch(`${emulator.url}/model/${encodeURIComponent(SONNET)}/invoke-sideways`, { method: 'POST', body: '{}' });
    expect(unknown.status).toBe(404);
  });

  it('survives garbage bytes on a connection and keeps answering', async () => {
    const { port } = new URL(emulator.url);
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.end(Buffer.from([0, 255, 13, 10, 13, 10, 80, 82, 73])));
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
      socket.resume();
    });
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.end('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\nnot frames at all'));
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
      socket.resume();
    });
    const client = sdkClient(emulator.url, 'http2');
    expect(textOf((await streamEvents(client, userSays('Hi'))).events)).toBe('Still here.');
    client.destroy();
  });
});
