import { HIGH_TONES_HZ, LOW_TONES_HZ, wordOfSymbols } from './alphabet.js';

export interface DecodedWord {
  text: string;
  startMs: number;
  endMs: number;
}

export type SpeechCodeEvent =
  | { type: 'word'; word: DecodedWord }
  /** Silence has lasted `endOfSpeechMs` after at least one word. */
  | { type: 'endOfSpeech'; atMs: number };

export interface SpeechCodeDecoderOptions {
  sampleRateHz: number;
  /** Silence after a word before the utterance counts as finished (a speech-to-text service's endpointing). */
  endOfSpeechMs: number;
}

const WINDOW_MS = 20;
const HOP_MS = 10;
/** A word ends after this much silence; symbols inside a word follow each other without a gap. */
const WORD_END_MS = 60;
/** Windows quieter than this RMS are silence (−44 dBFS, far under the code's −9 dBFS). */
const SILENCE_RMS = 200;
/** Each group's strongest tone must beat its runner-up by this power ratio (9 dB). */
const DOMINANCE = 8;
/** The two tones must carry at least this share of the window's power, which speech and noise do not. */
const TONE_SHARE = 0.5;
/** Windows in a row that must agree before a symbol counts. */
const MIN_RUN = 2;

type WindowClass = { kind: 'silence' } | { kind: 'other' } | { kind: 'symbol'; symbol: number };

/**
 * Incremental decoder of the emulated speech code: samples go in however they were framed, words
 * come out as soon as the silence after them is long enough, then `endOfSpeech`. Analysis runs on
 * Hann-windowed 20 ms windows every 10 ms with one Goertzel filter per tone.
 */
export class SpeechCodeDecoder {
  private readonly windowSamples: number;
  private readonly hopSamples: number;
  private readonly hann: Float64Array;
  /** The window being classified, Hann-weighted once for all sixteen filters. */
  private readonly windowed: Float64Array;
  /** Each tone's power in the window, for the group being filtered. */
  private readonly powers = new Float64Array(LOW_TONES_HZ.length);
  private readonly lowCoefficients: number[];
  private readonly highCoefficients: number[];
  private buffer: Int16Array = new Int16Array(0);
  /** Zeros a window long: what is left over of a run of silence (never written to). */
  private readonly silentTail: Int16Array;
  private consumedSamples = 0;

  private runSymbol: number | undefined;
  private runLength = 0;
  private lastAccepted: number | undefined;
  private symbols: number[] = [];
  private wordStartMs = 0;
  private lastSoundMs = 0;
  private silenceMs = 0;
  private wordsSinceEnd = 0;

