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
  /**
   * Delays before reopening after consecutive refused opens (the service answered with an error
   * before the stream started, e.g. `LimitExceededException`): `initialMs`, doubling up to `maxMs`.
   * A stream that was running and failed is reopened at once. Default 250 ms to 8,000 ms.
   */
  reopenBackoff?: { initialMs: number; maxMs: number };
  /** Caller audio kept for the next stream while it is not open yet; older audio is dropped. Default 5,000 ms. */
  maxBufferedMs?: number;
  onTranscript(transcript: Transcript): void;
  /**
   * A stream failed; a new one opens after `retryInMs` (0: at once), and audio pushed meanwhile
   * goes to it. `lostWords` is true when a partial had no final yet or buffered audio was dropped:
   * the caller should be asked to repeat.
   */
  onStreamError?(error: unknown, lostWords: boolean, retryInMs: number): void;
}

const DEFAULT_REOPEN_BACKOFF = { initialMs: 250, maxMs: 8_000 };

/**
 * Caller audio (PCM16 frames) → Amazon Transcribe streaming → partial and final transcripts.
 *
 * Keep-alive by silence rather than reopening: a telephone line delivers frames all the time, so
 * the stream only starves when the transport stops (a muted browser, a held call); then a second
 * of silence every `keepAliveMs` costs less than a new stream's set-up, and nothing the caller
 * says can fall between two streams. Reopening is kept for failures: at once after a running
 * stream fails (the caller may be mid-sentence), with doubling back-off while the service refuses
 * new streams, so a node past its concurrent-stream limit is not asked again in a tight loop.
 */
export class SpeechToTextSession {
  private readonly chunkSamples: number;
  private readonly maxBufferedChunks: number;
  /** The AudioEvent being filled: pushed frames are copied in, so a caller may reuse its frame buffer. */
  private chunk: Int16Array;
  private chunkFill = 0;
  private audio: AsyncQueue<AudioStream>;
  private sentMs = 0;
  private partialOpen = false;
  private closed = false;
  private keepAlive: NodeJS.Timeout | undefined;
  /** When the last audio was pushed (`performance.now()`): the keep-alive timer measures the quiet from it. */
  private lastPushAt = 0;
  private readonly current: Promise<void>;
  private opened = 0;
  private refusedInARow = 0;
  private wakeFromBackoff: (() => void) | undefined;

  constructor(private readonly options: SpeechToTextOptions) {
    const chunkMs = options.chunkMs ?? 100;
    this.chunkSamples = (options.sampleRateHz * chunkMs) / 1000;
    this.chunk = new Int16Array(this.chunkSamples);
    this.maxBufferedChunks = Math.max(1, Math.ceil((options.maxBufferedMs ?? 5_000) / chunkMs));
    this.audio = new AsyncQueue<AudioStream>(this.maxBufferedChunks);
    this.current = this.run();
  }

  /** Streams opened so far: 1, plus one per failure. */
  get streamsOpened(): number {
    return this.opened;
  }

  /** One frame of caller audio, PCM16 at the session's rate; copied, so the caller may reuse `frame`. */
  push(frame: Int16Array): void {
    if (this.closed) return;
    for (let at = 0; at < frame.length;) {
      const taken = Math.min(frame.length - at, this.chunkSamples - this.chunkFill);
      this.chunk.set(at === 0 && taken === frame.length ? frame : frame.subarray(at, at + taken), this.chunkFill);
      this.chunkFill += taken;
      at += taken;
      if (this.chunkFill === this.chunkSamples) this.flush();
    }
    this.armKeepAlive();
  }

  /** Sends what is buffered, ends the stream (its last final still arrives) and waits for it. */
  async close(): Promise<void> {
    if (this.closed) return this.current;
    this.flush();
    this.closed = true;
    clearTimeout(this.keepAlive);
    this.audio.end();
    this.wakeFromBackoff?.();
    return this.current;
  }

