import type { BedrockRuntimeClientConfig } from '@aws-sdk/client-bedrock-runtime';
import { eventStreamSerdeProvider } from '@smithy/core/event-streams';
import { crc32 } from './crc32.js';

/**
 * How ConverseStream response events are decoded:
 * - `lean`: the event-stream framing read in place and `JSON.parse`, checked against the SDK's output shape.
 * - `sdk`: the SDK's schema-driven deserializer for every event (for comparison and debugging).
 */
export type BedrockDecoderKind = 'lean' | 'sdk';
export const BEDROCK_DECODER_KINDS: readonly BedrockDecoderKind[] = ['lean', 'sdk'];

type SerdeProvider = NonNullable<BedrockRuntimeClientConfig['eventStreamSerdeProvider']>;
type Marshaller = ReturnType<SerdeProvider>;
type Event = Record<string, unknown>;
/** The SDK's own marshaller over some bytes: its events, and its errors, for what the lean path does not take. */
type SdkDecode = (bytes: AsyncIterable<Uint8Array>) => AsyncIterable<Event>;

/**
 * Why this hook: the client's `eventStreamSerdeProvider` is its documented configuration for the
 * event-stream marshaller (resolveEventStreamSerdeConfig stores what it returns as the client's
 * `eventStreamMarshaller`, and the protocol's EventStreamSerde uses that one instead of its own).
 * The marshaller receives the raw response body and, per message, the SDK's deserializer; so
 * requests, signing, endpoints, retries and HTTP errors stay the SDK's, and only the per-event
 * work changes. The SDK's per-event path walks the event's schema (`read`, `_readStruct`,
 * `structIterator`) with several awaits per event; this one is a checksum, a header scan and one JSON.parse.
 *
 * The lean path takes only messages it knows exactly: well-formed, both checksums right, string
 * headers, an `event` of a ConverseStream type whose JSON has only the members the SDK's schema
 * has. Any other message (an exception, an error, an unknown event or field, a bad checksum) is
 * handed, as its bytes, to the SDK's own marshaller, and so is the rest of a stream whose framing
 * is broken: what comes out, events or errors, is the SDK's by construction (test/llm/event-stream-decoder.test.ts).
 */
export const leanEventStreamSerdeProvider: SerdeProvider = (options) => {
  const sdk = eventStreamSerdeProvider(options) as Marshaller;
  return {
    deserialize: (body: unknown, deserializer: unknown) =>
      decodeEvents(body as AsyncIterable<Uint8Array>, (bytes) => sdk.deserialize(bytes, deserializer as never) as AsyncIterable<Event>),
    // Only the request side of bidirectional operations serializes; the runtime has none, and the SDK's is kept.
    serialize: sdk.serialize.bind(sdk),
  } as Marshaller;
};

/** Total length (4), headers length (4), prelude CRC (4). */
const PRELUDE_BYTES = 12;
/** The prelude and the message CRC that ends every message. */
const MINIMUM_MESSAGE_BYTES = PRELUDE_BYTES + 4;

/**
 * Splits the body's chunks into whole event-stream messages (a 4-byte big-endian total length leads
 * each) and decodes them, in one generator: each async generator between the body and the caller
 * is a promise and a microtask per event (the SDK's path has three of its own).
 */
async function* decodeEvents(body: AsyncIterable<Uint8Array>, sdkDecode: SdkDecode): AsyncGenerator<Event> {
  const chunks = body[Symbol.asyncIterator]();
  let pending: Buffer | undefined;
  for await (const chunk of { [Symbol.asyncIterator]: () => chunks }) {
    const buffer = pending ? Buffer.concat([pending, chunk]) : asBuffer(chunk);
    let offset = 0;
    while (buffer.length - offset >= 4) {
      const total = buffer.readUInt32BE(offset);
      if (total < MINIMUM_MESSAGE_BYTES) {
        // A corrupt length: the SDK's framing decides what error this is, from this byte on.
        yield* sdkDecode(remainder(buffer.subarray(offset), chunks));
        return;
      }
      if (buffer.length - offset < total) break;
      const event = leanEvent(buffer, offset, offset + total);
      if (event !== undefined) yield event;
      else yield* sdkDecode(once(buffer.subarray(offset, offset + total)));
      offset += total;
    }
    pending = offset < buffer.length ? buffer.subarray(offset) : undefined;
  }
  // A truncated last message: the SDK's error for it.
  if (pending) yield* sdkDecode(once(pending));
}

/** A Buffer over the chunk's bytes (the HTTP handlers yield Buffers already), for readUInt32BE and toString. */
function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

async function* remainder(first: Uint8Array, chunks: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield first;
  for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
}

/** ConverseStream event types, as the bytes of an `:event-type` header value and the string the event is keyed by. */
const EVENT_TYPES = ['messageStart', 'contentBlockStart', 'contentBlockDelta', 'contentBlockStop', 'messageStop', 'metadata']
  .map((name) => ({ name, bytes: Buffer.from(name) }));
const EVENT_TYPE_HEADER = Buffer.from(':event-type');
const MESSAGE_TYPE_HEADER = Buffer.from(':message-type');
const EVENT_MESSAGE_TYPE = Buffer.from('event');
const STRING_HEADER_TAG = 7;

