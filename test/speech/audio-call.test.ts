import { Writable } from 'node:stream';
import { PollyClient } from '@aws-sdk/client-polly';
import type { TranscribeStreamingClient } from '@aws-sdk/client-transcribe-streaming';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallerEvent } from '../../src/call/events.js';
import { startPollyEmulator, type RunningPollyEmulator } from '../../src/emulator/polly/server.js';
import { SpeechCodeDecoder } from '../../src/emulator/speech-code/decoder.js';
import { synthesizeSpeechCode, wordsOf } from '../../src/emulator/speech-code/synthesize.js';
import { startTranscribeEmulator, type RunningTranscribeEmulator } from '../../src/emulator/transcribe/server.js';
import { createLogger } from '../../src/log.js';
import { createMetrics, type RuntimeMetrics } from '../../src/metrics/metrics.js';
import { AudioCall, DEFAULT_REPEAT_PROMPT, type AudioCallOptions } from '../../src/speech/audio-call.js';
import { mulawDecode, mulawEncode } from '../../src/speech/g711.js';
import type { PlaybackTransport } from '../../src/speech/playback.js';
import { textForSpeech } from '../../src/speech/text-for-speech.js';
import { TextToSpeech } from '../../src/speech/text-to-speech.js';
import type { CallsPort } from '../../src/protocol/calls-port.js';
import type { CallObservation } from '../../src/records/observations.js';
import { startTestNode, type TestNode } from '../integration/test-node.js';
import { emulatorTranscribeClient } from './transcribe-client.js';

