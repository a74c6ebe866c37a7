import { describe, expect, it } from 'vitest';
import { Downsampler16To8, RateConverter, Upsampler8To16 } from '../../src/speech/resample.js';

function tone(frequencyHz: number, rateHz: number, samples: number, amplitude = 10_000): Int16Array {
  return Int16Array.from({ length: samples }, (_, n) => Math.round(amplitude * Math.sin((2 * Math.PI * frequencyHz * n) / rateHz)));
}

/** RMS after the filter has settled, so the first taps' ramp does not count. */
function settledRms(pcm: Int16Array): number {
  const tail = pcm.subarray(100);
  return Math.sqrt(tail.reduce((sum, s) => sum + s * s, 0) / tail.length);
}

const TONE_RMS = 10_000 / Math.SQRT2;

describe('resampling', () => {
  it('upsamples an in-band tone to twice the samples at the same level', () => {
    const out = new Upsampler8To16().process(tone(1_000, 8_000, 800));
    expect(out.length).toBe(1_600);
    expect(settledRms(out) / TONE_RMS).toBeGreaterThan(0.95);
    expect(settledRms(out) / TONE_RMS).toBeLessThan(1.05);
  });

  it('downsamples an in-band tone to half the samples at the same level', () => {
    const out = new Downsampler16To8().process(tone(2_000, 16_000, 1_600));
    expect(out.length).toBe(800);
    expect(settledRms(out) / TONE_RMS).toBeGreaterThan(0.95);
    expect(settledRms(out) / TONE_RMS).toBeLessThan(1.05);
  });

  it('removes a tone above the 8 kHz band instead of aliasing it', () => {
    const out = new Downsampler16To8().process(tone(5_500, 16_000, 1_600));
    expect(settledRms(out) / TONE_RMS).toBeLessThan(0.01);
  });

  it('gives the same samples whether the input comes whole or in odd pieces', () => {
    const input = tone(700, 16_000, 1_001);
    const whole = new Downsampler16To8().process(input);
    const pieces = new Downsampler16To8();
    const parts: number[] = [];
    for (let at = 0; at < input.length; at += 77) parts.push(...pieces.process(input.subarray(at, at + 77)));
    expect(parts).toEqual(Array.from(whole));

    const up = new Upsampler8To16();
    const upParts: number[] = [];
    for (let at = 0; at < input.length; at += 33) upParts.push(...up.process(input.subarray(at, at + 33)));
    expect(upParts).toEqual(Array.from(new Upsampler8To16().process(input)));
  });

  /** Zero crossings per second: a tone's frequency, twice over. */
  const crossingsPerSecond = (pcm: Int16Array, rateHz: number) => {
    let crossings = 0;
    for (let i = 101; i < pcm.length - 100; i += 1) if ((pcm[i]! >= 0) !== (pcm[i - 1]! >= 0)) crossings += 1;
    return (crossings * rateHz) / (pcm.length - 201);
  };

  it.each([
    [22_050, 16_000, 1_000],
    [22_050, 8_000, 1_000],
    [8_000, 22_050, 700],
  ])('converts %i Hz to %i Hz in pieces: as long, the tone at its frequency and level', (fromHz, toHz, toneHz) => {
    const input = tone(toneHz, fromHz, fromHz);
    const converter = new RateConverter(fromHz, toHz);
    const pieces: Int16Array[] = [];
    for (let at = 0; at < input.length; at += 441) pieces.push(converter.process(input.subarray(at, at + 441)));
    pieces.push(converter.flush());
    const out = Int16Array.from(pieces.flatMap((piece) => [...piece]));
    expect(out.length).toBe(toHz);
    expect(Math.abs(crossingsPerSecond(out, toHz) - 2 * toneHz)).toBeLessThan(2 * toneHz * 0.01);
    const middle = out.subarray(200, out.length - 200);
    const rms = Math.sqrt(middle.reduce((sum, s) => sum + s * s, 0) / middle.length);
    expect(rms / TONE_RMS).toBeGreaterThan(0.98);
    expect(rms / TONE_RMS).toBeLessThan(1.02);
  });

  it('keeps a tone above the lower rate\'s band out of the output', () => {
    const converter = new RateConverter(22_050, 8_000);
    const out = Int16Array.from([...converter.process(tone(6_000, 22_050, 22_050)), ...converter.flush()]);
    const middle = out.subarray(200, out.length - 200);
    const rms = Math.sqrt(middle.reduce((sum, s) => sum + s * s, 0) / middle.length);
    expect(rms / TONE_RMS).toBeLessThan(0.01);
  });
});
