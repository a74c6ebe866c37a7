import { alawDecode, alawEncode, mulawDecode, mulawEncode } from './g711.js';
import type { AudioEncoding } from './audio-format.js';

/** PCM16 little-endian bytes as samples. Copies when the bytes are not 2-aligned (a Buffer slice often is not). */
export function pcm16FromBytes(bytes: Uint8Array): Int16Array {
  const count = bytes.length >> 1;
  if (bytes.byteOffset % 2 === 0) return new Int16Array(bytes.buffer, bytes.byteOffset, count);
  const out = new Int16Array(count);
  for (let i = 0; i < count; i += 1) out[i] = (bytes[2 * i]! | (bytes[2 * i + 1]! << 8)) << 16 >> 16;
  return out;
}

export const bytesFromPcm16 = (pcm: Int16Array): Uint8Array => new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);

/**
 * Wire bytes in `encoding` → PCM16 samples. G.711 decodes into `out` when given (at least as many
 * samples as bytes; the result is a view of it, valid until `out` is reused); PCM16 is a view of the bytes.
 */
export function decodeAudio(bytes: Uint8Array, encoding: AudioEncoding, out?: Int16Array): Int16Array {
  if (encoding === 'mulaw') return mulawDecode(bytes, out);
  if (encoding === 'alaw') return alawDecode(bytes, out);
  return pcm16FromBytes(bytes);
}

/** PCM16 samples → wire bytes in `encoding`. */
export function encodeAudio(pcm: Int16Array, encoding: AudioEncoding): Uint8Array {
  if (encoding === 'mulaw') return mulawEncode(pcm);
  if (encoding === 'alaw') return alawEncode(pcm);
  return bytesFromPcm16(pcm);
}
