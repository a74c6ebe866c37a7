import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { PollyClient, SynthesizeSpeechCommand } from '@aws-sdk/client-polly';
import { StartStreamTranscriptionCommand, TranscribeStreamingClient, type AudioStream } from '@aws-sdk/client-transcribe-streaming';
import alawmulaw from 'alawmulaw';
import { startPollyEmulator } from '../src/emulator/polly/server.js';
import { SpeechCodeDecoder } from '../src/emulator/speech-code/decoder.js';
import { synthesizeSpeechCode } from '../src/emulator/speech-code/synthesize.js';
import { startTranscribeEmulator } from '../src/emulator/transcribe/server.js';
import { TRANSCRIBE_ENCODER_KINDS, transcribeEncoding, type TranscribeEncoderKind } from '../src/speech/transcribe-encoding.js';
import { alawEncode, mulawDecode, mulawEncode } from '../src/speech/g711.js';
import { Downsampler16To8, Upsampler8To16 } from '../src/speech/resample.js';
import { VoiceActivityDetector } from '../src/speech/voice-activity.js';

/**
 * `npm run bench -- speech`: CPU per second of call audio for each speech stage, each beside a
 * baseline from the same run (a plain copy of the same frames), and the SDK's cost per Transcribe
 * audio event (on each `speech.transcribeEncoder`) and per Polly request against the emulators.
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

/** Rounds of each Transcribe signer, alternating (which goes first swaps every round). */
const SIGNER_ROUNDS = 15;
/** Events per Transcribe stream: 60 s of 100 ms events. */
const STREAM_EVENTS = 600;
/** An AudioEvent's inner message for 1,600 bytes of audio: its three string headers and prelude take 104 bytes. */
const INNER_MESSAGE_BYTES = 1_704;

interface SignerCost {
  /** The least disturbed round, as perAudioSecond's best of five. */
  best: number;
  median: number;
}

/** µs CPU per event for each signer, the rounds alternating so that both see the same machine load. */
async function perSigner(measure: (kind: TranscribeEncoderKind) => Promise<number>): Promise<Map<TranscribeEncoderKind, SignerCost>> {
  const samples = new Map<TranscribeEncoderKind, number[]>(TRANSCRIBE_ENCODER_KINDS.map((kind) => [kind, []]));
  for (const kind of TRANSCRIBE_ENCODER_KINDS) await measure(kind); // warm-up
  for (let round = 0; round < SIGNER_ROUNDS; round += 1) {
    const order = round % 2 === 0 ? TRANSCRIBE_ENCODER_KINDS : [...TRANSCRIBE_ENCODER_KINDS].reverse();
    for (const kind of order) samples.get(kind)!.push(await measure(kind));
  }
  return new Map([...samples].map(([kind, values]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return [kind, { best: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]! }];
  }));
}

function signerRows(title: string, costs: Map<TranscribeEncoderKind, SignerCost>): void {
  const sdk = costs.get('sdk')!;
  for (const [kind, { best, median }] of costs) {
    console.log(`${title} ${kind.padEnd(4)} ${best.toFixed(1).padStart(7)} best, ${median.toFixed(1).padStart(7)} median µs CPU per 100 ms event  ${(sdk.best / best).toFixed(2)}× / ${(sdk.median / median).toFixed(2)}× sdk`);
  }
}

/**
 * The payload handler alone, inside a real client (its signer, credentials and clock) with no
 * HTTP: inner messages in, the body the handler builds drained. What the signers differ in and
 * nothing else, which the emulator's decoding and transcription would otherwise dilute.
 */
async function handlerCpuPerEvent(kind: TranscribeEncoderKind, credentials: { accessKeyId: string; secretAccessKey: string }): Promise<number> {
  const client = new TranscribeStreamingClient({ region: 'us-east-1', credentials, ...transcribeEncoding(kind) });
  const inner = new Uint8Array(INNER_MESSAGE_BYTES).fill(1);
  const events = Array.from({ length: STREAM_EVENTS }, () => inner);
  const next = async (args: { request: { body: Readable } }) => {
    for await (const _ of args.request.body) void _;
    return { response: { statusCode: 200, headers: {} }, output: { $metadata: {} } };
  };
  const request = {
    method: 'POST', protocol: 'https:', hostname: 'transcribestreaming.us-east-1.amazonaws.com', path: '/stream-transcription', query: {},
    headers: { authorization: `AWS4-HMAC-SHA256 Credential=AKIDBENCH/20261204/us-east-1/transcribe/aws4_request, SignedHeaders=host, Signature=${'a'.repeat(64)}` },
    body: Readable.from(events),
  };
  const cpu = process.cpuUsage();
  await client.config.eventStreamPayloadHandler.handle(next as never, { request, input: {} } as never);
  const used = process.cpuUsage(cpu);
  client.destroy();
  return (used.user + used.system) / STREAM_EVENTS;
}

async function sdkCosts(): Promise<void> {
  const credentials = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' };
  const [polly, transcribe] = await Promise.all([startPollyEmulator(), startTranscribeEmulator()]);
  const pollyClient = new PollyClient({ endpoint: polly.url, region: 'us-east-1', credentials });
  const transcribeClients = new Map(TRANSCRIBE_ENCODER_KINDS.map((kind) => [kind, new TranscribeStreamingClient({ endpoint: transcribe.url, region: 'us-east-1', credentials, ...transcribeEncoding(kind) })]));
  try {
    const requests = 50;
    const cpu = process.cpuUsage();
    for (let i = 0; i < requests; i += 1) {
      const output = await pollyClient.send(new SynthesizeSpeechCommand({ OutputFormat: 'mulaw', SampleRate: '8000', Text: `One moment please, number ${i}.`, VoiceId: 'Joanna' }));
      await output.AudioStream!.transformToByteArray();
    }
    const pollyCpu = process.cpuUsage(cpu);
    console.log(`Polly SynthesizeSpeech (client + emulator)  ${((pollyCpu.user + pollyCpu.system) / requests / 1000).toFixed(2)} ms CPU per request`);

    const pcm = speechAudio(8_000).subarray(0, STREAM_EVENTS * 800);
    const chunks = framesOf(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength), 1_600); // 100 ms events
    const streamCpuPerEvent = async (kind: TranscribeEncoderKind): Promise<number> => {
      const eventCpu = process.cpuUsage();
      const output = await transcribeClients.get(kind)!.send(
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
      return (used.user + used.system) / chunks.length;
    };
    signerRows('Transcribe AudioEvent (client + emulator)', await perSigner(streamCpuPerEvent));
    signerRows('Transcribe payload handler (client only) ', await perSigner((kind) => handlerCpuPerEvent(kind, credentials)));
  } finally {
    pollyClient.destroy();
    for (const client of transcribeClients.values()) client.destroy();
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
