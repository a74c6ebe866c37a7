import {
  StartStreamTranscriptionCommand,
  type AudioStream,
  type PartialResultsStability,
  type Result,
  type TranscribeStreamingClient,
} from '@aws-sdk/client-transcribe-streaming';
import { AsyncQueue } from './async-queue.js';
import { FRAME_MS, type SampleRateHz } from './audio-format.js';
import { bytesFromPcm16 } from './pcm.js';

export interface Transcript {
  text: string;
  isFinal: boolean;
  /** Start and end of the words in the caller's audio since the session opened. */
  startMs: number;
  endMs: number;
}

export interface SpeechToTextOptions {
  client: TranscribeStreamingClient;
  languageCode: string;
  sampleRateHz: SampleRateHz;
  vocabularyName?: string;
  /** Partial-result stabilization; Transcribe then marks the words of a partial that will not change. */
  stability?: PartialResultsStability;
  /** Audio per AudioEvent; the service advises 50–200 ms. Default 100. */
  chunkMs?: number;
  /**
   * Without caller audio for this long, the session sends this much silence itself, so the stream
   * stays under Transcribe's ~15 s no-audio timeout across a long agent turn. Default 5,000.
   */
  keepAliveMs?: number;
  onTranscript(transcript: Transcript): void;
  /**
   * A stream failed and a new one was opened at once (audio pushed meanwhile goes to it).
   * `lostWords` is true when a partial had no final yet: the caller should be asked to repeat.
   */
  onStreamError?(error: unknown, lostWords: boolean): void;
}

/**
 * Caller audio (PCM16 frames) → Amazon Transcribe streaming → partial and final transcripts.
 *
 * Keep-alive by silence rather than reopening: a telephone line delivers frames all the time, so
 * the stream only starves when the transport stops (a muted browser, a held call); then a second
 * of silence every `keepAliveMs` costs less than a new stream's set-up, and nothing the caller
 * says can fall between two streams. Reopening is kept for failures.
 */
export class SpeechToTextSession {
  private readonly chunkSamples: number;
  private pending: Int16Array[] = [];
  private pendingSamples = 0;
  private audio = new AsyncQueue<AudioStream>();
  private sentMs = 0;
  private streamStartMs = 0;
  private partialOpen = false;
  private closed = false;
  private keepAlive: NodeJS.Timeout | undefined;
  private current: Promise<void> = Promise.resolve();
  private opened = 0;

  constructor(private readonly options: SpeechToTextOptions) {
    this.chunkSamples = (options.sampleRateHz * (options.chunkMs ?? 100)) / 1000;
    this.open();
  }

  /** Streams opened so far: 1, plus one per failure. */
  get streamsOpened(): number {
    return this.opened;
  }

  /** One frame of caller audio, PCM16 at the session's rate. */
  push(frame: Int16Array): void {
    if (this.closed) return;
    this.pending.push(frame);
    this.pendingSamples += frame.length;
    if (this.pendingSamples >= this.chunkSamples) this.flush();
    this.armKeepAlive();
  }

  /** Sends what is buffered, ends the stream (its last final still arrives) and waits for it. */
  async close(): Promise<void> {
    if (this.closed) return this.current;
    this.flush();
    this.closed = true;
    clearTimeout(this.keepAlive);
    this.audio.end();
    return this.current;
  }

  private flush(): void {
    if (this.pendingSamples === 0) return;
    const chunk = new Int16Array(this.pendingSamples);
    let at = 0;
    for (const frame of this.pending) {
      chunk.set(frame, at);
      at += frame.length;
    }
    this.pending = [];
    this.pendingSamples = 0;
    this.sentMs += (chunk.length / this.options.sampleRateHz) * 1000;
    this.audio.push({ AudioEvent: { AudioChunk: bytesFromPcm16(chunk) } });
  }

  private armKeepAlive(): void {
    clearTimeout(this.keepAlive);
    const keepAliveMs = this.options.keepAliveMs ?? 5_000;
    this.keepAlive = setTimeout(() => {
      const silentFrames = Math.ceil(1_000 / FRAME_MS);
      for (let i = 0; i < silentFrames; i += 1) this.push(new Int16Array(this.options.sampleRateHz / (1_000 / FRAME_MS)));
      this.flush();
    }, keepAliveMs);
    this.keepAlive.unref();
  }

  private open(): void {
    this.opened += 1;
    const audio = this.audio;
    this.streamStartMs = this.sentMs;
    const streamStartMs = this.streamStartMs;
    const { client, languageCode, sampleRateHz, vocabularyName, stability } = this.options;
    const command = new StartStreamTranscriptionCommand({
      LanguageCode: languageCode as never,
      MediaEncoding: 'pcm',
      MediaSampleRateHertz: sampleRateHz,
      AudioStream: audio,
      ...(vocabularyName ? { VocabularyName: vocabularyName } : {}),
      ...(stability ? { EnablePartialResultsStabilization: true, PartialResultsStability: stability } : {}),
    });
    this.current = (async () => {
      try {
        const output = await client.send(command);
        for await (const event of output.TranscriptResultStream ?? []) {
          for (const result of event.TranscriptEvent?.Transcript?.Results ?? []) this.deliver(result, streamStartMs);
        }
      } catch (error) {
        if (this.closed) return;
        const lostWords = this.partialOpen;
        this.partialOpen = false;
        audio.end();
        this.audio = new AsyncQueue<AudioStream>();
        this.options.onStreamError?.(error, lostWords);
        this.open();
        await this.current;
      }
    })();
  }

  private deliver(result: Result, streamStartMs: number): void {
    const text = result.Alternatives?.[0]?.Transcript?.trim() ?? '';
    if (text.length === 0) return;
    const isFinal = result.IsPartial !== true;
    this.partialOpen = !isFinal;
    this.options.onTranscript({
      text,
      isFinal,
      startMs: streamStartMs + (result.StartTime ?? 0) * 1000,
      endMs: streamStartMs + (result.EndTime ?? 0) * 1000,
    });
  }
}
