import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';

export type StreamEventName = 'messageStart' | 'contentBlockStart' | 'contentBlockDelta' | 'contentBlockStop' | 'messageStop' | 'metadata';
export type StreamExceptionName = 'throttlingException' | 'modelStreamErrorException' | 'internalServerException' | 'serviceUnavailableException' | 'validationException';

/** Encodes AWS event-stream frames with the SDK's own codec, so prelude and message CRCs are exactly what the SDK checks. */
export class EventFrames {
  private readonly codec = new EventStreamCodec(toUtf8, fromUtf8);

  event(name: StreamEventName, payload: unknown): Uint8Array {
    return this.encode('event', name, payload);
  }

  exception(name: StreamExceptionName, payload: { message: string } & Record<string, unknown>): Uint8Array {
    return this.encode('exception', name, payload);
  }

  /** An event names itself in `:event-type`, an exception in `:exception-type`; the rest is the same. */
  private encode(messageType: 'event' | 'exception', name: string, payload: unknown): Uint8Array {
    return this.codec.encode({
      headers: {
        [`:${messageType}-type`]: { type: 'string', value: name },
        ':content-type': { type: 'string', value: 'application/json' },
        ':message-type': { type: 'string', value: messageType },
      },
      body: fromUtf8(JSON.stringify(payload)),
    });
  }

  /** A well-formed event whose message CRC is wrong: a client that checks framing must reject it. */
  corrupted(name: StreamEventName, payload: unknown): Uint8Array {
    const frame = Uint8Array.from(this.event(name, payload));
    frame[frame.length - 1]! ^= 0xff;
    return frame;
  }
}
