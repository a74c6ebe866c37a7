import { Readable } from 'node:stream';
import type { AudioStream, TranscribeStreamingClientConfig } from '@aws-sdk/client-transcribe-streaming';
import { eventStreamSerdeProvider } from '@smithy/core/event-streams';
import { encodeEventMessage } from './event-stream-message.js';

type SerdeProvider = NonNullable<TranscribeStreamingClientConfig['eventStreamSerdeProvider']>;
type Marshaller = ReturnType<SerdeProvider>;
/** What the SDK's protocol hands the marshaller per input event: the message's headers and body. */
type EventSerializer = (event: unknown) => { headers: Record<string, { type: string; value: unknown }>; body: Uint8Array };

const STRING_HEADER_TAG = 7;

/** An event-stream header block of string headers, in order, as the SDK's codec writes it. */
function stringHeaders(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const nameBytes = Buffer.from(name);
    const valueBytes = Buffer.from(value);
    const header = Buffer.alloc(1 + nameBytes.length + 3 + valueBytes.length);
    header[0] = nameBytes.length;
    nameBytes.copy(header, 1);
    header[1 + nameBytes.length] = STRING_HEADER_TAG;
    header.writeUInt16BE(valueBytes.length, 2 + nameBytes.length);
    valueBytes.copy(header, 4 + nameBytes.length);
    parts.push(header);
  }
  return Buffer.concat(parts);
}

/**
 * The headers the SDK writes for an `AudioEvent` (its `AudioChunk` is the event's payload member,
 * a blob, hence the octet-stream content type), built once.
 */
const AUDIO_EVENT_HEADERS = stringHeaders({ ':event-type': 'AudioEvent', ':message-type': 'event', ':content-type': 'application/octet-stream' });
const writeAudioEventHeaders = (out: Buffer, at: number): void => void AUDIO_EVENT_HEADERS.copy(out, at);

/** An input event that is exactly `{ AudioEvent: { AudioChunk } }`, the only one the runtime sends per 100 ms. */
function audioChunkOf(event: unknown): Uint8Array | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const keys = Object.keys(event);
  if (keys.length !== 1 || keys[0] !== 'AudioEvent') return undefined;
  const audio = (event as AudioStream.AudioEventMember).AudioEvent;
  if (typeof audio !== 'object' || audio === null || Object.keys(audio).length !== 1) return undefined;
  return audio.AudioChunk instanceof Uint8Array ? audio.AudioChunk : undefined;
}

/**
 * The request side of StartStreamTranscription's event stream through the client's documented
 * `eventStreamSerdeProvider` hook (as src/llm/event-stream-decoder.ts does for Bedrock's answers):
 * each caller `AudioEvent` becomes its message with prebuilt headers and two CRCs, in one async
 * generator. The SDK's path walks the event's schema (`writeEventBody`, `structIterator`), formats
 * each header into its own array and runs three async generators per event: at 200 Twilio calls
 * (2,000 audio events a second) its serialization was ~10 % of serve's CPU. Any other event (a
 * `ConfigurationEvent`, or an AudioEvent with more than its chunk) is written by the SDK's own
 * serializer and codec, so its bytes are the SDK's by construction (test/speech/audio-event-serde.test.ts
 * compares both paths byte for byte). The response side stays the SDK's.
 */
export const leanAudioEventSerdeProvider: SerdeProvider = (options) => {
  const sdk = eventStreamSerdeProvider(options) as Marshaller;
  return {
    serialize: (input: unknown, serializer: unknown) => Readable.from(encodeEvents(input as AsyncIterable<unknown>, serializer as EventSerializer, sdk)),
    deserialize: sdk.deserialize.bind(sdk),
  } as Marshaller;
};

async function* encodeEvents(input: AsyncIterable<unknown>, serializer: EventSerializer, sdk: Marshaller): AsyncGenerator<Uint8Array> {
  for await (const event of input) {
    const chunk = audioChunkOf(event);
    if (chunk) yield encodeEventMessage(AUDIO_EVENT_HEADERS.length, chunk, writeAudioEventHeaders);
    else for await (const bytes of sdkMessage(sdk, event, serializer)) if (bytes.length > 0) yield bytes;
  }
  // The empty frame that ends the stream, as the SDK's encoder sends it (the payload handler signs it).
  yield new Uint8Array(0);
}

/** The SDK's bytes for one event: its marshaller over a one-event stream (less the end frame, which the caller drops). */
function sdkMessage(sdk: Marshaller, event: unknown, serializer: EventSerializer): AsyncIterable<Uint8Array> {
  return sdk.serialize((async function* () {
    yield event;
  })(), serializer as never) as AsyncIterable<Uint8Array>;
}
