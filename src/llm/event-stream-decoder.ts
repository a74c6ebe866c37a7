import type { BedrockRuntimeClientConfig } from '@aws-sdk/client-bedrock-runtime';
import { eventStreamSerdeProvider } from '@smithy/core/event-streams';
import { EventStreamCodec, type Message } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';

/**
 * How ConverseStream response events are decoded:
 * - `lean`: the event-stream codec and `JSON.parse`, the fields copied into the SDK's output shape.
 * - `sdk`: the SDK's schema-driven deserializer for every event (for comparison and debugging).
 */
export type BedrockDecoderKind = 'lean' | 'sdk';
export const BEDROCK_DECODER_KINDS: readonly BedrockDecoderKind[] = ['lean', 'sdk'];

type SerdeProvider = NonNullable<BedrockRuntimeClientConfig['eventStreamSerdeProvider']>;
type Marshaller = ReturnType<SerdeProvider>;
/** What the SDK's EventStreamSerde hands a marshaller: one message keyed by its event type, in; the union member, out. */
type SdkDeserializer = (input: Record<string, Message>) => Promise<Record<string, unknown>>;

/**
 * Why this hook: the client's `eventStreamSerdeProvider` is its documented configuration for the
 * event-stream marshaller (resolveEventStreamSerdeConfig stores what it returns as the client's
 * `eventStreamMarshaller`, and the protocol's EventStreamSerde uses that one instead of its own).
 * The marshaller receives the raw response body and, per message, the SDK's deserializer; so
 * requests, signing, endpoints, retries and HTTP errors stay the SDK's, and only the per-event
 * work changes. The SDK's per-event path walks the event's schema (`read`, `_readStruct`,
 * `structIterator`) with several awaits per event; this one is one JSON.parse and a few copies.
 *
 * The lean path takes only the shapes it knows exactly (those of ConverseStream events today); any
 * other message — an exception, an unknown event or field, another operation's stream — goes to the
 * SDK's deserializer, so the decoded value is the SDK's by construction (test/llm/event-stream-decoder.test.ts).
 */
export const leanEventStreamSerdeProvider: SerdeProvider = (options) => {
  const sdk = eventStreamSerdeProvider(options) as Marshaller;
  const codec = new EventStreamCodec(headerUtf8, fromUtf8);
  return {
    deserialize: (body: unknown, deserializer: SdkDeserializer) => decodeEvents(body as AsyncIterable<Uint8Array>, codec, deserializer),
    // Only the request side of bidirectional operations serializes; the runtime has none, and the SDK's is kept.
    serialize: sdk.serialize.bind(sdk),
  } as Marshaller;
};

/**
 * Splits the body's chunks into whole event-stream messages (a 4-byte big-endian total length leads
 * each) and decodes them, in one generator: each async generator between the body and the caller
 * is a promise and a microtask per event.
 */
async function* decodeEvents(body: AsyncIterable<Uint8Array>, codec: EventStreamCodec, deserializer: SdkDeserializer): AsyncGenerator<Record<string, unknown>> {
  let pending: Uint8Array = new Uint8Array(0);
  for await (const chunk of body) {
    const buffer = pending.length === 0 ? chunk : concat(pending, chunk);
    let offset = 0;
    while (buffer.length - offset >= 4) {
      const total = new DataView(buffer.buffer, buffer.byteOffset + offset, 4).getUint32(0, false);
      // Prelude (12 bytes) and message CRC (4): a shorter length is corrupt and would never advance.
      if (total < 16) throw new Error(`Event stream message of ${total} bytes is shorter than its prelude`);
      if (buffer.length - offset < total) break;
      const message = codec.decode(buffer.subarray(offset, offset + total));
      offset += total;
      const eventType = message.headers[':event-type']?.value;
      const lean = message.headers[':message-type']?.value === 'event' && typeof eventType === 'string'
        ? leanEvent(eventType, message.body)
        : undefined;
      const event = lean ?? await sdkEvent(message, deserializer);
      if (event !== undefined) yield event;
    }
    pending = buffer.subarray(offset);
  }
  if (pending.length > 0) throw new Error('Truncated event message received.');
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a, 0);
  joined.set(b, a.length);
  return joined;
}

/**
 * The header names and values of ConverseStream messages. The codec decodes every header name and
 * string value to a new string (a fifth of the decoding); these come back as the same interned
 * strings after a byte comparison, and any other header is decoded as before.
 */
const KNOWN_HEADER_STRINGS = [
  ':event-type', ':content-type', ':message-type', ':exception-type', 'event', 'exception', 'application/json',
  'messageStart', 'contentBlockStart', 'contentBlockDelta', 'contentBlockStop', 'messageStop', 'metadata',
].map((text) => ({ text, bytes: fromUtf8(text) }));

