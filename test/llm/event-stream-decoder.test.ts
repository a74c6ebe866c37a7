import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import { ConverseStreamCommand, ConverseStreamResponse$, type BedrockRuntimeClient, type ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import { NormalizedSchema } from '@smithy/core/schema';
import { EventStreamCodec, type MessageHeaders } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBedrockClient } from '../../src/llm/bedrock-client.js';
import { ModelEventMapper } from '../../src/llm/converse-stream.js';
import { leanEventStreamSerdeProvider } from '../../src/llm/event-stream-decoder.js';
import { MODEL_ID } from './converse-stream-fixtures.js';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** One wire message: an event, a modeled exception, or an unmodeled error. */
type WireMessage =
  | { kind: 'event'; eventType: string; payload: Record<string, unknown> }
  | { kind: 'raw'; eventType: string; body: string }
  | { kind: 'exception'; exceptionType: string; payload: Record<string, unknown> }
  | { kind: 'error'; code: string; message: string };

const EXCEPTION_TYPES = [
  'internalServerException', 'modelStreamErrorException', 'validationException', 'throttlingException', 'serviceUnavailableException',
];

function encode(message: WireMessage): Uint8Array {
  const string = (value: string) => ({ type: 'string' as const, value });
  const headers: MessageHeaders = message.kind === 'event' || message.kind === 'raw'
    ? { ':event-type': string(message.eventType), ':content-type': string('application/json'), ':message-type': string('event') }
    : message.kind === 'exception'
      ? { ':exception-type': string(message.exceptionType), ':content-type': string('application/json'), ':message-type': string('exception') }
      : { ':error-code': string(message.code), ':error-message': string(message.message), ':message-type': string('error') };
  const body = message.kind === 'error' ? new Uint8Array(0) : fromUtf8(message.kind === 'raw' ? message.body : JSON.stringify(message.payload));
  return codec.encode({ headers, body });
}

const index = fc.nat({ max: 6 });
const text = fc.string({ unit: 'binary', maxLength: 40 });
/** Printable ASCII, quotes and backslashes included: the text deltas the lean path reads without JSON.parse, and the escapes it leaves to it. */
const asciiText = fc.string({ maxLength: 40 });
/** Bedrock pads events with a random-length `p` member of letters and digits that the SDK's schema does not have. */
const padded = (payload: fc.Arbitrary<Record<string, unknown>>) =>
  fc.tuple(payload, fc.option(fc.stringMatching(/^[A-Za-z0-9]{0,40}$/), { nil: undefined }))
    .map(([fields, p]) => (p === undefined ? fields : { ...fields, p }));
const event = (eventType: string, payload: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<WireMessage> =>
  padded(payload).map((fields) => ({ kind: 'event' as const, eventType, payload: fields }));
const delta = (payload: fc.Arbitrary<Record<string, unknown>>) =>
  event('contentBlockDelta', fc.record({ contentBlockIndex: index, delta: payload }));
const tokens = fc.nat({ max: 200_000 });

const messageArbitrary: fc.Arbitrary<WireMessage> = fc.oneof(
  event('messageStart', fc.constant({ role: 'assistant' })),
  delta(fc.record({ text })),
  delta(fc.record({ text: asciiText })),
  delta(fc.record({ reasoningContent: fc.oneof(
    fc.record({ text }),
    fc.record({ signature: fc.base64String({ maxLength: 40 }) }),
    fc.record({ redactedContent: fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes).toString('base64')) }),
  ) })),
  // Parallel tool uses: starts, input pieces and stops of several block indexes, in any interleaving.
  event('contentBlockStart', fc.record({
    contentBlockIndex: index,
    start: fc.record({ toolUse: fc.record({ toolUseId: fc.stringMatching(/^tooluse_[a-z0-9]{6}$/), name: fc.constantFrom('lookup_customer', 'search_knowledge') }) }),
  })),
  delta(fc.record({ toolUse: fc.record({ input: fc.constantFrom('', '{"q":', '"a b"', '}', '{}', '[1,') }) })),
  event('contentBlockStop', fc.record({ contentBlockIndex: index })),
  event('messageStop', fc.record({ stopReason: fc.constantFrom('end_turn', 'tool_use', 'max_tokens') })),
  event('metadata', fc.record({
    usage: fc.record(
      { inputTokens: tokens, outputTokens: tokens, totalTokens: tokens, cacheReadInputTokens: tokens, cacheWriteInputTokens: tokens },
      { requiredKeys: ['inputTokens', 'outputTokens', 'totalTokens'] },
    ),
    metrics: fc.record({ latencyMs: fc.nat({ max: 60_000 }) }),
  })),
  // Shapes the lean path leaves to the SDK's deserializer: members it does not copy, and an unknown event.
  event('messageStop', fc.record({ stopReason: fc.constant('end_turn'), additionalModelResponseFields: fc.record({ stop_sequence: text }) })),
  event('metadata', fc.record({ usage: fc.record({ inputTokens: tokens, outputTokens: tokens, totalTokens: tokens }), trace: fc.constant({}) })),
  event('futureEvent', fc.record({ anything: text })),
);

