import {
  BadRequestException,
  InternalFailureException,
  LimitExceededException,
  StartStreamTranscriptionCommand,
  type TranscribeStreamingClient,
  type AudioStream,
} from '@aws-sdk/client-transcribe-streaming';
import { afterEach, describe, expect, it } from 'vitest';
import { startTranscribeEmulator, type RunningTranscribeEmulator } from '../../src/emulator/transcribe/server.js';
import { TRANSCRIBE_ENCODER_KINDS } from '../../src/speech/transcribe-encoding.js';
import { emulatorTranscribeClient } from '../speech/transcribe-client.js';

const credentials = { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator-secret' };
let emulator: RunningTranscribeEmulator | undefined;
let client: TranscribeStreamingClient | undefined;

afterEach(async () => {
  client?.destroy();
  await emulator?.close();
});

/** Audio that never ends on its own: silence frames until `stop` resolves. */
function heldStream(stop: Promise<void>): AsyncGenerator<AudioStream> {
  let stopped = false;
  void stop.then(() => (stopped = true));
  return (async function* () {
    while (!stopped) {
      yield { AudioEvent: { AudioChunk: new Uint8Array(320) } };
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

async function start(options: Parameters<typeof startTranscribeEmulator>[0]) {
  emulator = await startTranscribeEmulator(options);
  client = emulatorTranscribeClient(emulator.url, credentials);
  return { emulator, client };
}

const command = (audio: AsyncIterable<AudioStream>) =>
  new StartStreamTranscriptionCommand({ LanguageCode: 'en-US', MediaEncoding: 'pcm', MediaSampleRateHertz: 8_000, AudioStream: audio });

/** The whole call: the SDK's `send` itself waits for the first message, so an exception may surface from either. */
async function transcribe(client: TranscribeStreamingClient, audio: AsyncIterable<AudioStream>): Promise<void> {
  const output = await client.send(command(audio));
  for await (const _ of output.TranscriptResultStream!) void _;
}

describe('Transcribe emulator faults through the real SDK', () => {
  it('ends a stream that receives no audio for the silence timeout with BadRequestException', async () => {
    const { client } = await start({ silenceTimeoutMs: 200 });
    const idle = (async function* (): AsyncGenerator<AudioStream> {
      yield { AudioEvent: { AudioChunk: new Uint8Array(320) } };
      await new Promise((resolve) => setTimeout(resolve, 5_000));
    })();
    const error = await transcribe(client, idle).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BadRequestException);
    expect((error as Error).message).toMatch(/no new audio was received/);
  });

  it('refuses streams over the concurrency limit with LimitExceededException', async () => {
    const { client } = await start({ maxStreams: 1 });
    let release!: () => void;
    const stop = new Promise<void>((resolve) => (release = resolve));
    const first = transcribe(client, heldStream(stop));
    await until(() => emulator!.streams().length === 1);
    await expect(transcribe(client, heldStream(stop))).rejects.toBeInstanceOf(LimitExceededException);
    release();
    await first;
  });

  it('fails an open stream mid-call with the injected exception', async () => {
    const { client, emulator } = await start({});
    let release!: () => void;
    const stop = new Promise<void>((resolve) => (release = resolve));
    const call = transcribe(client, heldStream(stop));
    await until(() => (emulator.streams()[0]?.audioEvents ?? 0) > 2);
    emulator.failOpenStreams('InternalFailureException');
    await expect(call).rejects.toBeInstanceOf(InternalFailureException);
    release();
    expect(emulator.streams()[0]?.outcome).toBe('InternalFailureException');
  });

  it.each(TRANSCRIBE_ENCODER_KINDS)('checks every chunk signature in the chain when given the secret, and refuses a stream signed with another (%s signer)', async (signer) => {
    emulator = await startTranscribeEmulator({ secretAccessKey: credentials.secretAccessKey });
    client = emulatorTranscribeClient(emulator.url, credentials, signer);
    const frames = (async function* (): AsyncGenerator<AudioStream> {
      for (let i = 0; i < 5; i += 1) yield { AudioEvent: { AudioChunk: new Uint8Array(320) } };
    })();
    await transcribe(client, frames);
    expect(emulator.streams()[0]).toMatchObject({ audioEvents: 5, outcome: 'end' });

    const impostor = emulatorTranscribeClient(emulator.url, { ...credentials, secretAccessKey: 'wrong' }, signer);
    const error = await transcribe(impostor, heldStream(new Promise(() => undefined))).catch((caught: unknown) => caught);
    impostor.destroy();
    expect(error).toBeInstanceOf(BadRequestException);
    expect((error as Error).message).toMatch(/chunk signature/);
  });
});
