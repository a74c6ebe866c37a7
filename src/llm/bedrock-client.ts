import { context, propagation } from '@opentelemetry/api';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { BedrockRuntimeClient, type BedrockRuntimeClientConfig } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';
import { awsSdkLogger, type Logger } from '../log.js';
import { BEDROCK_DECODER_KINDS, leanEventStreamSerdeProvider, type BedrockDecoderKind } from './event-stream-decoder.js';

/**
 * How the SDK carries requests:
 * - `h2-session`: the SDK's default, a fresh HTTP/2 session (one TCP connection) per request.
 * - `h2-shared`: many streams multiplexed on a few HTTP/2 sessions.
 * - `http1`: HTTP/1.1 with a keep-alive agent, one socket per concurrent stream.
 */
export type RequestHandlerKind = 'h2-session' | 'h2-shared' | 'http1';

export interface BedrockClientOptions {
  region: string;
  /** Overrides the regional endpoint, e.g. `http://127.0.0.1:PORT` for the emulator. */
  endpoint?: string;
  /** `emulator` uses static dummy keys and never touches the default credential chain. */
  credentials: 'aws' | 'emulator';
  handler: RequestHandlerKind;
  /**
   * Sockets per origin for `http1`: requests beyond it queue for a free socket. The HTTP/2 kinds
   * open sessions as needed (one per stream, or one per 100 concurrent streams).
   */
  maxSockets: number;
  /** SDK attempts per call, retries included (the SDK's standard mode). */
  maxAttempts: number;
  /** How response events are decoded (event-stream-decoder.ts); `lean` unless given. */
  decoder?: BedrockDecoderKind;
  /** Where the SDK's own warnings go (log.ts awsSdkLogger); the console, as plain text, unless given. */
  log?: Logger;
}

export const REQUEST_HANDLER_KINDS: readonly RequestHandlerKind[] = ['h2-session', 'h2-shared', 'http1'];

/** Streams per shared HTTP/2 session: the concurrency HTTP/2 servers commonly advertise. */
const STREAMS_PER_SHARED_SESSION = 100;
/** Idle shared sessions are closed after this, so a quiet node does not hold connections forever. */
const SHARED_SESSION_IDLE_MS = 60_000;

const EMULATOR_CREDENTIALS = { accessKeyId: 'emulator-access-key', secretAccessKey: 'emulator-secret-key' };

/**
 * The SDK marks ConverseStream as an event stream, and NodeHttp2Handler then opens an isolated
 * session per request even when concurrent streams are enabled. ConverseStream only streams the
 * response, so multiplexing it is safe; this handler clears the mark so the session pool is used.
 */
class SharedSessionHttp2Handler extends NodeHttp2Handler {
  override handle(...[request, options]: Parameters<NodeHttp2Handler['handle']>): ReturnType<NodeHttp2Handler['handle']> {
    return super.handle(request, { ...options, isEventStream: false });
  }
}

function requestHandlerFor(kind: RequestHandlerKind, maxSockets: number): NodeHttpHandler | NodeHttp2Handler {
  switch (kind) {
    case 'h2-session':
      return new NodeHttp2Handler({ disableConcurrentStreams: true });
    case 'h2-shared':
      return new SharedSessionHttp2Handler({
        disableConcurrentStreams: false,
        maxConcurrentStreams: STREAMS_PER_SHARED_SESSION,
        sessionTimeout: SHARED_SESSION_IDLE_MS,
      });
    case 'http1':
      return new NodeHttpHandler({
        httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
        httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
      });
  }
}

