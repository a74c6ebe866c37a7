import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { SONNET } from './sdk-client.js';

let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startEmulator({
    script: { ttftMs: 1, tokensPerSecond: 2_000, rules: [{ when: 'corrupt', reply: 'x' }, { reply: 'Hello there.' }] },
    scripts: { corrupt: { ttftMs: 1, tokensPerSecond: 2_000, rules: [{ reply: 'Hello there.' }], faults: { corruptRate: 1 } } },
  });
});

afterAll(async () => {
  await emulator?.close();
});

/** Splits a response body into frames by their length prefix. */
function framesOf(bytes: Uint8Array): Uint8Array[] {
  const frames: Uint8Array[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let offset = 0; offset < bytes.length;) {
    const length = view.getUint32(offset);
    frames.push(bytes.subarray(offset, offset + length));
    offset += length;
  }
  return frames;
}

const streamBytes = async (agent?: string) => {
  const response = await fetch(`${emulator.url}/model/${encodeURIComponent(SONNET)}/converse-stream`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'Hi' }] }], ...(agent ? { requestMetadata: { agent } } : {}) }),
  });
  expect(response.headers.get('content-type')).toBe('application/vnd.amazon.eventstream');
  return new Uint8Array(await response.arrayBuffer());
};

describe('event-stream framing (HTTP/1.1, as curl sees it)', () => {
  it('writes frames that decode with @smithy/eventstream-codec, with event headers and bare payloads', async () => {
    const codec = new EventStreamCodec(toUtf8, fromUtf8);
    const messages = framesOf(await streamBytes()).map((frame) => codec.decode(frame));
    expect(messages.map((message) => message.headers[':event-type']?.value)).toEqual([
      'messageStart', 'contentBlockDelta', 'contentBlockDelta', 'contentBlockDelta', 'contentBlockDelta', 'contentBlockStop', 'messageStop', 'metadata',
    ]);
    for (const message of messages) {
      expect(message.headers[':message-type']?.value).toBe('event');
      expect(message.headers[':content-type']?.value).toBe('application/json');
    }
    expect(JSON.parse(toUtf8(messages[0]!.body))).toEqual({ role: 'assistant' });
    expect(JSON.parse(toUtf8(messages[1]!.body))).toEqual({ contentBlockIndex: 0, delta: { text: 'Hell' } });
  });

  it('corrupts the message CRC of one frame when told to, and the codec rejects exactly that frame', async () => {
    const codec = new EventStreamCodec(toUtf8, fromUtf8);
    const frames = framesOf(await streamBytes('corrupt'));
    const bad = frames.at(-1)!;
    for (const frame of frames.slice(0, -1)) expect(() => codec.decode(frame)).not.toThrow();
    expect(() => codec.decode(bad)).toThrow(/checksum/i);
  });
});
