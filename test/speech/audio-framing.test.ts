import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AudioFramer } from '../../src/speech/framer.js';

describe('20 ms framing', () => {
  it('cuts a stream split anywhere into the same whole frames, padding only the last', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 2_000 }), fc.array(fc.integer({ min: 1, max: 700 }), { maxLength: 20 }), (bytes, cuts) => {
        const framer = new AudioFramer({ encoding: 'pcm16', sampleRateHz: 8_000 });
        const frames: Uint8Array[] = [];
        let at = 0;
        for (const cut of cuts) {
          frames.push(...framer.push(bytes.subarray(at, at + cut)));
          at += cut;
        }
        frames.push(...framer.push(bytes.subarray(at)), ...framer.flush());
        expect(frames.every((frame) => frame.length === 320)).toBe(true);
        const joined = Buffer.concat(frames);
        expect(joined.subarray(0, bytes.length).equals(Buffer.from(bytes))).toBe(true);
        expect(joined.length - bytes.length).toBeLessThan(320);
        expect(joined.subarray(bytes.length).every((byte) => byte === 0)).toBe(true);
      }),
    );
  });

  it('pads a µ-law frame with the µ-law silence byte', () => {
    const framer = new AudioFramer({ encoding: 'mulaw', sampleRateHz: 8_000 });
    expect(framer.push(new Uint8Array(100).fill(0x10))).toEqual([]);
    const [last] = framer.flush();
    expect(last!.length).toBe(160);
    expect(last![159]).toBe(0xff);
  });
});