  private flush(): void {
    if (this.chunkFill === 0) return;
    const chunk = this.chunkFill === this.chunkSamples ? this.chunk : this.chunk.slice(0, this.chunkFill);
    // The event keeps its chunk until the SDK has sent it: the next one fills a new array.
    if (chunk === this.chunk) this.chunk = new Int16Array(this.chunkSamples);
    this.chunkFill = 0;
    this.sentMs += (chunk.length / this.options.sampleRateHz) * 1000;
    this.audio.push({ AudioEvent: { AudioChunk: bytesFromPcm16(chunk) } });
  }

  /**
   * One timer per quiet stretch, not per frame: re-arming it at each 20 ms frame cost a Timeout
   * allocation and two timer-list operations per frame. It fires `keepAliveMs` after it was armed
   * and, if audio came since, waits out the rest of the quiet from the last push.
   */
  private armKeepAlive(): void {
    this.lastPushAt = performance.now();
    if (this.keepAlive) return;
    this.scheduleKeepAlive(this.options.keepAliveMs ?? 5_000);
  }

  private scheduleKeepAlive(delayMs: number): void {
    this.keepAlive = setTimeout(() => {
      this.keepAlive = undefined;
      if (this.closed) return;
      const keepAliveMs = this.options.keepAliveMs ?? 5_000;
      const quietMs = performance.now() - this.lastPushAt;
      if (quietMs < keepAliveMs) return this.scheduleKeepAlive(keepAliveMs - quietMs);
      const silentFrames = Math.ceil(1_000 / FRAME_MS);
      for (let i = 0; i < silentFrames; i += 1) this.push(new Int16Array(this.options.sampleRateHz / (1_000 / FRAME_MS)));
      this.flush();
    }, delayMs);
    this.keepAlive.unref();
  }

  /** One stream after another until the session closes: a failed stream is followed by a new one. */
  private async run(): Promise<void> {
    while (!this.closed) {
      const audio = this.audio;
      const failure = await this.stream(audio);
      if (!failure || this.closed) return;
      const lostWords = this.partialOpen || audio.dropped > 0;
      this.partialOpen = false;
      // Audio the failed stream never read goes to the next one: a refused open loses no words.
      this.audio = new AsyncQueue<AudioStream>(this.maxBufferedChunks);
      for (const chunk of audio.takeUnread()) this.audio.push(chunk);
      const retryInMs = failure.started ? 0 : this.backoffMs();
      this.options.onStreamError?.(failure.error, lostWords, retryInMs);
      if (retryInMs > 0) await this.sleep(retryInMs);
    }
  }

  /** One StartStreamTranscription; resolves with the failure, if any, and whether the stream had started. */
  private async stream(audio: AsyncQueue<AudioStream>): Promise<{ error: unknown; started: boolean } | undefined> {
    this.opened += 1;
    const streamStartMs = this.sentMs;
    const { client, languageCode, sampleRateHz, vocabularyName, stability } = this.options;
    const command = new StartStreamTranscriptionCommand({
      LanguageCode: languageCode as never,
      MediaEncoding: 'pcm',
      MediaSampleRateHertz: sampleRateHz,
      AudioStream: audio,
      ...(vocabularyName ? { VocabularyName: vocabularyName } : {}),
      ...(stability ? { EnablePartialResultsStabilization: true, PartialResultsStability: stability } : {}),
    });
    let started = false;
    try {
      const output = await client.send(command);
      started = true;
      this.refusedInARow = 0;
      for await (const event of output.TranscriptResultStream ?? []) {
        for (const result of event.TranscriptEvent?.Transcript?.Results ?? []) this.deliver(result, streamStartMs);
      }
      return undefined;
    } catch (error) {
      return { error, started };
    }
  }

  private backoffMs(): number {
    const { initialMs, maxMs } = this.options.reopenBackoff ?? DEFAULT_REOPEN_BACKOFF;
    this.refusedInARow += 1;
    return Math.min(maxMs, initialMs * 2 ** (this.refusedInARow - 1));
  }

  /** Waits out a back-off; `close` cuts it short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wakeFromBackoff?.(), ms);
      this.wakeFromBackoff = () => {
        clearTimeout(timer);
        this.wakeFromBackoff = undefined;
        resolve();
      };
    });
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
