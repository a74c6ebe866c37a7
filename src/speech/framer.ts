import { bytesPerFrame, silenceByte, type AudioFormat } from './audio-format.js';

/**
 * Cuts a byte stream that arrives in arbitrary pieces (an HTTP body, a socket) into 20 ms frames.
 * Bytes short of a frame wait for the next push; `flush` pads the rest with silence.
 */
export class AudioFramer {
  private readonly frameBytes: number;
  private readonly padding: number;
  private pending = new Uint8Array(0);

  constructor(format: AudioFormat) {
    this.frameBytes = bytesPerFrame(format);
    this.padding = silenceByte(format.encoding);
  }

  push(bytes: Uint8Array): Uint8Array[] {
    const data = this.pending.length === 0 ? bytes : concat(this.pending, bytes);
    const frames: Uint8Array[] = [];
    let offset = 0;
    for (; offset + this.frameBytes <= data.length; offset += this.frameBytes) {
      frames.push(data.slice(offset, offset + this.frameBytes));
    }
    this.pending = data.slice(offset);
    return frames;
  }

  /** The last partial frame, padded; none when the stream ended on a frame boundary. */
  flush(): Uint8Array[] {
    if (this.pending.length === 0) return [];
    const frame = new Uint8Array(this.frameBytes).fill(this.padding);
    frame.set(this.pending);
    this.pending = new Uint8Array(0);
    return [frame];
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