const credentials = { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator-secret' };
const HOURS = 'We are open Monday to Friday from 8 to 6. Is there anything else?';
const CALL_BACK = 'Call us back at 555-0100 and ask for extension 204.';
const LONG = 'Let me tell you about every service we offer. We do cleanings, fillings, crowns and whitening. We also see children. Our hygienists are friendly.';

let node: TestNode;
let polly: RunningPollyEmulator;
let transcribe: RunningTranscribeEmulator;
let pollyClient: PollyClient;
let transcribeClient: TranscribeStreamingClient;

beforeAll(async () => {
  node = await startTestNode({
    script: { ttftMs: { min: 5, max: 10 }, rules: [{ when: 'hours', reply: HOURS }, { when: 'number', reply: CALL_BACK }, { when: 'services', reply: LONG }, { reply: 'Sure.' }] },
  });
  polly = await startPollyEmulator({ timing: { wordsPerMinute: 300, wordGapMs: 80 } });
  transcribe = await startTranscribeEmulator({ endOfSpeechMs: 300, secretAccessKey: credentials.secretAccessKey });
  pollyClient = new PollyClient({ endpoint: polly.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  transcribeClient = emulatorTranscribeClient(transcribe.url, credentials);
});

afterAll(async () => {
  pollyClient.destroy();
  transcribeClient.destroy();
  await Promise.all([polly.close(), transcribe.close()]);
  await node.close();
});

/** A µ-law phone line at real time: the caller's queued speech, else silence, one 20 ms frame every 20 ms; outbound frames are played out behind a mark. */
function phoneLine(call: () => AudioCall) {
  const outbound: { frame: Uint8Array; at: number }[] = [];
  let inbound: Uint8Array[] = [];
  let cleared = 0;
  let playoutMs = 0;
  const transport: PlaybackTransport = {
    sendFrame: (frame) => {
      outbound.push({ frame, at: performance.now() });
      playoutMs = Math.max(playoutMs, performance.now()) + 20;
    },
    mark: () => new Promise((resolve) => setTimeout(resolve, Math.max(0, playoutMs - performance.now()))),
    clear: () => {
      cleared += 1;
      playoutMs = performance.now();
    },
  };
  const timer = setInterval(() => call().receiveAudio(inbound.shift() ?? new Uint8Array(160).fill(0xff)), 20);
  return {
    transport,
    outbound,
    cleared: () => cleared,
    say(text: string) {
      const audio = mulawEncode(synthesizeSpeechCode(text, 8_000));
      inbound = Array.from({ length: Math.ceil(audio.length / 160) }, (_, i) => audio.slice(i * 160, i * 160 + 160));
    },
    /** Frames in the queue still to be spoken. */
    speaking: () => inbound.length > 0,
    stop: () => clearInterval(timer),
  };
}

function recordingPort(calls: CallsPort, delivered: CallerEvent[]): CallsPort {
  return {
    open: (request, peer, principal) => calls.open(request, peer, principal),
    deliver: (callId, event) => {
      delivered.push(event);
      calls.deliver(callId, event);
    },
    detach: (callId, peer, reason) => calls.detach(callId, peer, reason),
  };
}

function heardWords(frames: Uint8Array[]): string[] {
  const decoder = new SpeechCodeDecoder({ sampleRateHz: 8_000, endOfSpeechMs: 300 });
  const events = [...decoder.push(mulawDecode(Buffer.concat(frames))), ...decoder.push(new Int16Array(8_000))];
  return events.flatMap((event) => (event.type === 'word' ? [event.word.text] : []));
}

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A sample of a call's metrics: `name` is the sample's name (`…_count`, `…_sum` for a histogram). */
async function sample(metrics: RuntimeMetrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const family = await metrics.registry.getSingleMetric(name.replace(/_(count|sum)$/, ''))!.get();
  const values = (family.values as { value: number; labels: Record<string, unknown>; metricName?: string }[]).filter(
    (value) => (value.metricName ?? family.name) === name && Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted),
  );
  return values.reduce((sum, value) => sum + value.value, 0);
}

async function startCall(options: Partial<AudioCallOptions> = {}) {
  const delivered: CallerEvent[] = [];
  const metrics = createMetrics();
  const logged: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logged.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  let call: AudioCall | undefined;
  const line = phoneLine(() => call!);
  call = new AudioCall({
    calls: recordingPort(node.node.calls, delivered),
    lineFormat: { encoding: 'mulaw', sampleRateHz: 8_000 },
    transport: line.transport,
    transcribe: transcribeClient,
    languageCode: 'en-US',
    textToSpeech: new TextToSpeech({ client: pollyClient, voiceId: 'Joanna', engine: 'neural', format: { encoding: 'mulaw', sampleRateHz: 8_000 } }),
    log: createLogger({ level: 'warn', destination }),
    metrics: metrics.speech,
    ...options,
  });
  const opened = await call.open({ type: 'start' });
  expect(opened.ok).toBe(true);
  return { call, line, delivered, metrics, logged };
}

describe('an audio call on a real node', () => {
  it('hears the caller, answers in audio, and reports played after the last frame was played out', async () => {
    const observed: CallObservation[] = [];
    const { call, line, delivered, metrics } = await startCall({ observe: (_callId, observation) => observed.push(observation) });
    line.say('What are your hours?');
    await until(() => delivered.some((event) => event.type === 'caller.played'));
    const played = delivered.filter((event) => event.type === 'caller.played');
    expect(delivered.find((event) => event.type === 'caller.transcript' && event.final)).toMatchObject({ text: 'What are your hours?' });
    await until(() => delivered.filter((event) => event.type === 'caller.played').length >= 2);
    expect(heardWords(line.outbound.map((sent) => sent.frame))).toEqual(wordsOf(textForSpeech(HOURS).text));
    expect(played.length).toBeGreaterThan(0);
    line.stop();
    await call.hangup();
    // Every frame each way is counted; one Polly request per chunk, each timed to its first byte.
    expect(await sample(metrics, 'aybiza_audio_frames_total', { direction: 'in' })).toBe(call.counters.framesIn);
    expect(await sample(metrics, 'aybiza_audio_frames_total', { direction: 'out' })).toBe(line.outbound.length);
    expect(await sample(metrics, 'aybiza_tts_first_byte_seconds_count')).toBe(textForSpeech(HOURS).text.split(/(?<=\.) /).length);
    // One utterance answered: its final came before the agent's first frame, so mouth to ear is the longer wait.
    expect(await sample(metrics, 'aybiza_stt_final_latency_seconds_count')).toBe(1);
    expect(await sample(metrics, 'aybiza_mouth_to_ear_seconds_count')).toBe(1);
    expect(await sample(metrics, 'aybiza_mouth_to_ear_seconds_sum')).toBeGreaterThan(await sample(metrics, 'aybiza_stt_final_latency_seconds_sum'));
    expect(await sample(metrics, 'aybiza_speech_barge_ins_total')).toBe(0);
    // The same times go to the trace: one transcription, one synthesis per chunk, each in order.
    const transcribed = observed.filter((observation) => observation.type === 'speech.transcribed');
    const synthesized = observed.filter((observation) => observation.type === 'speech.synthesized');
    expect(transcribed.map((observation) => observation.chars)).toEqual(['What are your hours?'.length]);
    expect(synthesized.length).toBe(textForSpeech(HOURS).text.split(/(?<=\.) /).length);
    for (const observation of transcribed) expect(observation.startedAt).toBeLessThanOrEqual(observation.endedAt);
    for (const observation of synthesized) expect([observation.startedAt <= observation.firstByteAt, observation.firstByteAt <= observation.endedAt]).toEqual([true, true]);
  });

  it('speaks a phone number and an extension to Polly as SSML say-as, heard as the digits', async () => {
    const { call, line, delivered } = await startCall();
    line.say('What is your number?');
    await until(() => delivered.some((event) => event.type === 'caller.played'));
    const ssml = polly.syntheses().filter((synthesis) => synthesis.textType === 'ssml');
    expect(ssml.at(-1)?.text).toBe('Call us back at 555-0100 and ask for extension 204.');
    await until(() => heardWords(line.outbound.map((sent) => sent.frame)).at(-1) === '204.');
    expect(heardWords(line.outbound.map((sent) => sent.frame))).toEqual(wordsOf('Call us back at 555-0100 and ask for extension 204.'));
    line.stop();
    await call.hangup();
  });

  it('stops the agent at the caller\'s first voiced frames when they barge in, and ignores a backchannel', async () => {
    const { call, line, delivered, metrics } = await startCall();
    line.say('Tell me about your services');
    await until(() => line.outbound.length > 50);
    // "mhm" while the agent speaks: a pause at most, then the agent goes on; nothing reaches the call.
    const deliveredBeforeMhm = delivered.length;
    line.say('mhm');
    await until(() => call.counters.backchannelsIgnored === 1);
    expect(delivered.slice(deliveredBeforeMhm).filter((event) => event.type !== 'caller.played')).toEqual([]);
    const beforeBargeIn = line.outbound.length;
    await until(() => line.outbound.length > beforeBargeIn + 10);
    // A real interruption: outbound audio stops as soon as voice activity starts, before any transcript.
    const sentBeforeVoice = line.outbound.length;
    line.say('wait, I have a question');
    await until(() => call.counters.bargeIns === 1);
    const sentAtBargeIn = line.outbound.length;
    // Voice activity pauses playback after three voiced frames; at most the 100 ms lead (5 frames) went out meanwhile.
    expect(sentAtBargeIn - sentBeforeVoice).toBeLessThanOrEqual(5);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(line.outbound.length).toBe(sentAtBargeIn);
    expect(line.cleared()).toBeGreaterThan(0);
    expect(delivered.slice(deliveredBeforeMhm).some((event) => event.type === 'caller.speechStarted')).toBe(true);
    line.stop();
    await call.hangup();
    expect(await sample(metrics, 'aybiza_speech_backchannels_ignored_total')).toBe(1);
    expect(await sample(metrics, 'aybiza_speech_barge_ins_total', { kind: 'transcript' })).toBe(1);
    expect(await sample(metrics, 'aybiza_speech_barge_ins_total', { kind: 'voice' })).toBe(0);
  });

  it('barges in by voice when the caller keeps talking past the hold without a transcript', async () => {
    // A hold shorter than the caller's first word: the agent is stopped before any transcript.
    const { call, line, delivered, metrics } = await startCall({ holdForTranscriptMs: 40 });
    line.say('Tell me about your services');
    await until(() => line.outbound.length > 50);
    const deliveredBefore = delivered.length;
    line.say('wait, I have a question');
    await until(() => call.counters.bargeIns === 1);
    expect(delivered.slice(deliveredBefore).filter((event) => event.type !== 'caller.played').map((event) => event.type)).toEqual(['caller.speechStarted']);
    expect(line.cleared()).toBeGreaterThan(0);
    // Its words then reach the call as an ordinary turn.
    await until(() => delivered.some((event) => event.type === 'caller.transcript' && event.final && event.text === 'wait, I have a question'));
    line.stop();
    await call.hangup();
    expect(await sample(metrics, 'aybiza_speech_barge_ins_total', { kind: 'voice' })).toBe(1);
    expect(await sample(metrics, 'aybiza_speech_barge_ins_total', { kind: 'transcript' })).toBe(0);
  });

  it('asks the caller to repeat when a Transcribe stream fails mid-utterance, and hears them on the new stream', async () => {
    const { call, line, delivered, metrics, logged } = await startCall();
    line.say('I would like to know your opening hours please');
    await until(() => delivered.some((event) => event.type === 'caller.transcript' && !event.final));
    transcribe.failOpenStreams('InternalFailureException');
    await until(() => call.counters.repeatPrompts === 1);
    // The prompt plays at real time; the line has heard it once its last word has gone out.
    await until(() => heardWords(line.outbound.map((sent) => sent.frame)).at(-1) === wordsOf(DEFAULT_REPEAT_PROMPT).at(-1));
    expect(heardWords(line.outbound.map((sent) => sent.frame))).toEqual(wordsOf(DEFAULT_REPEAT_PROMPT));
    // The caller finishes the sentence the failure cut, then pauses and answers the prompt.
    await until(() => !line.speaking());
    await new Promise((resolve) => setTimeout(resolve, 600));
    const finalsBefore = delivered.filter((event) => event.type === 'caller.transcript' && event.final).length;
    line.say('What are your hours?');
    await until(() => delivered.filter((event) => event.type === 'caller.transcript' && event.final).length > finalsBefore);
    expect(delivered.filter((event) => event.type === 'caller.transcript' && event.final).at(-1)).toMatchObject({ text: 'What are your hours?' });
    expect(call.counters.sttStreamErrors).toBe(1);
    line.stop();
    await call.hangup();
    expect(await sample(metrics, 'aybiza_stt_stream_errors_total', { words: 'lost' })).toBe(1);
    expect(await sample(metrics, 'aybiza_stt_stream_errors_total', { words: 'none' })).toBe(0);
    expect(logged).toContainEqual(expect.objectContaining({ level: 'warn', event: 'speech.stt_stream_failed', callId: expect.any(String), lostWords: true, retryInMs: 0, msg: 'speech-to-text stream failed; a new one opens after retryInMs' }));
  });

  it('skips a chunk Polly fails twice, still reports it played, and speaks the next one', async () => {
    const { call, line, delivered, metrics, logged } = await startCall();
    polly.failNext('ServiceFailureException', 2);
    line.say('What are your hours?');
    await until(() => delivered.filter((event) => event.type === 'caller.played').length >= 2);
    expect(call.counters.ttsFailures).toBe(1);
    const [, second] = textForSpeech(HOURS).text.split(/(?<=\.) /);
    await until(() => heardWords(line.outbound.map((sent) => sent.frame)).at(-1) === wordsOf(second!).at(-1));
    expect(heardWords(line.outbound.map((sent) => sent.frame))).toEqual(wordsOf(second!));
    line.stop();
    await call.hangup();
    expect(await sample(metrics, 'aybiza_tts_failures_total', { outcome: 'skipped' })).toBe(1);
    expect(await sample(metrics, 'aybiza_tts_failures_total', { outcome: 'retried' })).toBe(0);
    // The skipped chunk's text is in the log, with the call it was skipped on.
    const [first] = HOURS.split(/(?<=\.) /);
    expect(logged).toContainEqual(expect.objectContaining({ level: 'warn', event: 'speech.tts_chunk_skipped', callId: expect.any(String), text: first, msg: 'text-to-speech failed twice; chunk skipped' }));
  });

  it('retries a chunk Polly throttles once, and speaks every word of it', async () => {
    const { call, line, delivered, metrics } = await startCall();
    polly.failNext('ThrottlingException', 1);
    line.say('What are your hours?');
    await until(() => delivered.filter((event) => event.type === 'caller.played').length >= 2);
    await until(() => heardWords(line.outbound.map((sent) => sent.frame)).at(-1) === wordsOf(textForSpeech(HOURS).text).at(-1));
    expect(heardWords(line.outbound.map((sent) => sent.frame))).toEqual(wordsOf(textForSpeech(HOURS).text));
    line.stop();
    await call.hangup();
    expect(call.counters.ttsFailures).toBe(0);
    expect(await sample(metrics, 'aybiza_tts_failures_total', { outcome: 'retried' })).toBe(1);
    expect(await sample(metrics, 'aybiza_tts_failures_total', { outcome: 'skipped' })).toBe(0);
  });
});
