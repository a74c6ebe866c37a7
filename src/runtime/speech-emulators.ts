import { startPollyEmulator } from '../emulator/polly/server.js';
import { startTranscribeEmulator } from '../emulator/transcribe/server.js';

export interface SpeechEmulators {
  transcribeUrl: string;
  pollyUrl: string;
  ports: { transcribe: number; polly: number };
  close(): Promise<void>;
}

/** The Transcribe and Polly emulators a node embeds in speech emulator mode, each on its own loopback port (0: any free one, kept across restarts by the caller). */
export async function startSpeechEmulators(options: { ports: { transcribe: number; polly: number }; endOfSpeechMs: number }): Promise<SpeechEmulators> {
  const transcribe = await startTranscribeEmulator({ port: options.ports.transcribe, endOfSpeechMs: options.endOfSpeechMs, maxStreams: 100_000 });
  const polly = await startPollyEmulator({ port: options.ports.polly }).catch(async (error: unknown) => {
    await transcribe.close();
    throw error;
  });
  return {
    transcribeUrl: transcribe.url,
    pollyUrl: polly.url,
    ports: { transcribe: Number(new URL(transcribe.url).port), polly: Number(new URL(polly.url).port) },
    close: async () => {
      await Promise.all([transcribe.close(), polly.close()]);
    },
  };
}
