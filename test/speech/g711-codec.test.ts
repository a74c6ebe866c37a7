import alawmulaw from 'alawmulaw';
import { describe, expect, it } from 'vitest';
import { alawDecode, alawEncode, mulawDecode, mulawEncode } from '../../src/speech/g711.js';

const everySample = Int16Array.from({ length: 65_536 }, (_, i) => i - 32_768);
const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i);

describe('G.711 tables', () => {
  it('encode every 16-bit sample to the same µ-law bytes as the alawmulaw package', () => {
    expect(Buffer.from(mulawEncode(everySample)).equals(Buffer.from(alawmulaw.mulaw.encode(everySample)))).toBe(true);
  });

  it('encode A-law as ITU-T G.191 does: a negative sample by its ones\' complement, one below the package at 127 segment edges', () => {
    const ours = alawEncode(everySample);
    const theirs = alawmulaw.alaw.encode(everySample);
    for (let i = 0; i < everySample.length; i += 1) {
      const sample = everySample[i]!;
      if (sample >= 0) expect(ours[i]).toBe(theirs[i]);
      else if (sample < -1) expect(ours[i]).toBe(theirs[i + 1]);
    }
    expect(everySample.filter((_, i) => ours[i] !== theirs[i]).every((sample) => sample < 0)).toBe(true);
  });

  it('decode every byte to the same sample as the alawmulaw package', () => {
    expect(Array.from(mulawDecode(everyByte))).toEqual(Array.from(alawmulaw.mulaw.decode(everyByte)));
    expect(Array.from(alawDecode(everyByte))).toEqual(Array.from(alawmulaw.alaw.decode(everyByte)));
  });

  it('decode into a buffer the caller reuses, returning a view of just the decoded samples', () => {
    const out = new Int16Array(320).fill(7);
    const frame = everyByte.subarray(0, 160);
    const decoded = mulawDecode(frame, out);
    expect(decoded.buffer).toBe(out.buffer);
    expect(Array.from(decoded)).toEqual(Array.from(mulawDecode(frame)));
    expect(out[160]).toBe(7);
    expect(Array.from(alawDecode(everyByte, new Int16Array(256)))).toEqual(Array.from(alawDecode(everyByte)));
  });

  it('re-encode a decoded byte to itself (µ-law has two zeros; both decode to 0)', () => {
    const mulawAgain = mulawEncode(mulawDecode(everyByte));
    const changed = everyByte.filter((byte) => mulawAgain[byte] !== byte);
    expect(Array.from(changed)).toEqual([0x7f]);
    expect(Array.from(alawEncode(alawDecode(everyByte)))).toEqual(Array.from(everyByte));
  });

  it('keep the error of a round trip within the step of the segment a sample falls in', () => {
    for (const sample of [0, 1, -1, 100, -100, 1000, -1000, 10_000, -10_000, 32_767, -32_768]) {
      const pcm = Int16Array.of(sample);
      const tolerance = Math.max(16, Math.abs(sample) / 16);
      expect(Math.abs(mulawDecode(mulawEncode(pcm))[0]! - sample)).toBeLessThanOrEqual(tolerance + 132);
      expect(Math.abs(alawDecode(alawEncode(pcm))[0]! - sample)).toBeLessThanOrEqual(tolerance + 8);
    }
  });
});