function assertOptions(options: BedrockClientOptions): void {
  if (!options.region) throw new Error('createBedrockClient: region is empty; expected an AWS region such as us-east-1');
  if (!REQUEST_HANDLER_KINDS.includes(options.handler)) {
    throw new Error(`createBedrockClient: handler is ${JSON.stringify(options.handler)}; expected one of ${REQUEST_HANDLER_KINDS.join(', ')}`);
  }
  if (options.credentials !== 'aws' && options.credentials !== 'emulator') {
    throw new Error(`createBedrockClient: credentials is ${JSON.stringify(options.credentials)}; expected aws or emulator`);
  }
  if (!Number.isInteger(options.maxSockets) || options.maxSockets < 1) {
    throw new Error(`createBedrockClient: maxSockets is ${options.maxSockets}; expected an integer >= 1`);
  }
  if (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 1) {
    throw new Error(`createBedrockClient: maxAttempts is ${options.maxAttempts}; expected an integer >= 1`);
  }
  if (options.decoder !== undefined && !BEDROCK_DECODER_KINDS.includes(options.decoder)) {
    throw new Error(`createBedrockClient: decoder is ${JSON.stringify(options.decoder)}; expected one of ${BEDROCK_DECODER_KINDS.join(', ')}`);
  }
  if (options.endpoint !== undefined && !/^https?:\/\/[^/]+/.test(options.endpoint)) {
    throw new Error(`createBedrockClient: endpoint is ${JSON.stringify(options.endpoint)}; expected an http:// or https:// URL`);
  }
}

/** The part of the SDK's protocol object that builds the event-stream reader of a response. */
interface EventStreamProtocol {
  serdeContext: unknown;
  loadEventStreamCapability(): Promise<unknown>;
}

/**
 * The SDK's protocol calls `require('@smithy/core/event-streams')` for every streamed response, and
 * Node resolves a package's import of its own subpath exports anew each time (no cache): ~2 % of
 * serve's CPU at 1,000 calls. What it builds depends only on the protocol's serde context (the client
 * config, the same object on every request), so one is built per context and reused.
 */
function reuseEventStreamSerde(client: BedrockRuntimeClient): void {
  const protocol = client.config.protocol as unknown as Partial<EventStreamProtocol> | undefined;
  if (!protocol || typeof protocol.loadEventStreamCapability !== 'function') return;
  const load = protocol.loadEventStreamCapability.bind(protocol);
  let built: { context: unknown; serde: Promise<unknown> } | undefined;
  protocol.loadEventStreamCapability = () => {
    if (!built || built.context !== protocol.serdeContext) {
      const serde = load();
      built = { context: protocol.serdeContext, serde };
      // A failed build is not kept: the next response tries again.
      serde.catch(() => {
        if (built?.serde === serde) built = undefined;
      });
    }
    return built.serde;
  };
}

/**
 * One client per region and process: it owns the connections that every call in the region shares.
 * Endpoint and credentials are then resolved once per region already: the SDK caches the endpoint
 * per parameter set (EndpointCache) and memoizes the credential provider until the keys expire.
 */
export function createBedrockClient(options: BedrockClientOptions): BedrockRuntimeClient {
  assertOptions(options);
  const client = new BedrockRuntimeClient({
    region: options.region,
    maxAttempts: options.maxAttempts,
    requestHandler: requestHandlerFor(options.handler, options.maxSockets),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    // Two of the Logger's four methods, on purpose (log.ts).
    ...(options.log ? { logger: awsSdkLogger(options.log, 'bedrock-runtime') as BedrockRuntimeClientConfig['logger'] } : {}),
    ...((options.decoder ?? 'lean') === 'lean' ? { eventStreamSerdeProvider: leanEventStreamSerdeProvider } : {}),
    // With AWS_BEARER_TOKEN_BEDROCK set the SDK prefers bearer auth and would send that real token
    // to the emulator; pinning SigV4 with dummy keys keeps every real secret on this side.
    ...(options.credentials === 'emulator'
      ? { credentials: EMULATOR_CREDENTIALS, authSchemePreference: ['sigv4'] }
      : {}),
  });
  reuseEventStreamSerde(client);
  sendTraceContext(client);
  return client;
}

/**
 * Puts the active span's W3C trace context on every request (before signing, so it is signed too).
 * Without a registered propagator (tracing off) the API's propagator is a no-op and nothing is added.
 */
function sendTraceContext(client: BedrockRuntimeClient): void {
  client.middlewareStack.add((next) => (args) => {
    const { headers } = args.request as { headers?: Record<string, string> };
    if (headers) propagation.inject(context.active(), headers);
    return next(args);
  }, { step: 'build', name: 'aybizaTraceContext' });
}
