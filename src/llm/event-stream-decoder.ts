import type { BedrockRuntimeClientConfig } from '@aws-sdk/client-bedrock-runtime';
import { eventStreamSerdeProvider } from '@smithy/core/event-streams';
import { bytesAt, CONVERSE_EVENT_TYPES, converseEvent, type ConverseEvent } from './converse-event-body.js';
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
/** The SDK's own marshaller over some bytes: its events, and its errors, for what the lean path does not take. */
type SdkDecode = (bytes: AsyncIterable<Uint8Array>) => AsyncIterable<ConverseEvent>;

/**
 * Why this hook: the client's `eventStreamSerdeProvider` is its documented configuration for the
 * event-stream marshaller (resolveEventStreamSerdeConfig stores what it returns as the client's
 * `eventStreamMarshaller`, and the protocol's EventStreamSerde uses that one instead of its own).
 * The marshaller receives the raw response body and, per message, the SDK's deserializer; so
 * requests, signing, endpoints, retries and HTTP errors stay the SDK's, and only the per-event
 * work changes. The SDK's per-event path walks the event's schema (`read`, `_readStruct`,
 * `structIterator`) with several awaits per event; this one is a checksum, a header scan and one
 * JSON.parse (none for a text delta of plain ASCII, converse-event-body.ts).
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
      decodeEvents(body as AsyncIterable<Uint8Array>, (bytes) => sdk.deserialize(bytes, deserializer as never) as AsyncIterable<ConverseEvent>),
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
async function* decodeEvents(body: AsyncIterable<Uint8Array>, sdkDecode: SdkDecode): AsyncGenerator<ConverseEvent> {
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
const EVENT_TYPES = Object.keys(CONVERSE_EVENT_TYPES).map((name) => ({ name, bytes: Buffer.from(name) }));
const EVENT_TYPE_HEADER = Buffer.from(':event-type');
const MESSAGE_TYPE_HEADER = Buffer.from(':message-type');
const EVENT_MESSAGE_TYPE = Buffer.from('event');
const STRING_HEADER_TAG = 7;

/** Whether buffer[start, start + length) is `expected`. */
function bytesEqual(buffer: Buffer, start: number, length: number, expected: Buffer): boolean {
  return length === expected.length && bytesAt(buffer, start, expected);
}

function eventTypeAt(buffer: Buffer, start: number, length: number): string | undefined {
  for (const known of EVENT_TYPES) if (bytesEqual(buffer, start, length, known.bytes)) return known.name;
  return undefined;
}

/**
 * The event of the message at buffer[start, end) in the SDK's output shape, or undefined when the
 * message is anything the lean path does not take. Reads the prelude and headers in place: the
 * codec's decode built an object per header and a string per name and value, and checked the CRCs
 * with two native calls on two new views (22 % of the previous lean path's CPU).
 */
function leanEvent(buffer: Buffer, start: number, end: number): ConverseEvent | undefined {
  const headersStart = start + PRELUDE_BYTES;
  const headersEnd = headersStart + buffer.readUInt32BE(start + 4);
  const bodyEnd = end - 4;
  const preludeCrc = crc32(buffer, start, start + 8);
  if (headersEnd > bodyEnd || preludeCrc !== buffer.readUInt32BE(start + 8)) return undefined;
  if (crc32(buffer, start + 8, bodyEnd, preludeCrc) !== buffer.readUInt32BE(bodyEnd)) return undefined;
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
    if (bytesEqual(buffer, nameStart, nameLength, EVENT_TYPE_HEADER)) eventType = eventTypeAt(buffer, valueStart, valueLength);
    else if (bytesEqual(buffer, nameStart, nameLength, MESSAGE_TYPE_HEADER)) isEvent = bytesEqual(buffer, valueStart, valueLength, EVENT_MESSAGE_TYPE);
  }
  return isEvent && eventType !== undefined ? converseEvent(eventType, buffer, headersEnd, bodyEnd) : undefined;
}
