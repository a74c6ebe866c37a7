/**
 * Streaming 8 kHz ↔ 16 kHz conversion by a factor of two with one windowed-sinc low-pass (Blackman,
 * 47 taps, cut at 3.7 kHz): telephone speech lives below 3.4 kHz, and the cut keeps images and
 * aliases out of the other side. State carries across calls, so chunk boundaries do not click.
 * Each direction delays its output by 23 samples of the 16 kHz side (~1.4 ms).
 */

const TAPS = 47;
const CUTOFF_HZ = 3_700;
const HIGH_RATE_HZ = 16_000;

function lowPass(): Float64Array {
  const h = new Float64Array(TAPS);
  const fc = CUTOFF_HZ / HIGH_RATE_HZ;
  const middle = (TAPS - 1) / 2;
  let sum = 0;
  for (let n = 0; n < TAPS; n += 1) {
    const x = n - middle;
    const sinc = x === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * x) / (Math.PI * x);
    const blackman = 0.42 - 0.5 * Math.cos((2 * Math.PI * n) / (TAPS - 1)) + 0.08 * Math.cos((4 * Math.PI * n) / (TAPS - 1));
    h[n] = sinc * blackman;
    sum += h[n]!;
  }
  for (let n = 0; n < TAPS; n += 1) h[n]! /= sum;
  return h;
}

const LOW_PASS = lowPass();

const clamp16 = (value: number): number => (value > 32_767 ? 32_767 : value < -32_768 ? -32_768 : Math.round(value));

/** A ring of the last TAPS samples at 16 kHz, filtered on demand. */
class FirHistory {
  private readonly ring = new Float64Array(TAPS);
  private head = 0;

  push(sample: number): void {
    this.ring[this.head] = sample;
    this.head = (this.head + 1) % TAPS;
  }

  filtered(gain: number): number {
    let acc = 0;
    for (let k = 0; k < TAPS; k += 1) acc += LOW_PASS[k]! * this.ring[(this.head + k) % TAPS]!;
    return clamp16(acc * gain);
  }
}

/** 8 kHz → 16 kHz: a zero between samples, then the low-pass at twice the gain. */
export class Upsampler8To16 {
  private readonly history = new FirHistory();

  process(input: Int16Array): Int16Array {
    const out = new Int16Array(input.length * 2);
    for (let i = 0; i < input.length; i += 1) {
      this.history.push(input[i]!);
      out[2 * i] = this.history.filtered(2);
      this.history.push(0);
      out[2 * i + 1] = this.history.filtered(2);
    }
    return out;
  }
}

/** 16 kHz → 8 kHz: the low-pass, then every second sample. An odd trailing sample waits for the next chunk. */
export class Downsampler16To8 {
  private readonly history = new FirHistory();
  private odd = false;

  process(input: Int16Array): Int16Array {
    const out = new Int16Array((input.length + (this.odd ? 1 : 0)) >> 1);
    let written = 0;
    for (let i = 0; i < input.length; i += 1) {
      this.history.push(input[i]!);
      this.odd = !this.odd;
      if (!this.odd) out[written++] = this.history.filtered(1);
    }
    return out;
  }
}
