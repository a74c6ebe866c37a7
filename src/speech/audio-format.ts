/** How audio bytes are laid out on a wire: 16-bit little-endian PCM or one G.711 byte per sample. */
export type AudioEncoding = 'pcm16' | 'mulaw' | 'alaw';
export type SampleRateHz = 8000 | 16000;

export interface AudioFormat {
  encoding: AudioEncoding;
  sampleRateHz: SampleRateHz;
}

/** Every frame the speech layer moves is 20 ms: what telephony carries and what Transcribe's 50–200 ms chunks are made of. */
export const FRAME_MS = 20;

export const bytesPerSample = (encoding: AudioEncoding): number => (encoding === 'pcm16' ? 2 : 1);

export const samplesPerFrame = (sampleRateHz: number): number => (sampleRateHz * FRAME_MS) / 1000;

export const bytesPerFrame = (format: AudioFormat): number =>
  samplesPerFrame(format.sampleRateHz) * bytesPerSample(format.encoding);

/** The byte that decodes to zero: padding a short last frame with it adds silence, not a click. */
export const silenceByte = (encoding: AudioEncoding): number =>
  encoding === 'mulaw' ? 0xff : encoding === 'alaw' ? 0xd5 : 0x00;
