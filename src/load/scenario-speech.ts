import { startPollyEmulator, type RunningPollyEmulator } from '../emulator/polly/server.js';
import { startTranscribeEmulator, type RunningTranscribeEmulator } from '../emulator/transcribe/server.js';
import type { Scenario } from './scenario.js';

export interface ScenarioSpeechServices {
  /** `agents.<scenario>.speech` endpoints for the scenarios with a `speech` section. */
  agentSpeech: Record<string, { transcribeEndpoint: string; pollyEndpoint: string }>;
  close(): Promise<void>;
}

/**
 * A Transcribe and a Polly emulator per scenario that sets its speech latencies, for the in-process
 * node of a `--transport twilio` run: the node's agent of that scenario hears and speaks through
 * them (per-agent speech endpoints), every other agent through the node's own embedded pair.
 */
export async function startScenarioSpeech(scenarios: Scenario[]): Promise<ScenarioSpeechServices> {
  const started: Array<RunningTranscribeEmulator | RunningPollyEmulator> = [];
  const agentSpeech: ScenarioSpeechServices['agentSpeech'] = {};
  const close = async () => {
    await Promise.all(started.map((emulator) => emulator.close()));
  };
  try {
    for (const { name, speech } of scenarios) {
      if (!speech) continue;
      const transcribe = await startTranscribeEmulator({
        maxStreams: 100_000,
        ...(speech.endOfSpeechMs !== undefined ? { endOfSpeechMs: speech.endOfSpeechMs } : {}),
        ...(speech.partialDelayMs !== undefined ? { partialDelayMs: speech.partialDelayMs } : {}),
        ...(speech.finalDelayMs !== undefined ? { finalDelayMs: speech.finalDelayMs } : {}),
      });
      started.push(transcribe);
      const polly = await startPollyEmulator(speech.pollyFirstByteMs !== undefined ? { firstByteMs: speech.pollyFirstByteMs } : {});
      started.push(polly);
      agentSpeech[name] = { transcribeEndpoint: transcribe.url, pollyEndpoint: polly.url };
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { agentSpeech, close };
}
