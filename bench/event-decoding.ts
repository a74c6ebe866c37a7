import { BedrockRuntimeClient, ConverseStreamResponse$, type BedrockRuntimeClientConfig } from '@aws-sdk/client-bedrock-runtime';
import { NormalizedSchema } from '@smithy/core/schema';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { createBedrockClient } from '../src/llm/bedrock-client.js';
import { BEDROCK_DECODER_KINDS, type BedrockDecoderKind } from '../src/llm/event-stream-decoder.js';

/**
 * CPU per ConverseStream event for each decoder, on the same bytes: the response body of a spoken
 * turn as Claude on Bedrock streams it (a delta per token-sized piece, each padded with `p`), one
 * chunk per event, each a Buffer as the SDK's Node HTTP handlers yield them, through the client
 * protocol's deserializeEventStream, which is what the SDK runs on a response's body after HTTP.
 * Request, signing and HTTP are the same on both paths and left out.
 *
 *   npx tsx bench/event-decoding.ts [streams per round] [row]              (default 2000, every row)
 *   npx tsc -p tsconfig.json --noEmit false --outDir dist && node dist/bench/event-decoding.js   (compiled)
 *   node --cpu-prof dist/bench/event-decoding.js 20000 lean                 (one row alone, to profile it)
 */
const ROUNDS = 5;
const BASELINE: BedrockDecoderKind = 'sdk';
const REPLY = 'Thanks for calling Harbor Dental. We are open Monday to Friday from eight to six, and on Saturday '
  + 'mornings from nine to one. What would you like to do today?';

/** Token-sized pieces (about four characters), as the emulator and Bedrock cut them. */
function pieces(text: string): string[] {
  return text.match(/.{1,4}/gs) ?? [];
}

function streamBytes(): Buffer[] {
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  const header = (value: string) => ({ type: 'string' as const, value });
  const event = (eventType: string, payload: Record<string, unknown>, padding: number): Buffer => Buffer.from(codec.encode({
    headers: { ':event-type': header(eventType), ':content-type': header('application/json'), ':message-type': header('event') },
    body: fromUtf8(JSON.stringify({ ...payload, p: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456'.slice(0, padding) })),
  }));
  return [
    event('messageStart', { role: 'assistant' }, 40),
    ...pieces(REPLY).map((piece, i) => event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: piece } }, (i * 7) % 50)),
    event('contentBlockStop', { contentBlockIndex: 0 }, 30),
    event('messageStop', { stopReason: 'end_turn' }, 20),
    event('metadata', { usage: { inputTokens: 812, outputTokens: 36, totalTokens: 848 }, metrics: { latencyMs: 412 } }, 10),
  ];
}

/** The part of the client's protocol that turns a response body into its event stream. */
interface EventStreamProtocol {
  deserializeEventStream(input: { response: { body: unknown }; responseSchema: NormalizedSchema; initialResponseContainer: object }): Promise<AsyncIterable<unknown>>;
}

async function decodeStreams(client: BedrockRuntimeClient, chunks: Buffer[], streams: number): Promise<number> {
  const protocol = client.config.protocol as unknown as EventStreamProtocol;
  const responseSchema = NormalizedSchema.of(ConverseStreamResponse$);
  let events = 0;
  for (let i = 0; i < streams; i += 1) {
    async function* body(): AsyncGenerator<Uint8Array> { yield* chunks; }
    const stream = await protocol.deserializeEventStream({ response: { body: body() }, responseSchema, initialResponseContainer: {} });
    for await (const _event of stream) events += 1;
  }
  return events;
}

interface Round { cpuUsPerEvent: number; events: number }

async function round(client: BedrockRuntimeClient, chunks: Buffer[], streams: number): Promise<Round> {
  const before = process.cpuUsage();
  const events = await decodeStreams(client, chunks, streams);
  const cpu = process.cpuUsage(before);
  return { cpuUsPerEvent: (cpu.user + cpu.system) / events, events };
}

/**
 * A marshaller that decodes nothing: one prebuilt event per chunk. What it costs is what every
 * decoder pays besides its own work (the body's iterator, the SDK's EventStreamSerde with its
 * async generator and per-stream setup, the caller's loop), so no decoder can go below it.
 */
const FLOOR_EVENT = { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Than' } } };
const floorSerdeProvider: NonNullable<BedrockRuntimeClientConfig['eventStreamSerdeProvider']> = () => ({
  async *deserialize(body: AsyncIterable<Uint8Array>) {
    for await (const _chunk of body) yield FLOOR_EVENT;
  },
  serialize: () => { throw new Error('the floor marshaller only deserializes'); },
}) as never;

const ROWS = [...BEDROCK_DECODER_KINDS, 'floor'] as const;
type Row = (typeof ROWS)[number];

function clientFor(row: Row): BedrockRuntimeClient {
  return row === 'floor'
    ? new BedrockRuntimeClient({
      region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' }, eventStreamSerdeProvider: floorSerdeProvider,
    })
    : createBedrockClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: 'emulator', handler: 'http1', maxSockets: 1, maxAttempts: 1, decoder: row });
}

/** Every row against the SDK's, or `only` one row alone (no ratio then). */
export async function run(streams = 2_000, only?: Row): Promise<void> {
  const chunks = streamBytes();
  const clients = new Map<Row, BedrockRuntimeClient>(ROWS.filter((row) => !only || row === only).map((row) => [row, clientFor(row)]));
  try {
    const rounds = new Map<Row, Round[]>();
    for (const client of clients.values()) await decodeStreams(client, chunks, streams / 4);
    // Rounds alternate the decoders so drift of the machine (JIT, other load) hits both alike.
    for (let r = 0; r < ROUNDS; r += 1) {
      for (const [decoder, client] of clients) rounds.set(decoder, [...(rounds.get(decoder) ?? []), await round(client, chunks, streams)]);
    }
    const median = (runs: Round[]) => [...runs].sort((a, b) => a.cpuUsPerEvent - b.cpuUsPerEvent)[Math.floor(runs.length / 2)]!;
    const baseline = rounds.get(BASELINE);
    const base = baseline ? median(baseline).cpuUsPerEvent : undefined;
    process.stdout.write(`${chunks.length} events per stream, ${streams} streams per round, median of ${ROUNDS} rounds\n`);
    process.stdout.write(`${'decoder'.padEnd(8)}${'cpu µs/event'.padStart(14)}${'events/s of one core'.padStart(22)}${'vs sdk'.padStart(9)}\n`);
    for (const [decoder, runs] of rounds) {
      const { cpuUsPerEvent } = median(runs);
      process.stdout.write(`${decoder.padEnd(8)}${cpuUsPerEvent.toFixed(2).padStart(14)}${(1e6 / cpuUsPerEvent).toFixed(0).padStart(22)}`
        + `${(base === undefined ? '-' : `${(base / cpuUsPerEvent).toFixed(1)}x`).padStart(9)}\n`);
    }
  } finally {
    for (const client of clients.values()) client.destroy();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const streams = Number(process.argv[2]);
  const row = process.argv[3];
  if (row !== undefined && !ROWS.includes(row as Row)) {
    process.stderr.write(`bench/event-decoding: row is ${JSON.stringify(row)}; expected one of ${ROWS.join(', ')}\n`);
    process.exit(2);
  }
  await run(streams > 0 ? streams : undefined, row as Row | undefined);
}