  constructor(private readonly options: SpeechCodeDecoderOptions) {
    this.windowSamples = Math.round((options.sampleRateHz * WINDOW_MS) / 1000);
    this.hopSamples = Math.round((options.sampleRateHz * HOP_MS) / 1000);
    this.silentTail = new Int16Array(this.windowSamples);
    this.windowed = new Float64Array(this.windowSamples);
    this.hann = Float64Array.from({ length: this.windowSamples }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / (this.windowSamples - 1)));
    const coefficient = (hz: number) => 2 * Math.cos((2 * Math.PI * hz) / options.sampleRateHz);
    this.lowCoefficients = LOW_TONES_HZ.map(coefficient);
    this.highCoefficients = HIGH_TONES_HZ.map(coefficient);
  }

  push(samples: Int16Array): SpeechCodeEvent[] {
    if (this.symbols.length === 0 && this.wordsSinceEnd === 0 && allZero(this.buffer) && allZero(samples)) return this.skipSilence(samples.length);
    const data = new Int16Array(this.buffer.length + samples.length);
    data.set(this.buffer);
    data.set(samples, this.buffer.length);
    const events: SpeechCodeEvent[] = [];
    let offset = 0;
    for (; offset + this.windowSamples <= data.length; offset += this.hopSamples) {
      const startMs = ((this.consumedSamples + offset) / this.options.sampleRateHz) * 1000;
      this.step(this.classify(data.subarray(offset, offset + this.windowSamples)), startMs, events);
    }
    this.buffer = data.slice(offset);
    this.consumedSamples += offset;
    return events;
  }

  /**
   * Digital silence while no word is open and no end of speech is owed: every window would be
   * `silence` and emit nothing, so only the counters move, as `step` would move them. A phone
   * line's quiet between answers is most of what a caller hears (the emulated Twilio decoded it
   * window by window: 15 % of the load process's CPU, with the tone filters, at 200 calls).
   */
  private skipSilence(count: number): SpeechCodeEvent[] {
    const length = this.buffer.length + count;
    const windows = length < this.windowSamples ? 0 : Math.floor((length - this.windowSamples) / this.hopSamples) + 1;
    if (windows > 0) {
      this.runSymbol = undefined;
      this.runLength = 0;
      this.silenceMs += windows * HOP_MS;
    }
    const offset = windows * this.hopSamples;
    this.buffer = this.silentTail.subarray(0, length - offset);
    this.consumedSamples += offset;
    return [];
  }

  private step(window: WindowClass, startMs: number, events: SpeechCodeEvent[]): void {
    if (window.kind === 'silence') {
      this.runSymbol = undefined;
      this.runLength = 0;
      this.silenceMs += HOP_MS;
      if (this.symbols.length > 0 && this.silenceMs >= WORD_END_MS) this.endWord(events);
      if (this.wordsSinceEnd > 0 && this.silenceMs >= this.options.endOfSpeechMs) {
        this.wordsSinceEnd = 0;
        events.push({ type: 'endOfSpeech', atMs: startMs + WINDOW_MS });
      }
      return;
    }
    this.silenceMs = 0;
    this.lastSoundMs = startMs + WINDOW_MS;
    if (window.kind === 'other') {
      this.runSymbol = undefined;
      this.runLength = 0;
      return;
    }
    this.runLength = window.symbol === this.runSymbol ? this.runLength + 1 : 1;
    this.runSymbol = window.symbol;
    if (this.runLength === MIN_RUN && window.symbol !== this.lastAccepted) {
      if (this.symbols.length === 0) this.wordStartMs = startMs - HOP_MS;
      this.symbols.push(window.symbol);
      this.lastAccepted = window.symbol;
    }
  }

  private endWord(events: SpeechCodeEvent[]): void {
    const text = wordOfSymbols(this.symbols);
    this.symbols = [];
    this.lastAccepted = undefined;
    if (text.length === 0) return;
    this.wordsSinceEnd += 1;
    events.push({ type: 'word', word: { text, startMs: Math.max(0, this.wordStartMs), endMs: this.lastSoundMs } });
  }

  private classify(window: Int16Array): WindowClass {
    let energy = 0;
    for (let n = 0; n < window.length; n += 1) energy += window[n]! * window[n]!;
    const meanSquare = energy / window.length;
    if (Math.sqrt(meanSquare) < SILENCE_RMS) return { kind: 'silence' };
    for (let n = 0; n < window.length; n += 1) this.windowed[n] = window[n]! * this.hann[n]!;
    const low = this.strongest(this.lowCoefficients);
    const high = this.strongest(this.highCoefficients);
    if (low.power < DOMINANCE * low.runnerUp || high.power < DOMINANCE * high.runnerUp) return { kind: 'other' };
    // A Hann-windowed sinusoid of amplitude A gives |X| ≈ A·N/4; its mean square is A²/2.
    const toneMeanSquare = (power: number) => ((4 * Math.sqrt(power)) / window.length) ** 2 / 2;
    if (toneMeanSquare(low.power) + toneMeanSquare(high.power) < TONE_SHARE * meanSquare) return { kind: 'other' };
    return { kind: 'symbol', symbol: low.index * 8 + high.index };
  }

  /**
   * The group's strongest tone and its runner-up. Its eight Goertzel filters run four to a pass over
   * the window (each filter's arithmetic as when run alone, so the same powers), the window Hann-
   * weighted once for all of them: `npm run bench -- speech` went from 701 to 340 µs per second of
   * audio (one filter per pass, weighting in each).
   */
  private strongest(coefficients: readonly number[]): { index: number; power: number; runnerUp: number } {
    const windowed = this.windowed;
    const powers = this.powers;
    for (let i = 0; i < coefficients.length; i += 4) {
      const ca = coefficients[i]!;
      const cb = coefficients[i + 1]!;
      const cc = coefficients[i + 2]!;
      const cd = coefficients[i + 3]!;
      let a1 = 0;
      let a2 = 0;
      let b1 = 0;
      let b2 = 0;
      let c1 = 0;
      let c2 = 0;
      let d1 = 0;
      let d2 = 0;
      for (let n = 0; n < windowed.length; n += 1) {
        const x = windowed[n]!;
        const a0 = x + ca * a1 - a2;
        a2 = a1;
        a1 = a0;
        const b0 = x + cb * b1 - b2;
        b2 = b1;
        b1 = b0;
        const c0 = x + cc * c1 - c2;
        c2 = c1;
        c1 = c0;
        const d0 = x + cd * d1 - d2;
        d2 = d1;
        d1 = d0;
      }
      powers[i] = a1 * a1 + a2 * a2 - ca * a1 * a2;
      powers[i + 1] = b1 * b1 + b2 * b2 - cb * b1 * b2;
      powers[i + 2] = c1 * c1 + c2 * c2 - cc * c1 * c2;
      powers[i + 3] = d1 * d1 + d2 * d2 - cd * d1 * d2;
    }
    let index = 0;
    let power = -1;
    let runnerUp = 0;
    for (let i = 0; i < coefficients.length; i += 1) {
      const p = powers[i]!;
      if (p > power) {
        runnerUp = Math.max(runnerUp, power);
        power = p;
        index = i;
      } else if (p > runnerUp) {
        runnerUp = p;
      }
    }
    return { index, power, runnerUp };
  }
}

function allZero(samples: Int16Array): boolean {
  for (let n = 0; n < samples.length; n += 1) if (samples[n] !== 0) return false;
  return true;
}