function headerUtf8(bytes: Uint8Array): string {
  candidates: for (const known of KNOWN_HEADER_STRINGS) {
    if (known.bytes.length !== bytes.length) continue;
    for (let i = 0; i < bytes.length; i += 1) if (known.bytes[i] !== bytes[i]) continue candidates;
    return known.text;
  }
  return toUtf8(bytes);
}

/**
 * A message the lean path does not take, as the SDK's marshaller treats it (getMessageUnmarshaller
 * in @smithy/core/event-streams): `error` and `exception` messages throw, unknown events are skipped.
 */
async function sdkEvent(message: Message, deserializer: SdkDeserializer): Promise<Record<string, unknown> | undefined> {
  const messageType = message.headers[':message-type']?.value;
  if (messageType === 'error') {
    const error = new Error(String(message.headers[':error-message']?.value || 'UnknownError'));
    error.name = String(message.headers[':error-code']?.value);
    throw error;
  }
  if (messageType === 'exception') {
    const code = String(message.headers[':exception-type']?.value);
    const deserialized = await deserializer({ [code]: message });
    if (deserialized.$unknown) {
      const error = new Error(toUtf8(message.body));
      error.name = code;
      throw error;
    }
    throw deserialized[code];
  }
  if (messageType === 'event') {
    const deserialized = await deserializer({ [String(message.headers[':event-type']?.value)]: message });
    return deserialized.$unknown ? undefined : deserialized;
  }
  throw new Error(`Unrecognizable event type: ${String(message.headers[':event-type']?.value)}`);
}

/**
 * The members the lean path copies, per ConverseStream event, as the SDK's schema types them
 * (dist-cjs ConverseStreamOutput$ and the structures it names). A union takes exactly one member.
 */
type Field = 'string' | 'number' | 'blob' | Shape;
interface Shape { union?: true; members: Record<string, Field> }

const TOOL_USE_START: Shape = { members: { toolUseId: 'string', name: 'string', type: 'string' } };
const EVENT_SHAPES: Record<string, Shape> = {
  messageStart: { members: { role: 'string' } },
  contentBlockStart: { members: { start: { union: true, members: { toolUse: TOOL_USE_START } }, contentBlockIndex: 'number' } },
  contentBlockDelta: {
    members: {
      delta: {
        union: true,
        members: {
          text: 'string',
          toolUse: { members: { input: 'string' } },
          reasoningContent: { union: true, members: { text: 'string', redactedContent: 'blob', signature: 'string' } },
        },
      },
      contentBlockIndex: 'number',
    },
  },
  contentBlockStop: { members: { contentBlockIndex: 'number' } },
  messageStop: { members: { stopReason: 'string' } },
  metadata: {
    members: {
      usage: {
        members: {
          inputTokens: 'number', outputTokens: 'number', totalTokens: 'number', cacheReadInputTokens: 'number', cacheWriteInputTokens: 'number',
        },
      },
      metrics: { members: { latencyMs: 'number' } },
    },
  },
};

/** Bedrock pads each event with a `p` member of random length (so sizes do not reveal tokens); the SDK's schema has no such member. */
const PADDING_MEMBER = 'p';

/** The event in the SDK's output shape, or undefined when the message holds anything the lean shapes do not cover. */
function leanEvent(eventType: string, body: Uint8Array): Record<string, unknown> | undefined {
  const shape = EVENT_SHAPES[eventType];
  if (!shape || body.length === 0) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isRecord(json)) return undefined;
  const value = copyShape(json, shape, PADDING_MEMBER);
  return value === undefined ? undefined : { [eventType]: value };
}

/** A copy of `json` with the shape's members, or undefined if it holds another; `skip` is dropped (the padding, at the top). */
function copyShape(json: Record<string, unknown>, shape: Shape, skip?: string): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  let count = 0;
  for (const key in json) {
    const field = shape.members[key];
    if (field === undefined) {
      if (key === skip) continue;
      return undefined;
    }
    const value = copyField(json[key], field);
    if (value === undefined) return undefined;
    out[key] = value;
    count += 1;
  }
  if (shape.union && count !== 1) return undefined;
  return out;
}

function copyField(value: unknown, field: Field): unknown {
  switch (field) {
    case 'string':
      return typeof value === 'string' ? value : undefined;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
    case 'blob':
      return typeof value === 'string' && BASE64.test(value) ? base64Bytes(value) : undefined;
    default:
      return isRecord(value) ? copyShape(value, field) : undefined;
  }
}

/** What @smithy/util-base64 accepts; anything else is left to the SDK, which rejects it with its own error. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A plain Uint8Array, as the SDK's fromBase64 returns, not a Buffer. */
function base64Bytes(value: string): Uint8Array {
  const buffer = Buffer.from(value, 'base64');
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
