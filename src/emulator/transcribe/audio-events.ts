import { EventStreamCodec, type Message } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import type { ChunkSignatureChain } from './chunk-signatures.js';
import { TranscribeError } from './transcribe-errors.js';

/**
 * Reads the request body of `StartStreamTranscription`: a byte stream of signed envelopes
 * (`:date`, `:chunk-signature`) whose payload is the inner `AudioEvent` message; an envelope with
 * an empty payload is the end frame. With a signature chain, every envelope's signature is checked.
 */
export class AudioEventReader {
  private readonly codec = new EventStreamCodec(toUtf8, fromUtf8);
  private pending = new Uint8Array(0);

  constructor(private readonly signatures?: ChunkSignatureChain) {}

  /** Audio payloads of the whole envelopes in `bytes` so far; `end` when the end frame came. */
  push(bytes: Uint8Array): { audio: Uint8Array[]; end: boolean } {
    const data = this.pending.length === 0 ? bytes : Buffer.concat([this.pending, bytes]);
    const audio: Uint8Array[] = [];
    let end = false;
    let offset = 0;
    while (data.length - offset >= 4) {
      const length = new DataView(data.buffer, data.byteOffset + offset, 4).getUint32(0);
      if (length < 16) throw new TranscribeError('BadRequestException', 'A message in the audio stream is malformed');
      if (data.length - offset < length) break;
      const envelope = this.decode(data.subarray(offset, offset + length));
      offset += length;
      if (this.signatures && !this.signatures.verify(envelope.headers, envelope.body)) {
        throw new TranscribeError('BadRequestException', 'The chunk signature does not match the signature chain');
      }
      if (envelope.body.length === 0) {
        end = true;
        continue;
      }
      const inner = this.decode(envelope.body);
      const eventType = inner.headers[':event-type']?.value;
      if (eventType !== 'AudioEvent') throw new TranscribeError('BadRequestException', `Unexpected event ${String(eventType)} in the audio stream`);
      audio.push(inner.body);
    }
    this.pending = data.slice(offset);
    return { audio, end };
  }

  private decode(bytes: Uint8Array): Message {
    try {
      return this.codec.decode(bytes);
    } catch (error) {
      throw new TranscribeError('BadRequestException', `A message in the audio stream is malformed: ${(error as Error).message}`);
    }
  }
}

/** Encodes what the service sends: `TranscriptEvent`s and modeled exceptions. */
export class TranscriptFrames {
  private readonly codec = new EventStreamCodec(toUtf8, fromUtf8);

  event(payload: unknown): Uint8Array {
    return this.codec.encode({
      headers: {
        ':event-type': { type: 'string', value: 'TranscriptEvent' },
        ':content-type': { type: 'string', value: 'application/json' },
        ':message-type': { type: 'string', value: 'event' },
      },
      body: fromUtf8(JSON.stringify(payload)),
    });
  }

  exception(type: string, message: string): Uint8Array {
    return this.codec.encode({
      headers: {
        ':exception-type': { type: 'string', value: type },
        ':content-type': { type: 'string', value: 'application/json' },
        ':message-type': { type: 'string', value: 'exception' },
      },
      body: fromUtf8(JSON.stringify({ Message: message })),
    });
  }
}
