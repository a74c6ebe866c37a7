import { BedrockRuntimeClient, ConverseStreamCommand, type ConverseStreamCommandInput, type ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { leanEventStreamSerdeProvider } from '../../src/llm/event-stream-decoder.js';

export const SONNET = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
export const HAIKU = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';

export type Transport = 'http2' | 'http1';
export const TRANSPORTS: Transport[] = ['http2', 'http1'];

/** The real SDK client pointed at the emulator: HTTP/2 (the SDK default) or HTTP/1.1 through NodeHttpHandler. */
export function sdkClient(url: string, transport: Transport, options: { region?: string; maxAttempts?: number } = {}): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    endpoint: url,
    region: options.region ?? 'us-east-1',
    credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' },
    maxAttempts: options.maxAttempts ?? 1,
    ...(transport === 'http1' ? { requestHandler: new NodeHttpHandler() } : {}),
    // AYBIZA_BEDROCK_DECODER=lean runs these on the runtime's decoder; the SDK's own is the default here.
    ...(process.env.AYBIZA_BEDROCK_DECODER === 'lean' ? { eventStreamSerdeProvider: leanEventStreamSerdeProvider } : {}),
  });
}

export const userSays = (text: string, extra: Partial<ConverseStreamCommandInput> = {}): ConverseStreamCommandInput => ({
  modelId: SONNET,
  messages: [{ role: 'user', content: [{ text }] }],
  ...extra,
});

/** Every stream event in order; a stream error is returned with the events that came before it. */
export async function streamEvents(client: BedrockRuntimeClient, input: ConverseStreamCommandInput, abortSignal?: AbortSignal): Promise<{ events: ConverseStreamOutput[]; error?: unknown }> {
  const events: ConverseStreamOutput[] = [];
  try {
    const output = await client.send(new ConverseStreamCommand(input), abortSignal ? { abortSignal } : {});
    for await (const event of output.stream ?? []) events.push(event);
    return { events };
  } catch (error) {
    return { events, error };
  }
}

export const textOf = (events: ConverseStreamOutput[]): string =>
  events.map((event) => event.contentBlockDelta?.delta?.text ?? '').join('');
