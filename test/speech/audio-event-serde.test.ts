import { StartStreamTranscriptionCommand, TranscribeStreamingClient, type AudioStream } from '@aws-sdk/client-transcribe-streaming';
import { describe, expect, it } from 'vitest';
import { leanAudioEventSerdeProvider } from '../../src/speech/audio-event-serde.js';

const CAPTURED = 'request body captured';

/** Audio-like bytes that differ per seed and position. */
const seededBytes = (length: number, seed: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (i * 31 + seed * 17 + (i >> 3)) & 0xff);

/**
 * The bytes a client would sign and send for `events`: a payload handler (the client's documented
 * hook, which receives the serialized event stream) that reads the body and stops the request.
 */
async function serializedBody(lean: boolean, events: AudioStream[]): Promise<Buffer[]> {
  const messages: Buffer[] = [];
  const client = new TranscribeStreamingClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
    maxAttempts: 1,
    ...(lean ? { eventStreamSerdeProvider: leanAudioEventSerdeProvider } : {}),
    eventStreamPayloadHandlerProvider: () => ({
      handle: async (_next, args) => {
        for await (const chunk of (args.request as { body: AsyncIterable<Uint8Array> }).body) messages.push(Buffer.from(chunk));
        throw new Error(CAPTURED);
      },
    }),
  });
  try {
    await expect(client.send(new StartStreamTranscriptionCommand({
      LanguageCode: 'en-US',
      MediaEncoding: 'pcm',
      MediaSampleRateHertz: 8_000,
      AudioStream: (async function* () {
        yield* events;
      })(),
    }))).rejects.toThrow(CAPTURED);
  } finally {
    client.destroy();
  }
  return messages;
}

describe('lean AudioEvent serialization', () => {
  it('writes the bytes the SDK writes, message by message, for audio chunks of every size', async () => {
    const sizes = [1_600, 0, 1, 3, 160, 1_599, 3_200, 32_000];
    const events: AudioStream[] = sizes.map((size, index) => ({ AudioEvent: { AudioChunk: seededBytes(size, index + 1) } }));
    const [sdk, lean] = [await serializedBody(false, events), await serializedBody(true, events)];
    expect(sdk.length).toBe(sizes.length + 1);
    expect(lean).toEqual(sdk);
    // The stream ends with the empty frame the payload handler signs as the last message.
    expect(lean.at(-1)!.length).toBe(0);
  });

  it('leaves any other event to the SDK, in order, so its bytes are the SDK\'s', async () => {
    const events: AudioStream[] = [
      { AudioEvent: { AudioChunk: seededBytes(320, 7) } },
      { ConfigurationEvent: { ChannelDefinitions: [{ ChannelId: 0, ParticipantRole: 'AGENT' }] } },
      { AudioEvent: {} },
      { AudioEvent: { AudioChunk: seededBytes(640, 8) } },
    ];
    expect(await serializedBody(true, events)).toEqual(await serializedBody(false, events));
  });
});
