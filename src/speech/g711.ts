/**
 * G.711 µ-law and A-law ↔ PCM16 by table lookup (the bit-level rules are those of ITU-T G.711 as
 * in Sun's reference g711.c). Encoding indexes a 64 KiB table per law by the 16-bit sample, so a
 * 20 ms frame costs 160 loads; `bench/speech.ts` compares it with the `alawmulaw` package.
 */

const MULAW_BIAS = 0x84;
const MULAW_CLIP = 32_635;
const ALAW_SEGMENT_ENDS = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];

function mulawFromSample(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  let magnitude = Math.min(sign ? -sample : sample, MULAW_CLIP) + MULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent -= 1;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  magnitude = ~(sign | (exponent << 4) | mantissa);
  return magnitude & 0xff;
}

function sampleFromMulaw(byte: number): number {
  const u = ~byte & 0xff;
  const t = (((u & 0x0f) << 3) + MULAW_BIAS) << ((u & 0x70) >> 4);
  return u & 0x80 ? MULAW_BIAS - t : t - MULAW_BIAS;
}

function alawFromSample(sample: number): number {
  let value = sample >> 3;
  let mask: number;
  if (value >= 0) {
    mask = 0xd5;
  } else {
    mask = 0x55;
    value = -value - 1;
  }
  const segment = ALAW_SEGMENT_ENDS.findIndex((end) => value <= end);
  if (segment < 0) return 0x7f ^ mask;
  const mantissa = segment < 2 ? (value >> 1) & 0x0f : (value >> segment) & 0x0f;
  return ((segment << 4) | mantissa) ^ mask;
}

function sampleFromAlaw(byte: number): number {
  const a = byte ^ 0x55;
  const segment = (a & 0x70) >> 4;
  let t = (a & 0x0f) << 4;
  if (segment === 0) t += 8;
  else t = (t + 0x108) << (segment - 1);
  return a & 0x80 ? t : -t;
}

function encodeTable(encode: (sample: number) => number): Uint8Array {
  const table = new Uint8Array(65_536);
  for (let i = 0; i < 65_536; i += 1) table[i] = encode((i << 16) >> 16);
  return table;
}

function decodeTable(decode: (byte: number) => number): Int16Array {
  const table = new Int16Array(256);
  for (let i = 0; i < 256; i += 1) table[i] = decode(i);
  return table;
}

const MULAW_ENCODE = encodeTable(mulawFromSample);
const MULAW_DECODE = decodeTable(sampleFromMulaw);
const ALAW_ENCODE = encodeTable(alawFromSample);
const ALAW_DECODE = decodeTable(sampleFromAlaw);

function encodeWith(table: Uint8Array, pcm: Int16Array): Uint8Array {
  const out = new Uint8Array(pcm.length);
  for (let i = 0; i < pcm.length; i += 1) out[i] = table[pcm[i]! & 0xffff]!;
  return out;
}

/** Into `out` when given (its first bytes.length samples, returned as a view), else a new array. */
function decodeWith(table: Int16Array, bytes: Uint8Array, out: Int16Array = new Int16Array(bytes.length)): Int16Array {
  for (let i = 0; i < bytes.length; i += 1) out[i] = table[bytes[i]!]!;
  return out.length === bytes.length ? out : out.subarray(0, bytes.length);
}

export const mulawEncode = (pcm: Int16Array): Uint8Array => encodeWith(MULAW_ENCODE, pcm);
export const mulawDecode = (bytes: Uint8Array, out?: Int16Array): Int16Array => decodeWith(MULAW_DECODE, bytes, out);
export const alawEncode = (pcm: Int16Array): Uint8Array => encodeWith(ALAW_ENCODE, pcm);
export const alawDecode = (bytes: Uint8Array, out?: Int16Array): Int16Array => decodeWith(ALAW_DECODE, bytes, out);
