import { PollyClient, SynthesizeSpeechCommand, TextLengthExceededException, InvalidSsmlException } from '@aws-sdk/client-polly';
import {
  BadRequestException,
  StartStreamTranscriptionCommand,
  type TranscribeStreamingClient,
  type AudioStream,
  type MediaEncoding,
  type Result,
} from '@aws-sdk/client-transcribe-streaming';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPollyEmulator, type RunningPollyEmulator } from '../../src/emulator/polly/server.js';
import { startTranscribeEmulator, type RunningTranscribeEmulator } from '../../src/emulator/transcribe/server.js';
import { emulatorTranscribeClient } from '../speech/transcribe-client.js';

const credentials = { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator-secret' };
const TEXT = "Hi, this is Sam. I'd like to move my cleaning to Tuesday at 3:30, please.";

let polly: RunningPollyEmulator;
let transcribe: RunningTranscribeEmulator;
let pollyClient: PollyClient;
let transcribeClient: TranscribeStreamingClient;

beforeAll(async () => {
  polly = await startPollyEmulator();
  transcribe = await startTranscribeEmulator({ endOfSpeechMs: 600, secretAccessKey: credentials.secretAccessKey });
  pollyClient = new PollyClient({ endpoint: polly.url, region: 'us-east-1', credentials });
  transcribeClient = emulatorTranscribeClient(transcribe.url, credentials);
});

afterAll(async () => {
  pollyClient.destroy();
  transcribeClient.destroy();
  await Promise.all([polly.close(), transcribe.close()]);
});

async function synthesize(outputFormat: 'pcm' | 'mulaw' | 'alaw', sampleRate: string, text = TEXT): Promise<{ audio: Uint8Array; characters?: number; contentType?: string }> {
  const output = await pollyClient.send(new SynthesizeSpeechCommand({ OutputFormat: outputFormat, SampleRate: sampleRate, Text: text, VoiceId: 'Joanna', Engine: 'neural' }));
  return { audio: await output.AudioStream!.transformToByteArray(), characters: output.RequestCharacters, contentType: output.ContentType };
}

/** 20 ms frames cut at a jittered boundary (±40 % of a frame) and sent with random pauses, as a network delivers them. */
async function* jitteredFrames(audio: Uint8Array, bytesPerFrame: number, seed: number): AsyncGenerator<AudioStream> {
  let state = seed;
  const random = () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
  for (let at = 0; at < audio.length; ) {
    const size = Math.max(1, Math.round(bytesPerFrame * (0.6 + 0.8 * random())));
    yield { AudioEvent: { AudioChunk: audio.subarray(at, at + size) } };
    at += size;
    if (random() < 0.3) await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 3)));
  }
}

async function transcribeAudio(audio: Uint8Array, mediaEncoding: MediaEncoding, sampleRateHz: number, bytesPerFrame: number): Promise<Result[]> {
  const output = await transcribeClient.send(
    new StartStreamTranscriptionCommand({
      LanguageCode: 'en-US',
      MediaEncoding: mediaEncoding,
      MediaSampleRateHertz: sampleRateHz,
      EnablePartialResultsStabilization: true,
      PartialResultsStability: 'high',
      AudioStream: jitteredFrames(audio, bytesPerFrame, sampleRateHz + audio.length),
    }),
  );
  const results: Result[] = [];
  for await (const event of output.TranscriptResultStream!) results.push(...(event.TranscriptEvent?.Transcript?.Results ?? []));
  return results;
}

const transcriptOf = (result: Result) => result.Alternatives?.[0]?.Transcript ?? '';

function expectWordByWordThenFinal(results: Result[]): void {
  const words = TEXT.split(' ');
  const partials = results.filter((result) => result.IsPartial).map(transcriptOf);
  expect(partials).toEqual(words.map((_, i) => words.slice(0, i + 1).join(' ')));
  const finals = results.filter((result) => !result.IsPartial);
  expect(finals.map(transcriptOf)).toEqual([TEXT]);
  expect(new Set(results.map((result) => result.ResultId)).size).toBe(1);
  expect(results.at(-1)).toBe(finals[0]);
  const final = finals[0]!;
  expect(final.StartTime!).toBeLessThan(final.EndTime!);
  const items = final.Alternatives![0]!.Items!;
  expect(items.filter((item) => item.Type === 'pronunciation').map((item) => item.Content)).toContain('Tuesday');
  expect(items.filter((item) => item.Type === 'punctuation').map((item) => item.Content)).toEqual([',', '.', ',', '.']);
}