// Bodies near the text delta the lean path reads byte by byte: other spacing, order, numbers,
// escapes, padding in other places or of other characters, and JSON that is not.
const EDGE_BODIES = [
  '{ "contentBlockIndex": 0, "delta": { "text": "Hi" }, "p": "abc" }',
  '{"delta":{"text":"Hi"},"contentBlockIndex":0,"p":"abc"}',
  '{"contentBlockIndex":01,"delta":{"text":"Hi"}}',
  '{"contentBlockIndex":1e0,"delta":{"text":"Hi"},"p":"a"}',
  '{"contentBlockIndex":-1,"delta":{"text":"Hi"}}',
  '{"contentBlockIndex":1234567890123,"delta":{"text":"Hi"}}',
  '{"contentBlockIndex":0,"delta":{"text":"\\u0048i \\"q\\""},"p":"abc"}',
  '{"contentBlockIndex":0,"delta":{"text":"caf\u00e9"},"p":"abc"}',
  '{"contentBlockIndex":0,"delta":{"text":"Hi"}}x',
  '{"contentBlockIndex":0,"delta":{"text":"Hi"}',
  '{"contentBlockIndex":0,"delta":{"text":"Hi"}]',
  '{"contentBlockIndex":0,"delta":{"text":"Hi"},"p":"abc"x',
  '{"contentBlockIndex":0,"delta":{"text":"Hi"},"p":"ab-c"}',
  '{"contentBlockIndex":0,"delta":{"text":"Hi"}},"p":"abc"}',
  '{"contentBlockIndex":0,"delta":{"text":"Hi","p":"abc"}}',
  '{"p":"abc","contentBlockIndex":0,"delta":{"text":"Hi"}}',
  '{"contentBlockIndex":0,"p":"x","delta":{"text":"Hi"},"p":"abc"}',
  '{"contentBlockIndex":0,"delta":{"text":"Hi"},"p":""}',
  '{,"p":"abc"}',
  '{"p":"abc"}',
  '{}',
  '{"contentBlockIndex":0,"delta":{"text":"a,\\"p\\":\\"b"}}',
  '{"contentBlockIndex":0,"constructor":{},"p":"abc"}',
];

const endArbitrary: fc.Arbitrary<WireMessage | undefined> = fc.option(fc.oneof(
  fc.record({
    kind: fc.constant('exception' as const),
    exceptionType: fc.constantFrom(...EXCEPTION_TYPES),
    payload: fc.record({ message: text }, { requiredKeys: [] }),
  }),
  fc.record({ kind: fc.constant('error' as const), code: fc.constantFrom('InternalFailure', 'ServiceUnavailable'), message: text }),
), { nil: undefined });

const streamArbitrary = fc.record({
  messages: fc.array(messageArbitrary, { maxLength: 30 }),
  end: endArbitrary,
  chunkSizes: fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 8 }),
});

