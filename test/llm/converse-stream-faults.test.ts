import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/server.js';
import { emulatorClient, eventually, streamOutcome, textOf, userTurn } from './converse-stream-fixtures.js';

const REPLY = 'Our cancellation policy asks for twenty-four hours notice. Is there anything else I can help with today?';

const faultScript = (faults: Record<string, number>) => ({
  ttftMs: 0, tokensPerSecond: 5_000, rules: [{ reply: REPLY }], faults,
});

describe('converseStream failures become ModelCallErrors that say what to do next', () => {
  let emulator: Awaited<ReturnType<typeof startEmulator>>;
  let client: BedrockRuntimeClient;

  beforeAll(async () => {
    emulator = await startEmulator({ script: faultScript({}), seed: 11 });
    client = emulatorClient(emulator.url);
  });
  afterAll(async () => {
    client?.destroy();
    await emulator?.close();
  });

  const withFaults = (faults: Record<string, number>) => emulator.setScript(faultScript(faults));

  it.each([
    [{ throttleRate: 1 }, 'ThrottlingException', 'cheaper-model', 429],
    [{ notReadyRate: 1 }, 'ModelNotReadyException', 'retry-region', 429],
    [{ serviceUnavailableRate: 1 }, 'ServiceUnavailableException', 'retry-region', 503],
  ])('refused before the stream (%o) → %s, %s, HTTP %i, not mid-stream', async (faults, code, recovery, httpStatus) => {
    withFaults(faults);
    const { events, error } = await streamOutcome(client, userTurn('hello', `pre-${code}`));
    expect(events).toEqual([]);
    expect(error).toMatchObject({ name: 'ModelCallError', code, recovery, httpStatus, midStream: false });
  });

  it('a mid-stream exception arrives after the deltas that preceded it and says mid-stream', async () => {
    withFaults({ midStreamErrorRate: 1 });
    const { events, error } = await streamOutcome(client, userTurn('hello', 'mid-1'));
    expect(error).toMatchObject({ code: 'ModelStreamErrorException', recovery: 'retry-region', midStream: true });
    expect(textOf(events).length).toBeGreaterThan(0);
    expect(REPLY.startsWith(textOf(events))).toBe(true);
    expect(events.some((event) => event.type === 'stop')).toBe(false);
  });

  it('a frame with a corrupted CRC breaks the stream as a retryable error', async () => {
    withFaults({ corruptRate: 1 });
    const { events, error } = await streamOutcome(client, userTurn('hello', 'corrupt-1'));
    expect(error).toMatchObject({ code: 'CorruptStream', recovery: 'retry-region', midStream: true });
    expect(events.some((event) => event.type === 'stop')).toBe(false);
  });

  it('a stalled stream ends with StreamTimeout and the request is aborted', async () => {
    withFaults({ stallRate: 1, stallMs: 20_000 });
    const { events, error } = await streamOutcome(client, userTurn('hello', 'stall-1'), { idleTimeoutMs: 300, firstEventTimeoutMs: 5_000 });
    expect(error).toMatchObject({ code: 'StreamTimeout', recovery: 'retry-region', midStream: true });
    expect(error?.message).toContain('300 ms');
    expect(textOf(events).length).toBeGreaterThan(0);
    await eventually(() => emulator.requests({ callId: 'stall-1' }).find((record) => record.aborted));
  });

  it('a stream that never starts ends with StreamTimeout before any event, not mid-stream', async () => {
    emulator.setScript({ ttftMs: 20_000, tokensPerSecond: 5_000, rules: [{ reply: REPLY }] });
    const { events, error } = await streamOutcome(client, userTurn('hello', 'silent-1'), { idleTimeoutMs: 5_000, firstEventTimeoutMs: 300 });
    expect(events).toEqual([]);
    expect(error).toMatchObject({ code: 'StreamTimeout', recovery: 'retry-region', midStream: false });
    await eventually(() => emulator.requests({ callId: 'silent-1' }).find((record) => record.aborted));
  });

  it('the SDK retries throttling up to maxAttempts before the error surfaces', async () => {
    withFaults({ throttleRate: 1 });
    const retrying = emulatorClient(emulator.url, 'h2-session', 2);
    try {
      const { error } = await streamOutcome(retrying, userTurn('hello', 'retry-1'));
      expect(error).toMatchObject({ code: 'ThrottlingException', recovery: 'cheaper-model' });
      expect(emulator.requests({ callId: 'retry-1' })).toHaveLength(2);
    } finally {
      retrying.destroy();
    }
  });

  it('a request Bedrock refuses as invalid is not retried anywhere', async () => {
    withFaults({});
    const { error } = await streamOutcome(client, {
      ...userTurn('hello', 'invalid-1'),
      messages: [{ role: 'assistant', content: [{ text: 'I speak first' }] }],
    });
    expect(error).toMatchObject({ code: 'ValidationException', recovery: 'none', httpStatus: 400, midStream: false });
  });

  it('an unknown model is not retried in another region but hands over to another model', async () => {
    withFaults({});
    const { error } = await streamOutcome(client, { ...userTurn('hello', 'unknown-1'), modelId: 'anthropic.claude-4-opus-20250120' });
    expect(error?.recovery).toBe('other-model');
    expect(['ResourceNotFoundException', 'InvalidModelId']).toContain(error?.code);
  });

  it('an unreachable endpoint is retryable in another region', async () => {
    const closed = await startEmulator({ script: faultScript({}) });
    const url = closed.url;
    await closed.close();
    const nowhere = emulatorClient(url);
    try {
      const { error } = await streamOutcome(nowhere, userTurn('hello', 'down-1'));
      expect(error?.recovery).toBe('retry-region');
      expect(error?.midStream).toBe(false);
    } finally {
      nowhere.destroy();
    }
  });
});