describe('real SDK clients against the speech emulators', () => {
  it('PCM at 16 kHz: Polly audio → Transcribe gives the same words, partials word by word, one final', async () => {
    const { audio, characters, contentType } = await synthesize('pcm', '16000');
    expect(characters).toBe(TEXT.length);
    expect(contentType).toBe('audio/pcm');
    expectWordByWordThenFinal(await transcribeAudio(audio, 'pcm', 16_000, 640));
  });

  it('PCM at 8 kHz', async () => {
    const { audio } = await synthesize('pcm', '8000');
    expectWordByWordThenFinal(await transcribeAudio(audio, 'pcm', 8_000, 320));
  });

  it('µ-law at 8 kHz, sent to Transcribe as g711-ulaw', async () => {
    const { audio, contentType } = await synthesize('mulaw', '8000');
    expect(contentType).toBe('audio/mulaw');
    expectWordByWordThenFinal(await transcribeAudio(audio, 'g711-ulaw', 8_000, 160));
  });

  it('A-law at 8 kHz, sent to Transcribe as g711-alaw', async () => {
    const { audio, contentType } = await synthesize('alaw', '8000');
    expect(contentType).toBe('audio/alaw');
    expectWordByWordThenFinal(await transcribeAudio(audio, 'g711-alaw', 8_000, 160));
  });

  it('Polly answers a client on HTTP/1.1 as well (NodeHttpHandler)', async () => {
    const http1 = new PollyClient({ endpoint: polly.url, region: 'us-east-1', credentials, requestHandler: new NodeHttpHandler() });
    const output = await http1.send(new SynthesizeSpeechCommand({ OutputFormat: 'pcm', SampleRate: '8000', Text: 'hello', VoiceId: 'Joanna' }));
    expect((await output.AudioStream!.transformToByteArray()).length).toBeGreaterThan(0);
    http1.destroy();
  });

  it('Polly refuses text over 3,000 characters, malformed SSML and an unknown text type with their modeled exceptions', async () => {
    await expect(pollyClient.send(new SynthesizeSpeechCommand({ OutputFormat: 'pcm', Text: 'a '.repeat(1_600), VoiceId: 'Joanna' }))).rejects.toBeInstanceOf(TextLengthExceededException);
    await expect(pollyClient.send(new SynthesizeSpeechCommand({ OutputFormat: 'pcm', Text: '<speak>Hello <emphasis>there</speak>', TextType: 'ssml', VoiceId: 'Joanna' }))).rejects.toBeInstanceOf(
      InvalidSsmlException,
    );
    await expect(pollyClient.send(new SynthesizeSpeechCommand({ OutputFormat: 'pcm', Text: 'Hello', TextType: 'markdown' as never, VoiceId: 'Joanna' }))).rejects.toThrow(
      "Value 'markdown' at 'textType' failed to satisfy constraint",
    );
  });

  it('Polly bills SSML by its text, not its tags', async () => {
    const output = await pollyClient.send(new SynthesizeSpeechCommand({ OutputFormat: 'pcm', Text: '<speak>Call <break time="300ms"/>extension 204</speak>', TextType: 'ssml', VoiceId: 'Joanna' }));
    await output.AudioStream!.transformToByteArray();
    expect(output.RequestCharacters).toBe('Call extension 204'.length);
  });

  it('Transcribe refuses a bad sample rate before the stream with BadRequestException', async () => {
    const { audio } = await synthesize('mulaw', '8000', 'hello');
    await expect(transcribeAudio(audio, 'g711-ulaw', 16_000, 320)).rejects.toBeInstanceOf(BadRequestException);
  });
});
