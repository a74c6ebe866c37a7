import {
  ConverseStreamCommand,
  ModelNotReadyException,
  ModelStreamErrorException,
  ServiceUnavailableException,
  ThrottlingException,
} from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { HAIKU, SONNET, sdkClient, streamEvents, textOf, TRANSPORTS, userSays } from './sdk-client.js';

const REPLY = 'First sentence here. Then a second sentence that goes on for a while.';
const answering = (faults: Record<string, unknown>) => ({ ttftMs: 1, tokensPerSecond: 2_000, rules: [{ reply: REPLY }], faults });

let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startEmulator({
    scripts: {
      throttle: answering({ throttleRate: 1 }),
      notReady: answering({ notReadyRate: 1 }),
      unavailable: answering({ serviceUnavailableRate: 1 }),
      midStream: answering({ midStreamErrorRate: 1 }),
      corrupt: answering({ corruptRate: 1 }),
      // Longer than a whole unfaulted answer takes, so one fits inside the stall.
      stall: answering({ stallRate: 1, stallMs: 500 }),
      quick: answering({}),
      byModel: answering({ byModel: { 'claude-sonnet': { throttleRate: 1 } } }),
      byRegion: answering({ byRegion: { 'us-east-1': { notReadyRate: 1 } } }),
    },
  });
});

afterAll(async () => {
  await emulator?.close();
});

const asAgent = (agent: string, callId: string, extra = {}) => userSays('Hello', { requestMetadata: { agent, callId }, ...extra });

describe.each(TRANSPORTS)('injected faults through the real SDK over %s', (transport) => {
  it('answers throttling with HTTP 429 ThrottlingException, which the SDK retries before throwing', async () => {
    const client = sdkClient(emulator.url, transport, { maxAttempts: 3 });
    const { error } = await streamEvents(client, asAgent('throttle', `throttle-${transport}`));
    expect(error).toBeInstanceOf(ThrottlingException);
    expect((error as ThrottlingException).$metadata.httpStatusCode).toBe(429);
    const records = emulator.requests({ callId: `throttle-${transport}` });
    expect(records.map((record) => [record.status, record.fault])).toEqual([[429, 'throttle'], [429, 'throttle'], [429, 'throttle']]);
    client.destroy();
  });

  it('answers ModelNotReadyException and ServiceUnavailableException with their SDK classes', async () => {
    const client = sdkClient(emulator.url, transport);
    const notReady = await streamEvents(client, asAgent('notReady', `nr-${transport}`));
    expect(notReady.error).toBeInstanceOf(ModelNotReadyException);
    const unavailable = await streamEvents(client, asAgent('unavailable', `su-${transport}`));
    expect(unavailable.error).toBeInstanceOf(ServiceUnavailableException);
    expect((unavailable.error as ServiceUnavailableException).$metadata.httpStatusCode).toBe(503);
    client.destroy();
  });

  it('fails a stream mid-way with ModelStreamErrorException after the text that preceded it', async () => {
    const client = sdkClient(emulator.url, transport);
    const { events, error } = await streamEvents(client, asAgent('midStream', `ms-${transport}`));
    expect(error).toBeInstanceOf(ModelStreamErrorException);
    expect((error as ModelStreamErrorException).originalStatusCode).toBe(500);
    const text = textOf(events);
    expect(text.length).toBeGreaterThan(0);
    expect(text.length).toBeLessThan(REPLY.length);
    expect(REPLY.startsWith(text)).toBe(true);
    expect(emulator.requests({ callId: `ms-${transport}` })[0]).toMatchObject({ status: 200, fault: 'midStreamError', errorType: 'modelStreamErrorException' });
    client.destroy();
  });

  it('sends a frame with a bad CRC that the SDK rejects', async () => {
    const client = sdkClient(emulator.url, transport);
    const { events, error } = await streamEvents(client, asAgent('corrupt', `crc-${transport}`));
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).toMatch(/checksum|crc/i);
    expect(textOf(events).length).toBeGreaterThan(0);
    client.destroy();
  });

  it('stalls a stream after its first delta and then completes it', async () => {
    const client = sdkClient(emulator.url, transport);
    const order: string[] = [];
    const deltas: string[] = [];
    let during: Promise<unknown> | undefined;
    const output = await client.send(new ConverseStreamCommand(asAgent('stall', `stall-${transport}`)));
    for await (const event of output.stream ?? []) {
      const text = event.contentBlockDelta?.delta?.text;
      if (text === undefined) continue;
      deltas.push(text);
      if (deltas.length === 1) {
        order.push('first delta');
        // A whole answer asked for now finishes while the stalled stream is still waiting for its second delta.
        during = streamEvents(client, asAgent('quick', `stall-during-${transport}`)).then(({ events }) => order.push(`other answered: ${textOf(events)}`));
      }
      if (deltas.length === 2) order.push('second delta');
    }
    await during;
    expect(deltas.join('')).toBe(REPLY);
    expect(order).toEqual(['first delta', `other answered: ${REPLY}`, 'second delta']);
    expect(emulator.requests({ callId: `stall-${transport}` })[0]?.fault).toBe('stall');
    client.destroy();
  });

  it('applies byModel faults to matching model ids only', async () => {
    const client = sdkClient(emulator.url, transport);
    expect((await streamEvents(client, asAgent('byModel', `bm-${transport}`, { modelId: SONNET }))).error).toBeInstanceOf(ThrottlingException);
    expect(textOf((await streamEvents(client, asAgent('byModel', `bm-${transport}`, { modelId: HAIKU }))).events)).toBe(REPLY);
    client.destroy();
  });

  it('applies byRegion faults to the region the request was signed for', async () => {
    const east = sdkClient(emulator.url, transport, { region: 'us-east-1' });
    const west = sdkClient(emulator.url, transport, { region: 'us-west-2' });
    expect((await streamEvents(east, asAgent('byRegion', `br-${transport}`))).error).toBeInstanceOf(ModelNotReadyException);
    expect(textOf((await streamEvents(west, asAgent('byRegion', `br-${transport}`))).events)).toBe(REPLY);
    expect(emulator.requests({ callId: `br-${transport}` }).map((record) => record.region)).toEqual(['us-east-1', 'us-west-2']);
    east.destroy();
    west.destroy();
  });
});
