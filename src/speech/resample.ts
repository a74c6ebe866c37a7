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

/** Input samples each side of an output sample in `RateConverter`'s kernel. */
const CONVERTER_HALF_TAPS = 16;

/**
 * Streaming conversion between any two rates (a local synthesizer's 22,050 Hz to a line's 16 or
 * 8 kHz): each output sample is a Blackman-windowed sinc over the 32 input samples around its
 * instant, cut at 45 % of the lower rate, weights normalized per sample so the kernel's phase
 * does not ripple the level. Slower than the fixed 8 ↔ 16 kHz filters; it serves demo voices.
 */
export class RateConverter {
  private readonly step: number;
  private readonly cutoff: number;
  /** Input samples not yet behind every future output's kernel, from absolute index `start`. */
  private pending: number[] = new Array(CONVERTER_HALF_TAPS).fill(0);
  private start = -CONVERTER_HALF_TAPS;
  private produced = 0;
  private received = 0;

  constructor(fromHz: number, toHz: number) {
    this.step = fromHz / toHz;
    this.cutoff = (0.45 * Math.min(fromHz, toHz)) / fromHz;
  }

  process(input: Int16Array): Int16Array {
    this.received += input.length;
    return this.convert(input, Number.POSITIVE_INFINITY);
  }

  /** The last samples, whose kernels reach past the end of the input: as many in all as the input's duration. */
  flush(): Int16Array {
    return this.convert(new Int16Array(CONVERTER_HALF_TAPS + 1), Math.ceil(this.received / this.step));
  }

  private convert(input: Int16Array, limit: number): Int16Array {
    for (const sample of input) this.pending.push(sample);
    const out: number[] = [];
    while (this.produced < limit) {
      const at = this.produced * this.step;
      const centre = Math.floor(at);
      if (centre + CONVERTER_HALF_TAPS >= this.start + this.pending.length) break;
      let acc = 0;
      let weights = 0;
      for (let k = centre - CONVERTER_HALF_TAPS + 1; k <= centre + CONVERTER_HALF_TAPS; k += 1) {
        const x = at - k;
        const sinc = x === 0 ? 2 * this.cutoff : Math.sin(2 * Math.PI * this.cutoff * x) / (Math.PI * x);
        const window = 0.42 + 0.5 * Math.cos((Math.PI * x) / CONVERTER_HALF_TAPS) + 0.08 * Math.cos((2 * Math.PI * x) / CONVERTER_HALF_TAPS);
        const weight = sinc * window;
        acc += weight * this.pending[k - this.start]!;
        weights += weight;
      }
      out.push(clamp16(acc / weights));
      this.produced += 1;
    }
    const keepFrom = Math.floor(this.produced * this.step) - CONVERTER_HALF_TAPS + 1;
    if (keepFrom > this.start) {
      this.pending = this.pending.slice(keepFrom - this.start);
      this.start = keepFrom;
    }
    return Int16Array.from(out);
  }
}
