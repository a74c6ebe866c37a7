import type { BedrockRuntimeClient, ConverseStreamCommandInput } from '@aws-sdk/client-bedrock-runtime';
import type { Observable } from 'rxjs';
import { createBedrockClient, type RequestHandlerKind } from '../../src/llm/bedrock-client.js';
import { converseStream, type ConverseStreamOptions } from '../../src/llm/converse-stream.js';
import type { ModelCallError } from '../../src/llm/errors.js';
import type { ModelEvent } from '../../src/llm/events.js';
import { BEDROCK_DECODER_KINDS, type BedrockDecoderKind } from '../../src/llm/event-stream-decoder.js';

export const MODEL_ID = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';

export const TOOLS = ['lookup_customer', 'search_knowledge', 'transfer_call'].map((name) => ({
  toolSpec: { name, description: `the ${name} tool`, inputSchema: { json: { type: 'object' } } },
}));

export const STREAM_OPTIONS: ConverseStreamOptions = { idleTimeoutMs: 5_000, firstEventTimeoutMs: 10_000 };

/** The suites run on either decoder: `AYBIZA_BEDROCK_DECODER=sdk npx vitest run test/llm` (lean by default). */
export function decoderUnderTest(): BedrockDecoderKind {
  const decoder = process.env.AYBIZA_BEDROCK_DECODER ?? 'lean';
  if (!BEDROCK_DECODER_KINDS.includes(decoder as BedrockDecoderKind)) throw new Error(`AYBIZA_BEDROCK_DECODER is ${decoder}; expected lean or sdk`);
  return decoder as BedrockDecoderKind;
}

export function emulatorClient(url: string, handler: RequestHandlerKind = 'h2-session', maxAttempts = 1): BedrockRuntimeClient {
  return createBedrockClient({ region: 'us-east-1', endpoint: url, credentials: 'emulator', handler, maxSockets: 64, maxAttempts, decoder: decoderUnderTest() });
}

export function userTurn(text: string, callId: string, extra: Partial<ConverseStreamCommandInput> = {}): ConverseStreamCommandInput {
  return {
    modelId: MODEL_ID,
    messages: [{ role: 'user', content: [{ text }] }],
    inferenceConfig: { maxTokens: 1024 },
    toolConfig: { tools: TOOLS },
    requestMetadata: { callId, turn: '1' },
    ...extra,
  };
}

export interface Outcome {
  events: ModelEvent[];
  error?: ModelCallError;
}

/** Subscribes and gathers everything the Observable emits until it completes or errors. */
export function outcomeOf(stream: Observable<ModelEvent>): Promise<Outcome> {
  const events: ModelEvent[] = [];
  return new Promise((resolve) => {
    stream.subscribe({
      next: (event) => events.push(event),
      error: (error: ModelCallError) => resolve({ events, error }),
      complete: () => resolve({ events }),
    });
  });
}

export const streamOutcome = (
  client: BedrockRuntimeClient,
  request: ConverseStreamCommandInput,
  options: ConverseStreamOptions = STREAM_OPTIONS,
): Promise<Outcome> => outcomeOf(converseStream(client, request, options));

export const textOf = (events: ModelEvent[]): string =>
  events.flatMap((event) => (event.type === 'text' ? [event.text] : [])).join('');

/** Polls until `check` returns a value, for state the emulator records asynchronously. */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
