import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SpeechCodeDecoder, type SpeechCodeEvent } from '../../../src/emulator/speech-code/decoder.js';
import { synthesizeSpeechCode, wordsOf } from '../../../src/emulator/speech-code/synthesize.js';
import { alawDecode, alawEncode, mulawDecode, mulawEncode } from '../../../src/speech/g711.js';
import { Downsampler16To8, Upsampler8To16 } from '../../../src/speech/resample.js';

const SENTENCE = "Hello, I'd like to book a cleaning for Tuesday at 3:30 please. Is Dr. Okafor in? My number is 555-0100.";

function decodeInPieces(pcm: Int16Array, sampleRateHz: number, pieceSizes: () => number): SpeechCodeEvent[] {
  const decoder = new SpeechCodeDecoder({ sampleRateHz, endOfSpeechMs: 500 });
  const events: SpeechCodeEvent[] = [];
  for (let at = 0; at < pcm.length; ) {
    const size = pieceSizes();
    events.push(...decoder.push(pcm.subarray(at, at + size)));
    at += size;
  }
  events.push(...decoder.push(new Int16Array(sampleRateHz)));
  return events;
}

const wordsIn = (events: SpeechCodeEvent[]) => events.flatMap((event) => (event.type === 'word' ? [event.word.text] : []));
const every20Ms = (rate: number) => () => rate / 50;

describe('emulated speech code', () => {
  it('decodes the words it was given at 8 and 16 kHz, then one end of speech', () => {
    for (const rate of [8_000, 16_000]) {
      const events = decodeInPieces(synthesizeSpeechCode(SENTENCE, rate), rate, every20Ms(rate));
      expect(wordsIn(events)).toEqual(SENTENCE.split(' '));
      expect(events.at(-1)?.type).toBe('endOfSpeech');
      expect(events.filter((event) => event.type === 'endOfSpeech')).toHaveLength(1);
    }
  });

  it('survives µ-law and A-law transcoding', () => {
    const pcm = synthesizeSpeechCode(SENTENCE, 8_000);
    expect(wordsIn(decodeInPieces(mulawDecode(mulawEncode(pcm)), 8_000, every20Ms(8_000)))).toEqual(SENTENCE.split(' '));
    expect(wordsIn(decodeInPieces(alawDecode(alawEncode(pcm)), 8_000, every20Ms(8_000)))).toEqual(SENTENCE.split(' '));
  });

  it('survives 16 → 8 kHz, µ-law, then 8 → 16 kHz, as a phone line carries it', () => {
    const at16 = synthesizeSpeechCode(SENTENCE, 16_000);
    const line = mulawDecode(mulawEncode(new Downsampler16To8().process(at16)));
    expect(wordsIn(decodeInPieces(line, 8_000, every20Ms(8_000)))).toEqual(SENTENCE.split(' '));
    expect(wordsIn(decodeInPieces(new Upsampler8To16().process(line), 16_000, every20Ms(16_000)))).toEqual(SENTENCE.split(' '));
  });

  it('decodes any text of its alphabet however the audio is cut', () => {
    const word = fc.stringMatching(/^[A-Za-z0-9'.,?!$%-]{1,12}$/);
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 900 }), { minLength: 1, maxLength: 30 }), (words, sizes) => {
        let next = 0;
        const events = decodeInPieces(mulawDecode(mulawEncode(synthesizeSpeechCode(words.join(' '), 8_000))), 8_000, () => sizes[next++ % sizes.length]!);
        expect(wordsIn(events)).toEqual(words);
      }),
      { numRuns: 40 },
    );
  });

  it('lasts about as long as saying the words at 150 words per minute', () => {
    const text = 'please call me back about the appointment on Friday morning';
    const seconds = synthesizeSpeechCode(text, 8_000).length / 8_000;
    const spokenSeconds = (wordsOf(text).length / 150) * 60;
    expect(seconds).toBeGreaterThan(spokenSeconds * 0.7);
    expect(seconds).toBeLessThan(spokenSeconds * 1.5);
  });

  it('reports each word soon after it ends, not at the end of the utterance', () => {
    const rate = 8_000;
    const pcm = synthesizeSpeechCode('one two three', rate);
    const decoder = new SpeechCodeDecoder({ sampleRateHz: rate, endOfSpeechMs: 500 });
    const arrivals: { word: string; audioMs: number; endMs: number }[] = [];
    for (let at = 0; at < pcm.length; at += 160) {
      for (const event of decoder.push(pcm.subarray(at, at + 160))) {
        if (event.type === 'word') arrivals.push({ word: event.word.text, audioMs: ((at + 160) / rate) * 1000, endMs: event.word.endMs });
      }
    }
    expect(arrivals.map((arrival) => arrival.word)).toEqual(['one', 'two', 'three']);
    for (const arrival of arrivals) expect(arrival.audioMs - arrival.endMs).toBeLessThanOrEqual(120);
  });

  it('gives the same events for a line\'s silence skipped in whole pieces as for it analysed window by window', () => {
    // One push of the whole line is never all silence, so it is analysed window by window; pieces
    // that are all silence while no word is open take the decoder's shortcut. Noise bursts leave
    // lone `other` and symbol windows behind for the shortcut to reset.
    const part = fc.oneof(
      fc.record({ kind: fc.constant('speech' as const), text: fc.stringMatching(/^[A-Za-z0-9'.,?! ]{1,30}$/) }),
      fc.record({ kind: fc.constant('silence' as const), ms: fc.integer({ min: 1, max: 1_500 }) }),
      fc.record({ kind: fc.constant('noise' as const), samples: fc.array(fc.integer({ min: -12_000, max: 12_000 }), { minLength: 1, maxLength: 400 }) }),
    );
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 10 }), (parts, sizes) => {
        const pieces = parts.map((piece) =>
          piece.kind === 'speech' ? synthesizeSpeechCode(piece.text, 8_000) : piece.kind === 'silence' ? new Int16Array(piece.ms * 8) : Int16Array.from(piece.samples));
        const line = new Int16Array(pieces.reduce((sum, piece) => sum + piece.length, 0) + 8_000);
        let end = 0;
        for (const piece of pieces) {
          line.set(piece, end);
          end += piece.length;
        }
        const whole = new SpeechCodeDecoder({ sampleRateHz: 8_000, endOfSpeechMs: 300 }).push(line);
        let next = 0;
        const cut = (sizeOf: () => number) => {
          const decoder = new SpeechCodeDecoder({ sampleRateHz: 8_000, endOfSpeechMs: 300 });
          const events: SpeechCodeEvent[] = [];
          for (let at = 0; at < line.length; ) {
            const size = sizeOf();
            events.push(...decoder.push(line.subarray(at, at + size)));
            at += size;
          }
          return events;
        };
        expect(cut(every20Ms(8_000))).toEqual(whole);
        expect(cut(() => sizes[next++ % sizes.length]!)).toEqual(whole);
      }),
      { numRuns: 60 },
    );
  });
});
