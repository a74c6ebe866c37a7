import { TranscribeStreamingClient } from '@aws-sdk/client-transcribe-streaming';
import { transcribeEncoding, type TranscribeEncoderKind } from '../../src/speech/transcribe-encoding.js';

/** The suites run on either signer: `AYBIZA_TRANSCRIBE_ENCODER=sdk npx vitest run test/speech test/emulator/transcribe test/emulator/speech-sdk` (lean, serve's default, unless given). */
const testSigner = (process.env.AYBIZA_TRANSCRIBE_ENCODER ?? 'lean') as TranscribeEncoderKind;

/** The real SDK client pointed at a Transcribe emulator, its audio events signed as `serve` signs them (transcribeEncoding checks the kind). */
export function emulatorTranscribeClient(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }, signer = testSigner): TranscribeStreamingClient {
  return new TranscribeStreamingClient({ endpoint, region: 'us-east-1', credentials, ...transcribeEncoding(signer) });
}
