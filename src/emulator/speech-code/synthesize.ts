import { symbolsOfWord, tonesOf } from './alphabet.js';

export interface SpeechCodeTiming {
  /** Speaking rate for a five-letter word and its pause; longer words take longer, as spoken ones do. */
  wordsPerMinute: number;
  /** Silence between words; the decoder ends a word after 60 ms of silence. */
  wordGapMs: number;
  /** Extra silence after `.`, `?` and `!`, as a speaker breathes between sentences. */
  sentenceGapMs: number;
}

export const DEFAULT_SPEECH_CODE_TIMING: SpeechCodeTiming = { wordsPerMinute: 150, wordGapMs: 150, sentenceGapMs: 250 };

/** Shortest symbol the decoder's 20 ms windows at a 10 ms hop still see twice whole. */
const MIN_SYMBOL_MS = 40;
const AVERAGE_WORD_SYMBOLS = 5;
/** Each tone at −12 dBFS: loud enough for any voice activity detector, far from clipping when the two add. */
const TONE_AMPLITUDE = 8_000;
const RAMP_MS = 3;

export function symbolMs(timing: SpeechCodeTiming): number {
  const perWordMs = 60_000 / timing.wordsPerMinute;
  return Math.max(MIN_SYMBOL_MS, (perWordMs - timing.wordGapMs) / AVERAGE_WORD_SYMBOLS);
}

export const wordsOf = (text: string): string[] => text.split(/\s+/).filter((word) => symbolsOfWord(word).length > 0);

/**
 * Text as emulated speech: PCM16 at `sampleRateHz`, each word a run of dual-tone symbols, words
 * apart by silence, the whole followed by one word gap (so a last word ends inside the audio).
 */
export function synthesizeSpeechCode(text: string, sampleRateHz: number, timing: SpeechCodeTiming = DEFAULT_SPEECH_CODE_TIMING): Int16Array {
  const symbolSamples = Math.round((symbolMs(timing) * sampleRateHz) / 1000);
  const samplesOfMs = (ms: number) => Math.round((ms * sampleRateHz) / 1000);
  const words = wordsOf(text);
  const pieces: Int16Array[] = [];
  for (const word of words) {
    const symbols = symbolsOfWord(word);
    const voiced = new Int16Array(symbols.length * symbolSamples);
    symbols.forEach((symbol, index) => writeSymbol(voiced, index * symbolSamples, symbolSamples, tonesOf(symbol), sampleRateHz));
    fadeEnds(voiced, samplesOfMs(RAMP_MS));
    pieces.push(voiced, new Int16Array(samplesOfMs(timing.wordGapMs + (/[.?!]$/.test(word) ? timing.sentenceGapMs : 0))));
  }
  const out = new Int16Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

function writeSymbol(out: Int16Array, start: number, length: number, [low, high]: [number, number], rate: number): void {
  for (let n = 0; n < length; n += 1) {
    const t = (start + n) / rate;
    out[start + n] = Math.round(TONE_AMPLITUDE * (Math.sin(2 * Math.PI * low * t) + Math.sin(2 * Math.PI * high * t)));
  }
}

/** Raised-cosine onset and release, so a word starts and stops without a click. */
function fadeEnds(out: Int16Array, ramp: number): void {
  for (let n = 0; n < ramp && n < out.length; n += 1) {
    const gain = 0.5 - 0.5 * Math.cos((Math.PI * n) / ramp);
    out[n] = Math.round(out[n]! * gain);
    out[out.length - 1 - n] = Math.round(out[out.length - 1 - n]! * gain);
  }
}
