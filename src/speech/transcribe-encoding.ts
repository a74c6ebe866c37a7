import type { TranscribeStreamingClientConfig } from '@aws-sdk/client-transcribe-streaming';
import { leanAudioEventSerdeProvider } from './audio-event-serde.js';
import { leanEventStreamPayloadHandlerProvider } from './event-signing.js';

/**
 * How the caller's audio events are written on their way to Transcribe, both steps through the
 * client's documented hooks and with the SDK's bytes:
 * - `lean`: each AudioEvent's message from prebuilt headers (audio-event-serde.ts), then signed and
 *   framed by ChunkSigner in one Transform (event-signing.ts, chunk-signer.ts).
 * - `sdk`: the client's defaults, `@smithy/core`'s event-stream serde and
 *   `@aws-sdk/eventstream-handler-node` (for comparison and debugging).
 */
export type TranscribeEncoderKind = 'lean' | 'sdk';
export const TRANSCRIBE_ENCODER_KINDS: readonly TranscribeEncoderKind[] = ['lean', 'sdk'];

/** The client config that selects `kind`'s encoding (`sdk`: the client's own defaults). */
export function transcribeEncoding(kind: TranscribeEncoderKind): Pick<TranscribeStreamingClientConfig, 'eventStreamPayloadHandlerProvider' | 'eventStreamSerdeProvider'> {
  if (!TRANSCRIBE_ENCODER_KINDS.includes(kind)) throw new Error(`transcribeEncoding: encoder is ${JSON.stringify(kind)}; expected one of ${TRANSCRIBE_ENCODER_KINDS.join(', ')}`);
  return kind === 'lean' ? { eventStreamSerdeProvider: leanAudioEventSerdeProvider, eventStreamPayloadHandlerProvider: leanEventStreamPayloadHandlerProvider } : {};
}