/** The bytes of a stream, cut into chunks at arbitrary points (messages split across chunks, several in one). */
function chunksOf({ messages, end, chunkSizes }: { messages: WireMessage[]; end?: WireMessage; chunkSizes: number[] }): Buffer[] {
  const bytes = Buffer.concat([...messages, ...(end ? [end] : [])].map(encode));
  const chunks: Buffer[] = [];
  for (let offset = 0, i = 0; offset < bytes.length; i += 1) {
    const size = chunkSizes[i % chunkSizes.length]!;
    chunks.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}

/** What one decoder yields: the SDK's output events, and the error it ends with, as far as callers can see it. */
interface Decoded { events: ConverseStreamOutput[]; error?: { class: string; name: string; message: string; fields: Record<string, unknown> } }

async function decode(client: BedrockRuntimeClient): Promise<Decoded> {
  const events: ConverseStreamOutput[] = [];
  try {
    const output = await client.send(new ConverseStreamCommand({ modelId: MODEL_ID, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));
    for await (const event of output.stream ?? []) events.push(event);
    return { events };
  } catch (error) {
    const { $response: _response, ...fields } = error as Error & Record<string, unknown>;
    return { events, error: { class: (error as Error).constructor.name, name: (error as Error).name, message: (error as Error).message, fields } };
  }
}

/**
 * The same, through the client protocol's deserializeEventStream on an in-memory body, so that the
 * chunks arrive exactly as cut (HTTP may join writes).
 */
async function decodeChunks(client: BedrockRuntimeClient, chunks: Uint8Array[]): Promise<Decoded> {
  const protocol = client.config.protocol as unknown as {
    deserializeEventStream(input: { response: { body: unknown }; responseSchema: NormalizedSchema; initialResponseContainer: object }): Promise<AsyncIterable<ConverseStreamOutput>>;
  };
  const events: ConverseStreamOutput[] = [];
  async function* body(): AsyncGenerator<Uint8Array> { yield* chunks; }
  try {
    const stream = await protocol.deserializeEventStream({ response: { body: body() }, responseSchema: NormalizedSchema.of(ConverseStreamResponse$), initialResponseContainer: {} });
    for await (const event of stream) events.push(event);
    return { events };
  } catch (error) {
    return { events, error: { class: (error as Error).constructor.name, name: (error as Error).name, message: (error as Error).message, fields: { ...(error as object) } } };
  }
}

/** The runtime's model events from a decoder's output, or the error the mapping stops with. */
function mapped(events: ConverseStreamOutput[]): unknown[] {
  const mapper = new ModelEventMapper();
  const out: unknown[] = [];
  try {
    for (const event of events) out.push(...mapper.map(event));
  } catch (error) {
    out.push({ error: (error as Error).constructor.name, message: (error as Error).message });
  }
  return out;
}

describe('the lean event-stream decoder', () => {
  let server: Server;
  let chunks: Buffer[] = [];
  const clients: Record<'lean' | 'sdk', BedrockRuntimeClient> = {} as never;

  beforeAll(async () => {
    // Answers every ConverseStream request with the bytes of the current case, chunk by chunk.
    server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': 'differential' });
        for (const chunk of chunks) response.write(chunk);
        response.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const decoder of ['lean', 'sdk'] as const) {
      clients[decoder] = createBedrockClient({ region: 'us-east-1', endpoint: url, credentials: 'emulator', handler: 'http1', maxSockets: 4, maxAttempts: 1, decoder });
    }
  });
  afterAll(async () => {
    for (const client of Object.values(clients)) client.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('yields the same events and errors as the SDK deserializer from the same bytes', async () => {
    await fc.assert(fc.asyncProperty(streamArbitrary, async (stream) => {
      chunks = chunksOf(stream);
      const lean = await decode(clients.lean);
      const sdk = await decode(clients.sdk);
      // Both sides are the SDK's output shape (redactedContent a plain Uint8Array on both), so the
      // runtime's mapping of it, whichever representation it keeps, is compared as well.
      expect(lean).toEqual(sdk);
      expect(mapped(lean.events)).toEqual(mapped(sdk.events));
    }), { numRuns: 100 });
  });

  it('ends every generated exception event as the SDK modeled exception class', async () => {
    for (const exceptionType of EXCEPTION_TYPES) {
      chunks = [Buffer.from(encode({ kind: 'exception', exceptionType, payload: { message: `${exceptionType} in the stream` } }))];
      const lean = await decode(clients.lean);
      expect(lean.error?.class).toBe(exceptionType.charAt(0).toUpperCase() + exceptionType.slice(1));
      expect(lean.error?.message).toBe(`${exceptionType} in the stream`);
      expect(lean).toEqual(await decode(clients.sdk));
    }
  });

  const turn: WireMessage[] = [
    { kind: 'event', eventType: 'messageStart', payload: { role: 'assistant', p: 'abcdefgh' } },
    { kind: 'event', eventType: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { text: 'Hello' }, p: 'abc' } },
    { kind: 'event', eventType: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { text: ' there' } } },
    { kind: 'event', eventType: 'metadata', payload: { usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 }, metrics: { latencyMs: 9 }, p: 'xy' } },
  ];

  it('yields the same events as the SDK for a stream cut at every byte offset, and for all of it in one chunk', async () => {
    const bytes = Buffer.concat(turn.map(encode));
    const whole = await decodeChunks(clients.lean, [bytes]);
    expect(whole.events).toHaveLength(turn.length);
    expect(whole).toEqual(await decodeChunks(clients.sdk, [bytes]));
    for (let cut = 1; cut < bytes.length; cut += 1) {
      const chunks = [bytes.subarray(0, cut), bytes.subarray(cut)];
      expect(await decodeChunks(clients.lean, chunks)).toEqual(whole);
    }
  });

  it('yields the same event or error as the SDK for bodies near the text delta it reads byte by byte', async () => {
    for (const body of EDGE_BODIES) {
      for (const eventType of ['contentBlockDelta', 'contentBlockStop', 'messageStart']) {
        const chunks = [Buffer.concat([turn[1]!, { kind: 'raw', eventType, body } as const, turn[2]!].map(encode))];
        expect({ body, eventType, ...(await decodeChunks(clients.lean, chunks)) }).toEqual({ body, eventType, ...(await decodeChunks(clients.sdk, chunks)) });
      }
    }
  });

  it('ends a stream with a corrupted checksum, length or end with the SDK error, after the events before it', async () => {
    const good = Buffer.from(encode(turn[1]!));
    const corruptions: Record<string, (message: Buffer) => void> = {
      'prelude CRC': (message) => { message[8]! ^= 1; },
      'prelude CRC under a message CRC that matches': (message) => {
        message[8]! ^= 1;
        message.writeUInt32BE(crc32(message.subarray(0, message.length - 4)), message.length - 4);
      },
      'message CRC': (message) => { message[message.length - 1]! ^= 1; },
      'body byte': (message) => { message[message.length - 6]! ^= 1; },
      'headers length': (message) => { message[7]! ^= 0x40; },
      'total length below a prelude': (message) => { message.writeUInt32BE(10, 0); },
      'total length below 4': (message) => { message.writeUInt32BE(2, 0); },
    };
    for (const [name, corrupt] of Object.entries(corruptions)) {
      const bad = Buffer.from(encode(turn[2]!));
      corrupt(bad);
      const chunks = [Buffer.concat([good, bad, good])];
      const lean = await decodeChunks(clients.lean, chunks);
      expect({ name, events: lean.events.length, error: lean.error !== undefined }).toEqual({ name, events: 1, error: true });
      expect({ name, ...lean }).toEqual({ name, ...(await decodeChunks(clients.sdk, chunks)) });
    }
    const truncated = [Buffer.concat([good, good.subarray(0, good.length - 1)])];
    const lean = await decodeChunks(clients.lean, truncated);
    expect(lean.error?.message).toBe('Truncated event message received.');
    expect(lean).toEqual(await decodeChunks(clients.sdk, truncated));
  });

  it('decodes ConverseStream events without calling the SDK deserializer', async () => {
    const marshaller = leanEventStreamSerdeProvider({ utf8Encoder: toUtf8, utf8Decoder: fromUtf8 });
    const bytes = [
      encode({ kind: 'event', eventType: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { text: 'Hello' }, p: 'abcd' } }),
      encode({ kind: 'event', eventType: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { text: 'caf\u00e9 "q"' }, p: 'abcd' } }),
      encode({ kind: 'event', eventType: 'contentBlockDelta', payload: { contentBlockIndex: 1, delta: { reasoningContent: { redactedContent: 'AQID' } } } }),
      encode({ kind: 'event', eventType: 'metadata', payload: { usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 }, metrics: { latencyMs: 9 } } }),
    ];
    async function* body() { yield* bytes; }
    const refuse = async (): Promise<never> => { throw new Error('the SDK deserializer was called'); };
    const events: unknown[] = [];
    for await (const event of marshaller.deserialize(body(), refuse)) events.push(event);
    expect(events).toEqual([
      { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Hello' } } },
      { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'caf\u00e9 "q"' } } },
      { contentBlockDelta: { contentBlockIndex: 1, delta: { reasoningContent: { redactedContent: new Uint8Array([1, 2, 3]) } } } },
      { metadata: { usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 }, metrics: { latencyMs: 9 } } },
    ]);
  });
});
