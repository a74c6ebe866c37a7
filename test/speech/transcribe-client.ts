import { TranscribeStreamingClient } from '@aws-sdk/client-transcribe-streaming';
import { transcribeSigning, type TranscribeSignerKind } from '../../src/speech/event-signing.js';

/** The suites run on either signer: `AYBIZA_TRANSCRIBE_SIGNER=sdk npx vitest run test/speech test/emulator/transcribe test/emulator/speech-sdk` (lean, serve's default, unless given). */
const testSigner = (process.env.AYBIZA_TRANSCRIBE_SIGNER ?? 'lean') as TranscribeSignerKind;

/** The real SDK client pointed at a Transcribe emulator, its audio events signed as `serve` signs them (transcribeSigning checks the kind). */
export function emulatorTranscribeClient(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }, signer = testSigner): TranscribeStreamingClient {
  return new TranscribeStreamingClient({ endpoint, region: 'us-east-1', credentials, ...transcribeSigning(signer) });
}
