import type { AybizaConfig } from '../config/schema.js';
import type { ModelCatalogue } from '../config/catalogue.js';
import { emulatedModelsOf } from '../emulator/model-facts.js';
import type { ModelScript } from '../emulator/script.js';
import { startEmulator, type RunningEmulator } from '../emulator/server.js';
import type { Logger } from '../log.js';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../memory/embedded-dynamo.js';
import { SERVICE_BACKOFF_MS, type ChildSpec } from './child.js';
import type { Provided } from './provided.js';
import { startSpeechEmulators, type SpeechEmulators } from './speech-emulators.js';

/**
 * The services a node embeds when nothing else answers for them: the Bedrock emulator (emulator
 * mode without an endpoint), the Transcribe and Polly emulators (an audio transport in speech
 * emulator mode without both endpoints) and dynalite (durable memory `embedded`). One `serve`
 * process starts them in its tree; `serve --workers N` starts them once, in the primary.
 */
export function embeddedServicesOf(config: AybizaConfig): { bedrock: boolean; speech: boolean; dynamo: boolean } {
  const { browserAudio } = config.speech;
  const audio = config.twilio.enabled || (browserAudio.enabled && browserAudio.synthesizer === 'polly');
  return {
    bedrock: config.bedrock.mode === 'emulator' && !config.bedrock.endpoint,
    speech: audio && config.speech.mode === 'emulator' && !(config.speech.transcribeEndpoint && config.speech.pollyEndpoint),
    dynamo: config.memory.durable === 'embedded',
  };
}

/** The endpoints of embedded services another process runs for this one (a `serve --workers` primary for its workers). */
export interface SharedServices {
  bedrockEndpoint?: string;
  transcribeEndpoint?: string;
  pollyEndpoint?: string;
  dynamoEndpoint?: string;
}

/**
 * A restart of any of these children starts the service on the port its first start got: clients
 * reach it by URL on every request, so nothing holds the old one; requests in the gap fail and are
 * answered as any failure of that service is.
 */
export function bedrockEmulatorChild(options: {
  catalogue: ModelCatalogue;
  emulator?: { script?: ModelScript; scripts?: Record<string, ModelScript> };
  log: Logger;
  cell: Provided<RunningEmulator>;
}): ChildSpec {
  let port = 0;
  return {
    id: 'bedrock-emulator',
    restart: 'permanent',
    shutdownMs: 2_000,
    backoffMs: SERVICE_BACKOFF_MS,
    start: async () => {
      const started = await startEmulator({ models: emulatedModelsOf(options.catalogue.entries()), ...options.emulator, port });
      port = started.port;
      options.log.info({ event: 'node.bedrock_emulator', url: started.url }, 'no AWS Bedrock configured: answering with the embedded emulator');
      return options.cell.provide(started, () => started.close(), started.failed);
    },
  };
}

export function speechEmulatorsChild(config: AybizaConfig, log: Logger, cell: Provided<SpeechEmulators>): ChildSpec {
  const ports = { transcribe: 0, polly: 0 };
  return {
    id: 'speech-emulators',
    restart: 'permanent',
    shutdownMs: 2_000,
    backoffMs: SERVICE_BACKOFF_MS,
    start: async () => {
      const started = await startSpeechEmulators({ ports, endOfSpeechMs: config.speech.emulatorEndOfSpeechMs });
      Object.assign(ports, started.ports);
      log.info({ event: 'node.speech_emulators', transcribe: started.transcribeUrl, polly: started.pollyUrl }, 'speech in emulator mode: answering with the embedded Transcribe and Polly emulators');
      return cell.provide(started, () => started.close());
    },
  };
}

/** dynalite as a child of its own (in a single `serve`, memory starts it instead and restarts with it). */
export function embeddedDynamoChild(dataDir: string, log: Logger, cell: Provided<EmbeddedDynamo>): ChildSpec {
  let port = 0;
  return {
    id: 'embedded-dynamodb',
    restart: 'permanent',
    shutdownMs: 10_000,
    backoffMs: SERVICE_BACKOFF_MS,
    start: async () => {
      const started = await startEmbeddedDynamo(dataDir, port);
      port = Number(new URL(started.endpoint).port);
      log.info({ event: 'node.embedded_dynamodb', endpoint: started.endpoint, pid: started.pid });
      return cell.provide(started, () => started.close(), started.failed);
    },
  };
}
