import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorRequestRecord } from '../../src/emulator/request-log.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { sdkClient, TRANSPORTS, userSays } from './sdk-client.js';

const LONG_REPLY = 'This answer is long on purpose. '.repeat(20).trim();

let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startEmulator({
    script: { ttftMs: 1, tokensPerSecond: 40, rules: [{ when: 'quick', reply: 'Quick answer.' }, { reply: LONG_REPLY }] },
  });
});

afterAll(async () => {
  await emulator?.close();
});

const closedRecord = (callId: string) => new Promise<EmulatorRequestRecord>((resolve) => {
  const stop = emulator.onRequestClosed((record) => {
    if (record.callId !== callId) return;
    stop();
    resolve(record);
  });
});

describe.each(TRANSPORTS)('a client that goes away, over %s', (transport) => {
  it('stops the stream and marks the record aborted when the client aborts mid-stream', async () => {
    const client = sdkClient(emulator.url, transport);
    const callId = `abort-${transport}`;
    const closed = closedRecord(callId);
    const controller = new AbortController();
    const output = await client.send(new ConverseStreamCommand(userSays('Tell me', { requestMetadata: { callId } })), { abortSignal: controller.signal });
    const received: string[] = [];
    // Over HTTP/2 the SDK ends the iterator quietly on abort, over HTTP/1.1 it throws: either way the stream stops.
    try {
      for await (const event of output.stream ?? []) {
        const text = event.contentBlockDelta?.delta?.text;
        if (text) received.push(text);
        if (received.length === 2) controller.abort();
      }
    } catch (error) {
      expect(error).toBeInstanceOf(Error);
    }
    expect(received.join('').length).toBeLessThan(LONG_REPLY.length);
    const record = await closed;
    expect(record.aborted).toBe(true);
    expect(record.completedAt).toBeUndefined();
    expect(emulator.requests({ callId })[0]?.aborted).toBe(true);
    client.destroy();
  });
});

describe('Converse (not streaming)', () => {
  it('answers the whole message with usage and an integer latency', async () => {
    const client = new BedrockRuntimeClient({ endpoint: emulator.url, region: 'us-east-1', credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' } });
    const output = await client.send(new ConverseCommand(userSays('quick please', { requestMetadata: { callId: 'whole' } })));
    expect(output.output?.message?.content).toEqual([{ text: 'Quick answer.' }]);
    expect(output.stopReason).toBe('end_turn');
    expect(Number.isInteger(output.metrics?.latencyMs)).toBe(true);
    expect(emulator.requests({ callId: 'whole' })[0]?.operation).toBe('Converse');
    client.destroy();
  });
});

describe('the request log', () => {
  it('keeps only the most recent requests and serves them over HTTP filtered by callId', async () => {
    const emulator = await startEmulator({ requestLogSize: 50, script: { ttftMs: 0, tokensPerSecond: 1e6, rules: [{ reply: 'Quick answer.' }] } });
    const client = sdkClient(emulator.url, 'http1');
    for (let i = 0; i < 60; i++) {
      await client.send(new ConverseCommand(userSays('quick', { requestMetadata: { callId: `ring-${i}`, turn: String(i) } })));
    }
    const all = emulator.requests();
    expect(all).toHaveLength(50);
    expect(all.at(-1)?.callId).toBe('ring-59');
    expect(emulator.requests({ callId: 'ring-0' })).toEqual([]);
    const served = await (await fetch(`${emulator.url}/_emulator/requests?callId=ring-42`)).json() as EmulatorRequestRecord[];
    expect(served).toHaveLength(1);
    expect(served[0]).toMatchObject({ callId: 'ring-42', turn: 42, status: 200, aborted: false });
    expect((await fetch(`${emulator.url}/_emulator/health`)).status).toBe(200);
    client.destroy();
    await emulator.close();
  });
});
