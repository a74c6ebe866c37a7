import { PollyClient } from '@aws-sdk/client-polly';
import { TranscribeStreamingClient } from '@aws-sdk/client-transcribe-streaming';
import type { AybizaConfig } from '../config/schema.js';
import { BackchannelFilter } from '../speech/backchannel.js';
import { EspeakTextToSpeech } from '../speech/espeak-text-to-speech.js';
import { TextToSpeech, type SpeechSynthesizer } from '../speech/text-to-speech.js';
import type { SpeechForCall } from '../telephony/twilio/speech-for-call.js';

/** Static keys for the emulators, so that emulator mode never reads the default credential chain. */
const EMULATOR_CREDENTIALS = { accessKeyId: 'emulator-access-key', secretAccessKey: 'emulator-secret-key' };

export interface SpeechServices {
  /** One agent's speech: its Polly voice (a phrase cache per agent), language and backchannels. */
  forAgent(agent: string): SpeechForCall;
  /** One agent's voice as PCM16 at 16 kHz for `POST /v1/speech` (`speech.browserAudio`); undefined for an unknown agent. */
  browserVoice(agent: string): SpeechSynthesizer | undefined;
  destroy(): void;
}

/** The Transcribe and Polly clients of a node, shared by every audio call, and what each agent configures. */
export function createSpeechServices(config: AybizaConfig, endpoints: { transcribe?: string; polly?: string }): SpeechServices {
  const { region, mode } = config.speech;
  const credentials = mode === 'emulator' ? EMULATOR_CREDENTIALS : undefined;
  const transcribe = new TranscribeStreamingClient({ region, endpoint: endpoints.transcribe, ...(credentials ? { credentials } : {}) });
  // One attempt per request: TextToSpeech makes one more itself, and a chunk must not wait on backoff.
  const polly = new PollyClient({ region, endpoint: endpoints.polly, maxAttempts: 1, ...(credentials ? { credentials } : {}) });
  const perAgent = new Map<string, SpeechForCall>();
  const browserVoices = new Map<string, SpeechSynthesizer>();
  const browserFormat = { encoding: 'pcm16', sampleRateHz: 16_000 } as const;
  return {
    forAgent(agent) {
      let speech = perAgent.get(agent);
      if (!speech) {
        const settings = (config.agents[agent] ?? config.agents.default!).speech;
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
          : new TextToSpeech({ client: polly, voiceId: settings.tts.voiceId, engine: settings.tts.engine, format: browserFormat });
        browserVoices.set(agent, voice);
      }
      return voice;
    },
    destroy() {
      transcribe.destroy();
      polly.destroy();
    },
  };
}