function bytesEqual(buffer: Buffer, start: number, length: number, expected: Buffer): boolean {
  if (length !== expected.length) return false;
  for (let i = 0; i < length; i += 1) if (buffer[start + i] !== expected[i]) return false;
  return true;
}

/**
 * The event of the message at buffer[start, end) in the SDK's output shape, or undefined when the
 * message is anything the lean path does not take. Reads the prelude and headers in place: the
 * codec's decode built an object per header and a string per name and value, and checked the CRCs
 * with two native calls on two new views (~30 % of the previous lean path).
 */
function leanEvent(buffer: Buffer, start: number, end: number): Event | undefined {
  const headersStart = start + PRELUDE_BYTES;
  const headersEnd = headersStart + buffer.readUInt32BE(start + 4);
  const preludeCrc = crc32(buffer, start, start + 8);
  if (headersEnd > end - 4 || preludeCrc !== buffer.readUInt32BE(start + 8)) return undefined;
  if (crc32(buffer, start + 8, end - 4, preludeCrc) !== buffer.readUInt32BE(end - 4)) return undefined;
  let eventType: string | undefined;
  let isEvent = false;
  // The SDK keeps the last of a repeated header; so does this scan.
  for (let at = headersStart; at < headersEnd;) {
    const nameStart = at + 1;
    const nameLength = buffer[at]!;
    const tag = nameStart + nameLength;
    // Bedrock sends only string headers; any other type goes to the SDK.
    if (tag + 3 > headersEnd || buffer[tag] !== STRING_HEADER_TAG) return undefined;
    const valueStart = tag + 3;
    const valueLength = (buffer[tag + 1]! << 8) | buffer[tag + 2]!;
    at = valueStart + valueLength;
    if (at > headersEnd) return undefined;
    if (bytesEqual(buffer, nameStart, nameLength, EVENT_TYPE_HEADER)) {
      eventType = EVENT_TYPES.find((known) => bytesEqual(buffer, valueStart, valueLength, known.bytes))?.name;
    } else if (bytesEqual(buffer, nameStart, nameLength, MESSAGE_TYPE_HEADER)) {
      isEvent = bytesEqual(buffer, valueStart, valueLength, EVENT_MESSAGE_TYPE);
    }
  }
  if (!isEvent || eventType === undefined || headersEnd === end - 4) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(buffer.toString('utf8', headersEnd, end - 4));
  } catch {
    return undefined;
  }
  if (!isRecord(json) || !fitsShape(json, EVENT_SHAPES[eventType]!, PADDING_MEMBER)) return undefined;
  // The padding is the last member Bedrock writes, and deleting an object's last-added property is V8's cheap case.
  if (PADDING_MEMBER in json) delete json[PADDING_MEMBER];
  return { [eventType]: json };
}

/**
 * The members the lean path takes, per ConverseStream event, as the SDK's schema types them
 * (dist-cjs ConverseStreamOutput$ and the structures it names). A union takes exactly one member.
 * Members are null-prototype objects so that a JSON key such as `constructor` is not found in them.
 */
type Field = 'string' | 'number' | 'blob' | Shape;
interface Shape { union?: true; members: Record<string, Field> }

const shape = (members: Record<string, Field>, union?: true): Shape => ({ members: Object.assign(Object.create(null), members), ...(union ? { union } : {}) });

const EVENT_SHAPES: Record<string, Shape> = {
  messageStart: shape({ role: 'string' }),
  contentBlockStart: shape({ start: shape({ toolUse: shape({ toolUseId: 'string', name: 'string', type: 'string' }) }, true), contentBlockIndex: 'number' }),
  contentBlockDelta: shape({
    delta: shape({
      text: 'string',
      toolUse: shape({ input: 'string' }),
      reasoningContent: shape({ text: 'string', redactedContent: 'blob', signature: 'string' }, true),
    }, true),
    contentBlockIndex: 'number',
  }),
  contentBlockStop: shape({ contentBlockIndex: 'number' }),
  messageStop: shape({ stopReason: 'string' }),
  metadata: shape({
    usage: shape({ inputTokens: 'number', outputTokens: 'number', totalTokens: 'number', cacheReadInputTokens: 'number', cacheWriteInputTokens: 'number' }),
    metrics: shape({ latencyMs: 'number' }),
  }),
};

/** Bedrock pads each event with a `p` member of random length (so sizes do not reveal tokens); the SDK's schema has no such member. */
const PADDING_MEMBER = 'p';

/**
 * Whether what JSON.parse made is already the SDK's output for the shape, but for blobs, which it
 * turns into bytes where they are; `skip` is allowed besides (the padding, at the top). Checking in
 * place instead of copying saves an object per level per event; a `false` leaves the object to be
 * dropped, since the SDK then decodes the message from its bytes.
 */
function fitsShape(json: Record<string, unknown>, shape: Shape, skip?: string): boolean {
  let count = 0;
  for (const key in json) {
    const field = shape.members[key];
    if (field === undefined) {
      if (key === skip) continue;
      return false;
    }
    if (!fitsField(json, key, field)) return false;
    count += 1;
  }
  return !shape.union || count === 1;
}

function fitsField(json: Record<string, unknown>, key: string, field: Field): boolean {
  const value = json[key];
  switch (field) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'blob':
      if (typeof value !== 'string' || !BASE64.test(value)) return false;
      json[key] = base64Bytes(value);
      return true;
    default:
      return isRecord(value) && fitsShape(value, field);
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
