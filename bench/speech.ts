import { pathToFileURL } from 'node:url';
import { PollyClient, SynthesizeSpeechCommand } from '@aws-sdk/client-polly';
import { StartStreamTranscriptionCommand, TranscribeStreamingClient, type AudioStream } from '@aws-sdk/client-transcribe-streaming';
import alawmulaw from 'alawmulaw';
import { startPollyEmulator } from '../src/emulator/polly/server.js';
import { SpeechCodeDecoder } from '../src/emulator/speech-code/decoder.js';
import { synthesizeSpeechCode } from '../src/emulator/speech-code/synthesize.js';
import { startTranscribeEmulator } from '../src/emulator/transcribe/server.js';
import { alawEncode, mulawDecode, mulawEncode } from '../src/speech/g711.js';
import { Downsampler16To8, Upsampler8To16 } from '../src/speech/resample.js';
import { VoiceActivityDetector } from '../src/speech/voice-activity.js';

/**
 * `npm run bench -- speech`: CPU per second of call audio for each speech stage, each beside a
 * baseline from the same run (a plain copy of the same frames), and the SDK's cost per Transcribe
 * audio event and per Polly request against the emulators.
 */
const AUDIO_SECONDS = 60;
const TEXT = 'Hi, this is Sam calling about my appointment on Tuesday at 3:30. Could we move it to Thursday morning instead? Thanks.';

function speechAudio(rate: number): Int16Array {
  const pcm = new Int16Array(rate * AUDIO_SECONDS);
  const phrase = synthesizeSpeechCode(TEXT, rate);
  for (let at = 0; at < pcm.length; at += phrase.length) pcm.set(phrase.subarray(0, Math.min(phrase.length, pcm.length - at)), at);
  return pcm;
}

function framesOf<T extends Int16Array | Uint8Array>(data: T, size: number): T[] {
  return Array.from({ length: Math.floor(data.length / size) }, (_, i) => data.subarray(i * size, i * size + size) as T);
}

/** CPU microseconds per second of audio, best of five runs (the least disturbed by the other engineers' load). */
function perAudioSecond(work: () => void): number {
  work();
  let best = Infinity;
  for (let run = 0; run < 5; run += 1) {
    const start = process.cpuUsage();
    work();
    const used = process.cpuUsage(start);
    best = Math.min(best, used.user + used.system);
  }
  return best / AUDIO_SECONDS;
}

function row(name: string, microseconds: number, baseline: number): void {
  console.log(`${name.padEnd(40)} ${microseconds.toFixed(1).padStart(9)} µs/s of audio  ${(microseconds / baseline).toFixed(1).padStart(6)}× copy  ${((microseconds / 1e6) * 100).toFixed(4)} % of a core per call`);
}

async function sdkCosts(): Promise<void> {
  const credentials = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' };
  const [polly, transcribe] = await Promise.all([startPollyEmulator(), startTranscribeEmulator()]);
  const pollyClient = new PollyClient({ endpoint: polly.url, region: 'us-east-1', credentials });
  const transcribeClient = new TranscribeStreamingClient({ endpoint: transcribe.url, region: 'us-east-1', credentials });
  try {
    const requests = 50;
    const cpu = process.cpuUsage();
    for (let i = 0; i < requests; i += 1) {
      const output = await pollyClient.send(new SynthesizeSpeechCommand({ OutputFormat: 'mulaw', SampleRate: '8000', Text: `One moment please, number ${i}.`, VoiceId: 'Joanna' }));
      await output.AudioStream!.transformToByteArray();
    }
    const pollyCpu = process.cpuUsage(cpu);
    console.log(`Polly SynthesizeSpeech (client + emulator)  ${((pollyCpu.user + pollyCpu.system) / requests / 1000).toFixed(2)} ms CPU per request`);

    const pcm = synthesizeSpeechCode(TEXT, 8_000);
    const chunks = framesOf(new Uint8Array(pcm.buffer), 1_600); // 100 ms events
    const eventCpu = process.cpuUsage();
    const output = await transcribeClient.send(
      new StartStreamTranscriptionCommand({
        LanguageCode: 'en-US',
        MediaEncoding: 'pcm',
        MediaSampleRateHertz: 8_000,
        AudioStream: (async function* (): AsyncGenerator<AudioStream> {
          for (const chunk of chunks) yield { AudioEvent: { AudioChunk: chunk } };
        })(),
      }),
    );
    for await (const _ of output.TranscriptResultStream!) void _;
    const used = process.cpuUsage(eventCpu);
    console.log(`Transcribe AudioEvent (client + emulator)   ${((used.user + used.system) / chunks.length).toFixed(1)} µs CPU per 100 ms event`);
  } finally {
    pollyClient.destroy();
    transcribeClient.destroy();
    await Promise.all([polly.close(), transcribe.close()]);
  }
}

export async function run(): Promise<void> {
  const pcm8 = speechAudio(8_000);
  const pcm16 = speechAudio(16_000);
  const frames8 = framesOf(pcm8, 160);
  const frames16 = framesOf(pcm16, 320);
  const mulawFrames = frames8.map((frame) => mulawEncode(frame));
  const copy = perAudioSecond(() => {
    for (const frame of frames8) frame.slice();
  });
  console.log(`baseline: copying 20 ms frames at 8 kHz  ${copy.toFixed(1)} µs per second of audio`);
  row('µ-law encode (own tables)', perAudioSecond(() => frames8.forEach((frame) => mulawEncode(frame))), copy);
  row('µ-law encode (alawmulaw)', perAudioSecond(() => frames8.forEach((frame) => alawmulaw.mulaw.encode(frame))), copy);
  row('µ-law decode (own tables)', perAudioSecond(() => mulawFrames.forEach((frame) => mulawDecode(frame))), copy);
  row('µ-law decode (alawmulaw)', perAudioSecond(() => mulawFrames.forEach((frame) => alawmulaw.mulaw.decode(frame))), copy);
  row('A-law encode (own tables)', perAudioSecond(() => frames8.forEach((frame) => alawEncode(frame))), copy);
  row('A-law encode (alawmulaw)', perAudioSecond(() => frames8.forEach((frame) => alawmulaw.alaw.encode(frame))), copy);
  row('resample 8 → 16 kHz', perAudioSecond(() => {
    const up = new Upsampler8To16();
    frames8.forEach((frame) => up.process(frame));
  }), copy);
  row('resample 16 → 8 kHz', perAudioSecond(() => {
    const down = new Downsampler16To8();
    frames16.forEach((frame) => down.process(frame));
  }), copy);
  row('voice activity (8 kHz frames)', perAudioSecond(() => {
    const vad = new VoiceActivityDetector();
    frames8.forEach((frame) => vad.push(frame));
  }), copy);
  row('emulated speech decoder (8 kHz)', perAudioSecond(() => {
    const decoder = new SpeechCodeDecoder({ sampleRateHz: 8_000, endOfSpeechMs: 600 });
    frames8.forEach((frame) => decoder.push(frame));
  }), copy);
  await sdkCosts();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
