import { PollyClient, ThrottlingException } from '@aws-sdk/client-polly';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpeechCodeDecoder } from '../../src/emulator/speech-code/decoder.js';
import { startPollyEmulator, type RunningPollyEmulator } from '../../src/emulator/polly/server.js';
import { mulawDecode } from '../../src/speech/g711.js';
import { TextToSpeech } from '../../src/speech/text-to-speech.js';

const credentials = { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator-secret' };
let polly: RunningPollyEmulator;
let client: PollyClient;

beforeAll(async () => {
  polly = await startPollyEmulator({ chunkBytes: 800 });
  client = new PollyClient({ endpoint: polly.url, region: 'us-east-1', credentials });
});

afterAll(async () => {
  client.destroy();
  await polly.close();
});

const tts = () => new TextToSpeech({ client, voiceId: 'Joanna', engine: 'neural', format: { encoding: 'mulaw', sampleRateHz: 8_000 } });

async function collect(audio: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const pieces: Uint8Array[] = [];
  for await (const piece of audio) pieces.push(piece);
  return pieces;
}

describe('text-to-speech over the real PollyClient', () => {
  it('yields audio piece by piece as the response streams, in the telephony format', async () => {
    const synthesis = await tts().synthesize('Thanks for calling Harbor Dental, how can I help?');
    const pieces = await collect(synthesis.audio);
    expect(pieces.length).toBeGreaterThan(1);
    const decoder = new SpeechCodeDecoder({ sampleRateHz: 8_000, endOfSpeechMs: 300 });
    const words = [...decoder.push(mulawDecode(Buffer.concat(pieces))), ...decoder.push(new Int16Array(8_000))].flatMap((event) =>
      event.type === 'word' ? [event.word.text] : [],
    );
    expect(words.join(' ')).toBe('Thanks for calling Harbor Dental, how can I help?');
  });

  it('says a repeated short phrase from its cache without a second request', async () => {
    const speech = tts();
    const before = polly.syntheses().length;
    const first = Buffer.concat(await collect((await speech.synthesize('One moment please.')).audio));
    const again = await speech.synthesize('One moment please.');
    expect(again.fromCache).toBe(true);
    expect(Buffer.concat(await collect(again.audio)).equals(first)).toBe(true);
    expect(polly.syntheses().length - before).toBe(1);
  });

  it('retries a throttled request once beyond the client\'s own attempts, then gives up with the error', async () => {
    const singleAttempt = new PollyClient({ endpoint: polly.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    const speech = new TextToSpeech({ client: singleAttempt, voiceId: 'Joanna', engine: 'neural', format: { encoding: 'pcm16', sampleRateHz: 16_000 } });
    polly.failNext('ThrottlingException');
    const retried = await speech.synthesize('Let me check.');
    expect(retried.retried).toBe(true);
    expect((await collect(retried.audio)).length).toBeGreaterThan(0);
    polly.failNext('ThrottlingException', 2);
    await expect(speech.synthesize('Let me check again.')).rejects.toBeInstanceOf(ThrottlingException);
    singleAttempt.destroy();
  });

  it('abandons a request Polly does not answer in time, retries it once, then gives up naming the wait', async () => {
    const slow = await startPollyEmulator({ firstByteMs: 2_000 });
    const slowClient = new PollyClient({ endpoint: slow.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    try {
      const speech = new TextToSpeech({ client: slowClient, voiceId: 'Joanna', engine: 'neural', format: { encoding: 'mulaw', sampleRateHz: 8_000 }, responseTimeoutMs: 50 });
      await expect(speech.synthesize('One moment please.')).rejects.toThrow('Polly sent no response within 50 ms');
      expect(slow.syntheses().map((synthesis) => synthesis.text)).toEqual(['One moment please.', 'One moment please.']);
    } finally {
      slowClient.destroy();
      await slow.close();
    }
  });

  it('cleans characters Polly would refuse from plain text', async () => {
    const synthesis = await tts().synthesize('Press <1> now\u0007');
    await collect(synthesis.audio);
    expect(polly.syntheses().at(-1)?.text).toBe('Press  1  now ');
  });
});
