import { PollyClient, type PollyClientConfig } from '@aws-sdk/client-polly';
import { TranscribeStreamingClient, type TranscribeStreamingClientConfig } from '@aws-sdk/client-transcribe-streaming';
import type { AybizaConfig } from '../config/schema.js';
import { awsSdkLogger, type Logger } from '../log.js';
import { BackchannelFilter } from '../speech/backchannel.js';
import { EspeakTextToSpeech } from '../speech/espeak-text-to-speech.js';
import { transcribeEncoding } from '../speech/transcribe-encoding.js';
import { TextToSpeech, type SpeechSynthesizer } from '../speech/text-to-speech.js';
import type { SpeechForCall } from '../telephony/twilio/speech-for-call.js';

type AgentSpeech = AybizaConfig['agents'][string]['speech'];

/** Static keys for the emulators, so that emulator mode never reads the default credential chain. */
const EMULATOR_CREDENTIALS = { accessKeyId: 'emulator-access-key', secretAccessKey: 'emulator-secret-key' };

export interface SpeechServices {
  /** One agent's speech: its Polly voice (a phrase cache per agent), language and backchannels. */
  forAgent(agent: string): SpeechForCall;
  /** One agent's voice as PCM16 at 16 kHz for `POST /v1/speech` (`speech.browserAudio`); undefined for an unknown agent. */
  browserVoice(agent: string): SpeechSynthesizer | undefined;
  destroy(): void;
}

/**
 * The Transcribe and Polly clients of a node, shared by every audio call of the agents that use
 * the same region and endpoint (most use speech.region and speech.*Endpoint), and what each agent
 * configures.
 */
export function createSpeechServices(config: AybizaConfig, endpoints: { transcribe?: string; polly?: string }, log: Logger): SpeechServices {
  const credentials = config.speech.mode === 'emulator' ? EMULATOR_CREDENTIALS : undefined;
  const transcribeClients = new Map<string, TranscribeStreamingClient>();
  const pollyClients = new Map<string, PollyClient>();
  const clientFor = <T>(clients: Map<string, T>, region: string | undefined, endpoint: string | undefined, create: () => T): T => {
    const key = `${region ?? ''} ${endpoint ?? ''}`;
    let client = clients.get(key);
    if (!client) {
      client = create();
      clients.set(key, client);
    }
    return client;
  };
  const clientsOf = (settings: AgentSpeech) => {
    const region = settings.region ?? config.speech.region;
    const transcribeEndpoint = settings.transcribeEndpoint ?? endpoints.transcribe;
    const pollyEndpoint = settings.pollyEndpoint ?? endpoints.polly;
    return {
      transcribe: clientFor(transcribeClients, region, transcribeEndpoint, () =>
        new TranscribeStreamingClient({
          region,
          endpoint: transcribeEndpoint,
          ...(credentials ? { credentials } : {}),
          ...transcribeEncoding(config.speech.transcribeEncoder),
          // Two of the Logger's four methods, on purpose (log.ts).
          logger: awsSdkLogger(log, 'transcribe-streaming') as TranscribeStreamingClientConfig['logger'],
        })),
      // One attempt per request: TextToSpeech makes one more itself, and a chunk must not wait on backoff.
      polly: clientFor(pollyClients, region, pollyEndpoint, () =>
        new PollyClient({
          region, endpoint: pollyEndpoint, maxAttempts: 1, ...(credentials ? { credentials } : {}),
          logger: awsSdkLogger(log, 'polly') as PollyClientConfig['logger'],
        })),
    };
  };
  const perAgent = new Map<string, SpeechForCall>();
  const browserVoices = new Map<string, SpeechSynthesizer>();
  const browserFormat = { encoding: 'pcm16', sampleRateHz: 16_000 } as const;
  return {
    forAgent(agent) {
      let speech = perAgent.get(agent);
      if (!speech) {
        const settings = (config.agents[agent] ?? config.agents.default!).speech;
        const { transcribe, polly } = clientsOf(settings);
        speech = {
          transcribe,
          textToSpeech: new TextToSpeech({ client: polly, voiceId: settings.tts.voiceId, engine: settings.tts.engine, format: { encoding: 'mulaw', sampleRateHz: 8_000 } }),
          languageCode: settings.stt.languageCode,
          ...(settings.stt.vocabularyName ? { vocabularyName: settings.stt.vocabularyName } : {}),
          ...(settings.backchannels ? { backchannels: new BackchannelFilter(settings.backchannels) } : {}),
          ...(settings.repeatPrompt ? { repeatPrompt: settings.repeatPrompt } : {}),
        };
        perAgent.set(agent, speech);
      }
      return speech;
    },
    browserVoice(agent) {
      const settings = config.agents[agent]?.speech;
      if (!settings) return undefined;
      let voice = browserVoices.get(agent);
      if (!voice) {
        voice = config.speech.browserAudio.synthesizer === 'espeak'
          ? new EspeakTextToSpeech({ format: browserFormat })
          : new TextToSpeech({ client: clientsOf(settings).polly, voiceId: settings.tts.voiceId, engine: settings.tts.engine, format: browserFormat });
        browserVoices.set(agent, voice);
      }
      return voice;
    },
    destroy() {
      for (const client of transcribeClients.values()) client.destroy();
      for (const client of pollyClients.values()) client.destroy();
    },
  };
}
