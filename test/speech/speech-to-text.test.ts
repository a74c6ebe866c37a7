import type { TranscribeStreamingClient } from '@aws-sdk/client-transcribe-streaming';
import { afterEach, describe, expect, it } from 'vitest';
import { synthesizeSpeechCode } from '../../src/emulator/speech-code/synthesize.js';
import { startTranscribeEmulator, type RunningTranscribeEmulator, type TranscribeEmulatorOptions } from '../../src/emulator/transcribe/server.js';
import { SpeechToTextSession, type Transcript } from '../../src/speech/speech-to-text.js';
import { emulatorTranscribeClient } from './transcribe-client.js';

const credentials = { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator-secret' };
let emulator: RunningTranscribeEmulator | undefined;
let client: TranscribeStreamingClient | undefined;
let session: SpeechToTextSession | undefined;

afterEach(async () => {
  await session?.close();
  client?.destroy();
  await emulator?.close();
});

async function open(emulatorOptions: TranscribeEmulatorOptions, keepAliveMs?: number) {
  emulator = await startTranscribeEmulator({ endOfSpeechMs: 400, secretAccessKey: credentials.secretAccessKey, ...emulatorOptions });
  client = emulatorTranscribeClient(emulator.url, credentials);
  const transcripts: Transcript[] = [];
  const errors: boolean[] = [];
  session = new SpeechToTextSession({
    client,
    languageCode: 'en-US',
    sampleRateHz: 8_000,
    stability: 'high',
    ...(keepAliveMs ? { keepAliveMs } : {}),
    onTranscript: (transcript) => transcripts.push(transcript),
    onStreamError: (_, lostWords) => errors.push(lostWords),
  });
  return { transcripts, errors, session, emulator };
}

/** Pushes speech then `silenceMs` of silence in 20 ms frames, a few frames per event-loop turn (faster than real time). */
async function say(session: SpeechToTextSession, text: string, silenceMs = 600): Promise<void> {
  const pcm = synthesizeSpeechCode(text, 8_000);
  const audio = new Int16Array(pcm.length + silenceMs * 8);
  audio.set(pcm);
  for (let at = 0; at < audio.length; at += 160) {
    session.push(audio.slice(at, at + 160));
    if ((at / 160) % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

const finals = (transcripts: Transcript[]) => transcripts.filter((t) => t.isFinal).map((t) => t.text);

describe('speech-to-text over the real TranscribeStreamingClient', () => {
  it('turns caller audio into partials word by word and a final per utterance', async () => {
    const { transcripts, session } = await open({});
    await say(session, 'I need to reschedule');
    await say(session, 'Tuesday works better');
    await until(() => finals(transcripts).length === 2);
    expect(finals(transcripts)).toEqual(['I need to reschedule', 'Tuesday works better']);
    expect(transcripts.filter((t) => !t.isFinal).map((t) => t.text).slice(0, 4)).toEqual(['I', 'I need', 'I need to', 'I need to reschedule']);
    const [first, second] = transcripts.filter((t) => t.isFinal);
    expect(second!.startMs).toBeGreaterThan(first!.endMs);
  });

  it('keeps one stream alive across a long agent turn by sending silence, and hears the next words', async () => {
    const { transcripts, session, emulator } = await open({ silenceTimeoutMs: 300 }, 100);
    await say(session, 'hello there');
    await until(() => finals(transcripts).length === 1);
    await new Promise((resolve) => setTimeout(resolve, 900));
    await say(session, 'are you still there');
    await until(() => finals(transcripts).length === 2);
    expect(finals(transcripts)).toEqual(['hello there', 'are you still there']);
    expect(session.streamsOpened).toBe(1);
    expect(emulator.streams()[0]!.outcome).toBe('open');
  });

  it('opens a new stream when one fails mid-call, says whether words were lost, and hears the next utterance', async () => {
    const { transcripts, errors, session, emulator } = await open({});
    const pcm = synthesizeSpeechCode('my name is', 8_000);
    for (let at = 0; at < pcm.length; at += 160) session.push(pcm.slice(at, at + 160));
    await until(() => transcripts.some((t) => !t.isFinal));
    emulator.failOpenStreams('InternalFailureException');
    await until(() => errors.length === 1);
    expect(errors).toEqual([true]);
    await say(session, 'Alex Kim');
    await until(() => finals(transcripts).length === 1);
    expect(finals(transcripts)).toEqual(['Alex Kim']);
    expect(session.streamsOpened).toBe(2);
  });

  it('backs off while the service refuses new streams, keeps the audio pushed meanwhile, and starts again at once after a running stream fails', async () => {
    emulator = await startTranscribeEmulator({ endOfSpeechMs: 400, maxStreams: 1, secretAccessKey: credentials.secretAccessKey });
    client = emulatorTranscribeClient(emulator.url, credentials);
    const other = new SpeechToTextSession({ client, languageCode: 'en-US', sampleRateHz: 8_000, onTranscript: () => undefined });
    other.push(new Int16Array(800));
    await until(() => emulator!.streams().length === 1);
    const transcripts: Transcript[] = [];
    const failures: Array<{ type: string; lostWords: boolean; retryInMs: number }> = [];
    session = new SpeechToTextSession({
      client,
      languageCode: 'en-US',
      sampleRateHz: 8_000,
      reopenBackoff: { initialMs: 10, maxMs: 40 },
      onTranscript: (transcript) => transcripts.push(transcript),
      onStreamError: (error, lostWords, retryInMs) => failures.push({ type: (error as Error).name, lostWords, retryInMs }),
    });
    await until(() => failures.length === 5);
    // Spoken while the service still refuses: it reaches the stream that opens once the other one ends.
    await say(session, 'still waiting');
    await other.close();
    await until(() => finals(transcripts).length === 1);
    expect(finals(transcripts)).toEqual(['still waiting']);
    expect(failures.slice(0, 5)).toEqual([10, 20, 40, 40, 40].map((retryInMs) => ({ type: 'LimitExceededException', lostWords: false, retryInMs })));
    const refused = failures.length;
    emulator.failOpenStreams('InternalFailureException');
    await until(() => failures.length === refused + 1);
    expect(failures.at(-1)).toEqual({ type: 'InternalFailureException', lostWords: false, retryInMs: 0 });
    expect(session.streamsOpened).toBe(refused + 2);
  });
});
