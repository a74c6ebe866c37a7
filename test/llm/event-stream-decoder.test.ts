import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConverseStreamCommand, type BedrockRuntimeClient, type ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
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
  | { kind: 'exception'; exceptionType: string; payload: Record<string, unknown> }
  | { kind: 'error'; code: string; message: string };

const EXCEPTION_TYPES = [
  'internalServerException', 'modelStreamErrorException', 'validationException', 'throttlingException', 'serviceUnavailableException',
];

function encode(message: WireMessage): Uint8Array {
  const string = (value: string) => ({ type: 'string' as const, value });
  const headers: MessageHeaders = message.kind === 'event'
    ? { ':event-type': string(message.eventType), ':content-type': string('application/json'), ':message-type': string('event') }
    : message.kind === 'exception'
      ? { ':exception-type': string(message.exceptionType), ':content-type': string('application/json'), ':message-type': string('exception') }
      : { ':error-code': string(message.code), ':error-message': string(message.message), ':message-type': string('error') };
  const body = message.kind === 'error' ? new Uint8Array(0) : fromUtf8(JSON.stringify(message.payload));
  return codec.encode({ headers, body });
}

const index = fc.nat({ max: 6 });
const text = fc.string({ unit: 'binary', maxLength: 40 });
/** Bedrock pads events with a random-length `p` member that the SDK's schema does not have. */
const padded = (payload: fc.Arbitrary<Record<string, unknown>>) =>
  fc.tuple(payload, fc.option(fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'd', 'e'), maxLength: 20 }), { nil: undefined }))
    .map(([fields, p]) => (p === undefined ? fields : { ...fields, p }));
const event = (eventType: string, payload: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<WireMessage> =>
  padded(payload).map((fields) => ({ kind: 'event' as const, eventType, payload: fields }));
const delta = (payload: fc.Arbitrary<Record<string, unknown>>) =>
  event('contentBlockDelta', fc.record({ contentBlockIndex: index, delta: payload }));
const tokens = fc.nat({ max: 200_000 });

const messageArbitrary: fc.Arbitrary<WireMessage> = fc.oneof(
  event('messageStart', fc.constant({ role: 'assistant' })),
  delta(fc.record({ text })),
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

  it('decodes ConverseStream events without calling the SDK deserializer', async () => {
    const marshaller = leanEventStreamSerdeProvider({ utf8Encoder: toUtf8, utf8Decoder: fromUtf8 });
    const bytes = [
      encode({ kind: 'event', eventType: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { text: 'Hello' }, p: 'abcd' } }),
      encode({ kind: 'event', eventType: 'contentBlockDelta', payload: { contentBlockIndex: 1, delta: { reasoningContent: { redactedContent: 'AQID' } } } }),
      encode({ kind: 'event', eventType: 'metadata', payload: { usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 }, metrics: { latencyMs: 9 } } }),
    ];
    async function* body() { yield* bytes; }
    const refuse = async (): Promise<never> => { throw new Error('the SDK deserializer was called'); };
    const events: unknown[] = [];
    for await (const event of marshaller.deserialize(body(), refuse)) events.push(event);
    expect(events).toEqual([
      { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Hello' } } },
      { contentBlockDelta: { contentBlockIndex: 1, delta: { reasoningContent: { redactedContent: new Uint8Array([1, 2, 3]) } } } },
      { metadata: { usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 }, metrics: { latencyMs: 9 } } },
    ]);
  });
});
