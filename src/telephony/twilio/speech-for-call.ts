import type { TranscribeStreamingClient } from '@aws-sdk/client-transcribe-streaming';
import type { CallObserver } from '../../records/observations.js';
import type { BackchannelFilter } from '../../speech/backchannel.js';
import type { TextToSpeech } from '../../speech/text-to-speech.js';

/** What one agent hears and speaks with on an audio line; the runtime builds it from `speech` and `agents.*.speech`. */
export interface SpeechForCall {
  transcribe: TranscribeStreamingClient;
  textToSpeech: TextToSpeech;
  languageCode: string;
  vocabularyName?: string;
  backchannels?: BackchannelFilter;
  repeatPrompt?: string;
  /** The node's observer, for the speech spans of the call's trace. */
  observe?: CallObserver;
}
