import { SynthesizeSpeechCommand, type Engine, type PollyClient, type VoiceId } from '@aws-sdk/client-polly';
import { LRUCache } from 'lru-cache';
import type { AudioFormat } from './audio-format.js';

export interface TextToSpeechOptions {
  client: PollyClient;
  voiceId: string;
  engine: 'standard' | 'neural' | 'long-form' | 'generative';
  /** `pcm16` at 8 or 16 kHz, or `mulaw` at 8 kHz (Polly's telephony format, no transcoding for a phone line). */
  format: AudioFormat;
  /** Phrases kept whole after their first synthesis (fillers, the canned answer, goodbyes). Default 64. */
  cachePhrases?: number;
  /** Only texts up to this length are cached: phrases every call says are short. Default 120 characters. */
  cacheMaxChars?: number;
  /**
   * A request Polly has not answered in this long is abandoned (and retried once), so a hung
   * request cannot hold the call in silence. Default 3,000 ms; Polly's first byte takes ~100–300 ms.
   */
  responseTimeoutMs?: number;
}

export interface Synthesis {
  /** Audio from the first bytes of Polly's response; a cached phrase yields one piece. */
  audio: AsyncIterable<Uint8Array>;
  fromCache: boolean;
  /** The first request failed and the retry answered. */
  retried: boolean;
}

/** What speaks a chunk: Polly (`TextToSpeech`), or a local voice for demos. */
export interface SpeechSynthesizer {
  /** Whether `synthesize` takes SSML; a synthesizer that does not is given the plain reading. */
  readonly speaksSsml: boolean;
  synthesize(text: string, textType?: 'text' | 'ssml'): Promise<Synthesis>;
}

/** Characters Polly refuses or reads aloud badly in plain text: control characters, and angle brackets it would take for markup. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSPEAKABLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f<>]/g;

/** Polly's `format` names. */
const OUTPUT_FORMAT = { pcm16: 'pcm', mulaw: 'mulaw', alaw: 'alaw' } as const;

/**
 * Text → Amazon Polly `SynthesizeSpeech` → audio, streamed from the first response bytes. A
 * request that fails after the client's own retries (`maxAttempts`; 1 keeps a chunk from waiting
 * on backoff) is made once more; a second failure throws, and the caller skips the chunk rather
 * than leave the caller in silence.
 */
export class TextToSpeech implements SpeechSynthesizer {
  readonly speaksSsml = true;
  private readonly cache: LRUCache<string, Uint8Array>;

  constructor(private readonly options: TextToSpeechOptions) {
    this.cache = new LRUCache({ max: options.cachePhrases ?? 64 });
  }

  /** Starts synthesis at once. Plain text is cleaned of what Polly refuses; SSML is sent as given. */
  async synthesize(text: string, textType: 'text' | 'ssml' = 'text'): Promise<Synthesis> {
    const key = `${textType}:${text}`;
    const cached = this.cache.get(key);
    if (cached) return { audio: once(cached), fromCache: true, retried: false };
    const spoken = textType === 'text' ? text.replace(UNSPEAKABLE, ' ') : text;
    let retried = false;
    const stream = await this.request(spoken, textType).catch(() => {
      retried = true;
      return this.request(spoken, textType);
    });
    const cacheable = text.length <= (this.options.cacheMaxChars ?? 120);
    return { audio: cacheable ? this.keeping(key, stream) : stream, fromCache: false, retried };
  }

  private async request(text: string, textType: 'text' | 'ssml'): Promise<AsyncIterable<Uint8Array>> {
    const { format, voiceId, engine, client } = this.options;
    const timeoutMs = this.options.responseTimeoutMs ?? 3_000;
    // Aborts only until the response arrives: the audio then streams for as long as it needs.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    const command = new SynthesizeSpeechCommand({
      Text: text,
      TextType: textType,
      OutputFormat: OUTPUT_FORMAT[format.encoding],
      SampleRate: String(format.sampleRateHz),
      VoiceId: voiceId as VoiceId,
      Engine: engine as Engine,
    });
    const output = await client.send(command, { abortSignal: abort.signal }).catch((error: unknown) => {
      throw abort.signal.aborted ? new Error(`Polly sent no response within ${timeoutMs} ms`, { cause: error }) : error;
    }).finally(() => clearTimeout(timer));
    if (!output.AudioStream) throw new Error('Polly answered without audio');
    return output.AudioStream as AsyncIterable<Uint8Array>;
  }

  /** Passes the stream through and keeps the whole audio once it has ended. */
  private async *keeping(key: string, stream: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    const pieces: Uint8Array[] = [];
    for await (const piece of stream) {
      pieces.push(piece);
      yield piece;
    }
    this.cache.set(key, Buffer.concat(pieces));
  }
}

async function* once(audio: Uint8Array): AsyncIterable<Uint8Array> {
  yield audio;
}
