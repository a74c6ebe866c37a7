import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { epochMs } from '../clock.js';
import { buildEntries, createCatalogue, lifecycleOn, UnknownModelError } from './catalogue.js';
import { modelsSchema } from './models-config.js';

const port = z.int().min(0).max(65_535);
const positiveInt = z.int().min(1);
const nonNegativeInt = z.int().min(0);
const url = z.url();

/** `<repo>/scenarios/fixtures`, found from this file whether it runs from `src/` (tsx) or `dist/src/`. */
export function defaultFixturesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'scenarios'))) return join(dir, 'scenarios', 'fixtures');
    const parent = dirname(dir);
    if (parent === dir) return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scenarios', 'fixtures');
    dir = parent;
  }
}

const serverSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: port.default(8080),
  metricsPort: port.default(9464),
  /** Where `/metrics`, `/healthz` and `/readyz` listen, apart from `host`: beyond loopback it needs `metricsToken`. */
  metricsHost: z.string().min(1).default('127.0.0.1'),
  /** Bearer token `/metrics` requires (`Authorization: Bearer …`); never logged. The probes stay open. */
  metricsToken: z.string().min(16, 'a token of at least 16 characters').optional(),
  /** Serve `/metrics` beyond loopback without a token (a warning is logged at start). */
  metricsUnauthenticated: z.boolean().default(false),
  backlog: positiveInt.default(2048),
  apiKeys: z.array(z.string().min(8, 'an API key of at least 8 characters')).default([]),
  /** Keys among `apiKeys` whose call records (`GET /v1/calls`) show phone numbers in full; every other key sees them masked. */
  unmaskedNumberKeys: z.array(z.string().min(8, 'an API key of at least 8 characters')).default([]),
  /** Browser origins (`https://host:port`, or `*`) besides the server's own that may open WebSocket calls. */
  allowedOrigins: z.array(z.string().min(1)).default([]),
  /**
   * Processes answering calls on the one `port` (node:cluster); `auto` = the cores available. Above
   * 1 the hot memory must be Redis, so a call dropped on one worker resumes on another.
   */
  workers: z.union([positiveInt, z.literal('auto')], { error: "expected an integer of at least 1 or 'auto'" })
    .default(1).transform((workers) => (workers === 'auto' ? availableParallelism() : workers)),
  maxCalls: positiveInt.default(5000),
  /**
   * Calls one API key may hold at once (suspended ones included; without keys all of loopback is
   * one key). Set it below maxCalls when several key holders share a node, so none can lock the others out.
   */
  maxCallsPerKey: positiveInt.default(5000),
  /**
   * New calls are refused while the event loop's median delay over the last 2 s exceeds this; 0 = off.
   * 250, not less: at 100 a cold node taking 400 new calls/s refused 1,186 of 8,000 that it then
   * served without the guard at a turn p99 of 1.3 s (docs/capacity.md, "Overload guard").
   */
  maxEventLoopLagMs: nonNegativeInt.default(250),
  resumeGraceMs: nonNegativeInt.default(10_000),
  drainTimeoutMs: nonNegativeInt.default(20_000),
  maxFrameBytes: positiveInt.default(65_536),
  hardMaxFrameBytes: positiveInt.default(1_048_576),
  maxTranscriptChars: positiveInt.default(4_000),
  framesPerSecond: positiveInt.default(50),
  sendBufferBytes: positiveInt.default(1_048_576),
  // Connection bounds (src/telephony/socket-guard.ts): what a peer that never finishes can hold.
  /** From TCP accept to a completed WebSocket upgrade. */
  handshakeTimeoutMs: positiveInt.default(10_000),
  /** From the upgrade to the `start` frame. */
  startTimeoutMs: positiveInt.default(10_000),
  /** WebSocket ping interval; a peer that missed the previous pong is closed (half-open). 0 = off. */
  pingIntervalMs: nonNegativeInt.default(15_000),
  /** Open connections to the calls port; keep below `ulimit -n` minus the descriptors Redis, DynamoDB and Bedrock clients need. */
  maxConnections: positiveInt.default(10_000),
  /** Open connections from one remote address (a gateway behind one address needs as many as its calls). */
  maxConnectionsPerAddress: positiveInt.default(5_000),
  /** How long one socket may hold an unfinished (fragmented) message. */
  messageAssemblyTimeoutMs: positiveInt.default(5_000),
  /** Bytes of unfinished messages all sockets together may hold. */
  maxAssemblyBytes: positiveInt.default(67_108_864),
});

const bedrockSchema = z.strictObject({
  /** `auto` is resolved by loadConfig from the environment; the schema alone takes the free choice. */
  mode: z.enum(['aws', 'emulator'], { error: "expected 'auto', 'aws' or 'emulator'" }).default('emulator'),
  endpoint: url.optional(),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region such as us-east-1').optional(),
  fallbackRegion: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region such as us-west-2').optional(),
  // Streams multiplexed over shared HTTP/2 sessions carry the most concurrent calls (bench/stream-client.ts).
  requestHandler: z.enum(['h2-session', 'h2-shared', 'http1']).default('h2-shared'),
  maxSockets: positiveInt.default(256),
  maxAttempts: positiveInt.max(10).default(1),
  // The SDK's own per-event deserializer stays selectable for comparison and debugging (src/llm/event-stream-decoder.ts).
  decoder: z.enum(['lean', 'sdk']).default('lean'),
  idleTimeoutMs: positiveInt.default(10_000),
  firstEventTimeoutMs: positiveInt.default(8_000),
});

/** Amazon Transcribe (caller audio → words) and Amazon Polly (words → audio) for audio transports (Twilio). */
const speechSchema = z.strictObject({
  /** `auto` follows bedrock.mode (resolved by loadConfig); `emulator` embeds the Transcribe and Polly emulators. */
  mode: z.enum(['aws', 'emulator'], { error: "expected 'auto', 'aws' or 'emulator'" }).optional(),
  /** Omitted: bedrock.region. Transcribe and Polly bill per region. */
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region such as us-east-1').optional(),
  transcribeEndpoint: url.optional(),
  pollyEndpoint: url.optional(),
  /** The embedded Transcribe emulator's endpointing silence (real Transcribe decides this itself). */
  emulatorEndOfSpeechMs: positiveInt.default(600),
  // The SDK's own audio-event signer stays selectable for comparison and debugging (src/speech/event-signing.ts).
  transcribeEncoder: z.enum(['lean', 'sdk']).default('lean'),
  /** `POST /v1/speech` on the telephony port: a `say` chunk as WAV, for the softphone's "Agent voice: server". */
  browserAudio: z.strictObject({
    enabled: z.boolean().default(false),
    /** `polly`: Amazon Polly in `speech.mode` (the emulator's is the emulated speech code, tones); `espeak`: the local espeak-ng voice, no AWS. */
    synthesizer: z.enum(['polly', 'espeak'], { error: "expected 'polly' or 'espeak'" }).default('polly'),
    /** Longer texts are refused with 413: a `say` chunk is a sentence or two. */
    maxChars: positiveInt.default(1_000),
  }).prefault({}),
});

/** One agent's voice and ears on an audio transport. */
const agentSpeechSchema = z.strictObject({
  /** Omitted: speech.region. An agent whose language Transcribe or its voice Polly offers only elsewhere. */
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region such as eu-west-1').optional(),
  /** Omitted: speech.transcribeEndpoint (or the region's). A VPC endpoint, or an emulator of this agent's own. */
  transcribeEndpoint: url.optional(),
  /** Omitted: speech.pollyEndpoint (or the region's). */
  pollyEndpoint: url.optional(),
  stt: z.strictObject({
    languageCode: z.string().regex(/^[a-z]{2}-[A-Z]{2}$/, 'a Transcribe language code such as en-US').default('en-US'),
    vocabularyName: z.string().min(1).max(200).optional(),
  }).prefault({}),
  tts: z.strictObject({
    voiceId: z.string().min(1).default('Joanna'),
    engine: z.enum(['standard', 'neural', 'long-form', 'generative']).default('neural'),
  }).prefault({}),
  /** Short acknowledgements that do not interrupt the agent; omitted: the built-in list (src/speech/backchannel.ts). */
  backchannels: z.array(z.string().min(1)).optional(),
  /** Said when the caller's words were lost with a failed speech-to-text stream. */
  repeatPrompt: z.string().min(1).optional(),
});

const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'an E.164 number such as +15551000000');

/** A Twilio Account SID, and the shortest auth token taken: `aybiza load --transport twilio --url` holds its flags to the same. */
export const TWILIO_ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
export const TWILIO_AUTH_TOKEN_MIN_CHARS = 16;

/** Twilio Media Streams (src/telephony/twilio/): a Twilio number's voice webhook pointed at serve. */
const twilioSchema = z.strictObject({
  enabled: z.boolean().default(false),
  accountSid: z.string().regex(TWILIO_ACCOUNT_SID, 'a Twilio Account SID: AC and 32 hex digits').optional(),
  /** Signs webhooks and authenticates REST calls; never logged. */
  authToken: z.string().min(TWILIO_AUTH_TOKEN_MIN_CHARS, 'a Twilio auth token (32 characters)').optional(),
  /** The https:// URL Twilio reaches serve at (behind a proxy, not what serve sees): signatures cover it, the stream URL is built from it. */
  publicUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** Twilio's REST API (call updates); the Twilio emulator's URL in tests. */
  apiBaseUrl: z.url({ protocol: /^https?$/ }).default('https://api.twilio.com'),
  /** Called number (`To`) → agent; other numbers get `defaultAgent`. */
  numbers: z.record(e164, z.string().min(1)).default({}),
  defaultAgent: z.string().min(1).default('default'),
  /** `transfer_call` targets that are names (front-desk) → the number or SIP URI `<Dial>` rings. */
  transferTargets: z.record(z.string().min(1), z.string().regex(/^(\+[1-9]\d{6,14}|sips?:\S+)$/, 'an E.164 number or a SIP URI')).default({}),
  /** How long the one-time stream token in the TwiML stays valid. */
  streamTokenTtlMs: positiveInt.default(30_000),
  /** Refuse a media-stream upgrade without a valid X-Twilio-Signature (off only behind a proxy that strips it). */
  requireStreamSignature: z.boolean().default(true),
});

export const DEFAULT_CANNED_ANSWER = "Sorry, I'm having trouble right now. Could you say that again in a moment?";
export const DEFAULT_IDLE_REPROMPT = 'Are you still there?';
export const DEFAULT_IDLE_GOODBYE = "I haven't heard anything for a while, so I'll end the call now. Please call us back any time. Goodbye.";

/** An agent configured without a prompt still answers, as a plain phone assistant. */
export const DEFAULT_SYSTEM_PROMPT = 'You are a friendly assistant answering a phone call. Keep each answer to one or two short, speakable sentences, and ask when something is unclear.';

const agentSchema = z.strictObject({
  systemPrompt: z.string().min(1).default(DEFAULT_SYSTEM_PROMPT),
  tools: z.array(z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'a tool name of 1–64 letters, digits, _ or -')).default([]),
  model: z.string().min(1).default('sonnet'),
  thinking: z.strictObject({
    budgetTokens: z.int().min(1024),
    interleaved: z.boolean().default(false),
  }).optional(),
  maxTokens: positiveInt.default(1024),
  /**
   * Bedrock's service tier for this agent's requests (`priority` costs more and is served first,
   * `flex` costs less and may wait); unset sends none, which Bedrock serves as `default`.
   */
  serviceTier: z.enum(['priority', 'default', 'flex']).optional(),
  /** The tier of a call's first answer, where the caller waits longest in silence (e.g. `priority`). */
  firstAnswerServiceTier: z.enum(['priority', 'default', 'flex']).optional(),
  /** Sent only when set and thinking is off (thinking refuses temperature). */
  temperature: z.number().min(0).max(1).optional(),
  windowMessages: positiveInt.default(20),
  maxContextTokens: positiveInt.optional(),
  maxCostUsd: z.number().positive().optional(),
  cannedAnswer: z.string().min(1).default(DEFAULT_CANNED_ANSWER),
  // Caps no model can talk its way past (test/reliability/budget-bypass.test.ts): past one the caller
  // hears `cannedAnswer` (tool rounds) or the budget goodbye (requests), never silence.
  /** Tool rounds one turn may run; a model still asking for tools after them gets no more. */
  maxToolRoundsPerTurn: positiveInt.default(8),
  /** Model requests one call may send, retries and fallback hops included. */
  maxModelRequestsPerCall: positiveInt.default(500),
  /** Caller silence while listening before the agent asks `idleReprompt`; 0 = never. */
  idleRepromptMs: nonNegativeInt.default(15_000),
  /** Caller silence while listening (counted from the same moment) before the agent says `idleGoodbye` and hangs up; 0 = never. */
  idleHangupMs: nonNegativeInt.default(45_000),
  idleReprompt: z.string().min(1).default(DEFAULT_IDLE_REPROMPT),
  idleGoodbye: z.string().min(1).default(DEFAULT_IDLE_GOODBYE),
  /**
   * Reuse the answer to a call's opening question when another caller asked the same (memory's
   * response cache): FAQ lines answer without a model call. Off by default: only for agents whose
   * first answers do not depend on who calls.
   */
  cacheFirstAnswers: z.boolean().default(false),
  /**
   * Put what the caller said and what the agent said into the call's log lines (`turn.transcript`),
   * phone numbers masked. Off by default: callers' words are personal data; the call record keeps them.
   */
  logTranscripts: z.boolean().default(false),
  dtmf: z.strictObject({ speakDigits: z.boolean().default(true) }).prefault({}),
  /** A name in `tools.knowledgeBases`: this agent's `search_knowledge` retrieves from it instead of the fixture articles. */
  knowledgeBase: z.string().min(1).optional(),
  /** What tools may do for the caller whatever the model asks (src/tools/policy.ts); by default the demo's teams, the caller's own record and address. */
  toolPolicy: z.strictObject({
    /** Team names, E.164 numbers or SIP URIs `transfer_call` may use; `*` matches any run of characters. */
    transferTargets: z.array(z.string().min(1).max(256)).default(['front-desk', 'billing', 'on-call-dentist']),
    /** Let `lookup_customer` read any record, not only the calling number's. */
    lookupAnyCustomer: z.boolean().default(false),
    /** Addresses `send_email` may use besides the caller's own record's; `*` matches any run of characters. */
    emailRecipients: z.array(z.string().min(1).max(254)).default([]),
  }).prefault({}),
  speech: agentSpeechSchema.prefault({}),
});

const routerSchema = z.strictObject({
  /** The middle of the ladder: ordinary turns. */
  defaultModel: z.string().min(1).default('sonnet'),
  /** Long or complex asks. */
  complexModel: z.string().min(1).default('opus'),
  /** Short chit-chat. */
  simpleModel: z.string().min(1).default('haiku'),
  complexKeywords: z.array(z.string().min(1)).default([
    'why', 'explain', 'compare', 'difference', 'troubleshoot', 'not working', 'broken', 'complicated',
    'problem', 'insurance', 'refund', 'complaint', 'cancel my',
  ]),
  /** At or above this many words an utterance counts as complex. */
  complexMinWords: positiveInt.default(40),
  /** At or below this many words an utterance may go to the simple model. */
  simpleMaxWords: positiveInt.default(6),
  /** Short utterances made only of these phrases go to the simple model even when tools are available. */
  chitChat: z.array(z.string().min(1)).default([
    'hi', 'hello', 'hey', 'good morning', 'good afternoon', 'thanks', 'thank you', 'bye', 'goodbye', 'ok', 'okay', 'great',
  ]),
  /** Share of an agent's maxCostUsd after which the router steps down one tier. */
  budgetStepDownFraction: z.number().min(0).max(1).default(0.8),
});

const memorySchema = z.strictObject({
  hot: z.enum(['auto', 'redis', 'memory']).default('auto'),
  redisUrl: z.string().refine(isRedisUrl, 'a redis:// or rediss:// URL').default('redis://127.0.0.1:6379'),
  keyPrefix: z.string().default('aybiza:'),
  hotTtlSeconds: positiveInt.default(86_400),
  /** Omitted: `embedded` in emulator mode, `aws` (DynamoDB, costs money) in aws mode. */
  durable: z.enum(['embedded', 'aws', 'none']).optional(),
  dynamoEndpoint: url.optional(),
  tableName: z.string().regex(/^[a-zA-Z0-9_.-]{3,255}$/, 'a DynamoDB table name').default('aybiza-conversations'),
  dataDir: z.string().min(1).default('.aybiza/data'),
  writeBehind: z.strictObject({
    maxBatch: positiveInt.max(25).default(25),
    flushMs: positiveInt.default(50),
    maxQueue: positiveInt.default(10_000),
  }).prefault({}),
  responseCache: z.strictObject({
    enabled: z.boolean().default(true),
    ttlSeconds: positiveInt.default(300),
    maxEntries: positiveInt.default(10_000),
  }).prefault({}),
});

/** A tool answered by your own HTTPS endpoint (src/tools/backends/webhook.ts); agents name it in `tools`. */
const webhookToolSchema = z.strictObject({
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'letters, digits, _ and -, at most 64'),
  description: z.string().min(1),
  inputSchema: z.record(z.string(), z.unknown()),
  url: z.url({ protocol: /^https?$/ }),
  timeoutMs: positiveInt.optional(),
  filler: z.string().min(1).optional(),
  maxResponseBytes: positiveInt.default(65_536),
  /** Hosts that may be plain HTTP or resolve to private addresses; every other host must be public HTTPS. */
  allowHosts: z.array(z.string().min(1)).default([]),
  /** Sent with every request, e.g. Authorization; never logged. */
  headers: z.record(z.string(), z.string()).default({}),
});

const awsRegion = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region such as us-east-1');

/** `execute_code` (src/tools/backends/lambda.ts): the model's expression goes to this Lambda function; needs `lambda:InvokeFunction`. */
const executeCodeSchema = z.strictObject({
  /** Name, `name:alias`, partial or full ARN. */
  functionName: z.string().min(1).max(170).default('execute-code'),
  qualifier: z.string().regex(/^(\$LATEST|[a-zA-Z0-9_-]{1,128})$/, 'a version or alias').optional(),
  timeoutMs: positiveInt.default(5_000),
  /** Request and response payload cap; Lambda's own synchronous limit is 6 MB. */
  maxPayloadBytes: positiveInt.max(6_291_456).default(65_536),
  /** A Lambda endpoint (an emulator's URL), for Lambda connectors too; unset: AWS in `tools.region`, or the embedded emulator in emulator mode. */
  endpoint: url.optional(),
});

/**
 * A knowledge base `search_knowledge` answers from for the agents that name it: an Amazon Kendra
 * index (`kendra:Retrieve`) or an Amazon Bedrock knowledge base (`bedrock:Retrieve`).
 */
const knowledgeBaseSchema = z.strictObject({
  backend: z.enum(['kendra', 'bedrock-kb']),
  /** The Kendra index id (backend `kendra`). */
  indexId: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9-]{35}$/, 'a Kendra index id of 36 letters, digits and -').optional(),
  /** The knowledge base id (backend `bedrock-kb`). */
  knowledgeBaseId: z.string().regex(/^[0-9a-zA-Z]{1,10}$/, 'a knowledge base id of up to 10 letters and digits').optional(),
  /** Passages scoring below this (0–1; Kendra's confidence buckets count as 0, .25, .5, .75) are not used: the agent says it does not know. */
  minScore: z.number().min(0).max(1).default(0.25),
  maxResults: positiveInt.max(20).default(3),
  /** One Retrieve, including the first one's connection set-up. */
  timeoutMs: positiveInt.default(5_000),
  /** An endpoint (an emulator's URL); unset: AWS in `tools.region`, or the embedded knowledge emulator in emulator mode. */
  endpoint: url.optional(),
}).superRefine((base, ctx) => {
  if (base.backend === 'kendra' && !base.indexId) ctx.addIssue({ code: 'custom', path: ['indexId'], input: undefined, message: 'an indexId for backend kendra' });
  if (base.backend === 'bedrock-kb' && !base.knowledgeBaseId) ctx.addIssue({ code: 'custom', path: ['knowledgeBaseId'], input: undefined, message: 'a knowledgeBaseId for backend bedrock-kb' });
});

const toolName = z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'letters, digits, _ and -, at most 64');

/**
 * An MCP server (src/tools/backends/mcp.ts) reached with the official SDK: a stdio `command`, or a
 * Streamable HTTP `url`. Its tools are offered under their names made Bedrock-safe; agents name them in `tools`.
 */
const mcpServerSchema = z.strictObject({
  name: toolName,
  command: z.string().min(1).optional(),
  args: z.array(z.string()).default([]),
  /** Added to the SDK's safe default environment (PATH, HOME…); never logged. */
  env: z.record(z.string(), z.string()).default({}),
  cwd: z.string().min(1).optional(),
  url: z.url({ protocol: /^https?$/ }).optional(),
  /** Sent with every HTTP request, e.g. Authorization; never logged. */
  headers: z.record(z.string(), z.string()).default({}),
  /** MCP tool names (as the server names them) to offer; omitted: all. */
  allowTools: z.array(z.string().min(1)).optional(),
  callTimeoutMs: positiveInt.default(5_000),
  connectTimeoutMs: positiveInt.default(10_000),
  /** Start without it when it cannot be reached (its connector tools answer "unavailable" until it is back); otherwise serve refuses to start. */
  optional: z.boolean().default(false),
}).refine((server) => (server.command === undefined) !== (server.url === undefined), 'either command (stdio) or url (Streamable HTTP), not both');

/**
 * A tool declared in configuration (the design's create_connector): name, description and input
 * schema here, answered by a webhook, a Lambda function or an MCP server's tool.
 */
const connectorSchema = z.strictObject({
  name: toolName,
  description: z.string().min(1),
  inputSchema: z.record(z.string(), z.unknown()),
  timeoutMs: positiveInt.optional(),
  filler: z.string().min(1).optional(),
  /** Start with it marked unavailable when its backend cannot be reached; otherwise serve refuses to start. */
  optional: z.boolean().default(false),
  backend: z.discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('webhook'),
      url: z.url({ protocol: /^https?$/ }),
      headers: z.record(z.string(), z.string()).default({}),
      allowHosts: z.array(z.string().min(1)).default([]),
      maxResponseBytes: positiveInt.default(65_536),
    }),
    z.strictObject({
      type: z.literal('lambda'),
      functionName: z.string().min(1).max(170),
      qualifier: z.string().regex(/^(\$LATEST|[a-zA-Z0-9_-]{1,128})$/, 'a version or alias').optional(),
      maxPayloadBytes: positiveInt.max(6_291_456).default(65_536),
    }),
    z.strictObject({
      type: z.literal('mcp'),
      /** A name in `tools.mcp`. */
      server: toolName,
      /** The MCP tool's own name on that server. */
      tool: z.string().min(1),
    }),
  ]),
});

const toolsSchema = z.strictObject({
  defaultTimeoutMs: positiveInt.default(3_000),
  maxResultBytes: positiveInt.default(16_384),
  fixturesDir: z.string().min(1).default(defaultFixturesDir),
  webhooks: z.array(webhookToolSchema).default([]),
  /**
   * Where the AWS-backed tools (Lambda, Kendra, Bedrock Knowledge Bases) go: `emulator` starts the
   * embedded emulators for those without an endpoint. Omitted: follows `bedrock.mode`.
   */
  awsMode: z.enum(['aws', 'emulator']).optional(),
  /** Omitted: `bedrock.region`. */
  region: awsRegion.optional(),
  executeCode: executeCodeSchema.prefault({}),
  /** The embedded Lambda emulator's handlers (`NAME.mjs` exporting `handler`); omitted: the shipped ones (execute-code). */
  lambdaHandlersDir: z.string().min(1).optional(),
  /** Knowledge bases by name; an agent's `knowledgeBase` picks one for its `search_knowledge`. */
  knowledgeBases: z.record(z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'a name of letters, digits, _ or -'), knowledgeBaseSchema).default({}),
  /** The embedded knowledge emulator's documents (knowledge.json, .md, .txt); omitted: `fixturesDir`. */
  knowledgeDocumentsDir: z.string().min(1).optional(),
  mcp: z.array(mcpServerSchema).default([]),
  connectors: z.array(connectorSchema).default([]),
});

const accountingSchema = z.strictObject({
  // One worker per core beyond the event loop's: more steal CPU from the calls (bench/accounting.ts).
  poolSize: positiveInt.default(() => Math.max(1, availableParallelism() - 1)),
  queueMax: positiveInt.default(1_000),
  trimTimeoutMs: positiveInt.default(50),
});

const logSchema = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** The demo agent that answers when nothing else is configured. */
export const DEFAULT_AGENT = {
  systemPrompt: [
    'You are the receptionist of Harbor Dental, a family dental practice open Monday to Friday, nine to five.',
    'You help callers book, move or cancel appointments, answer questions about the practice, and transfer',
    'them to a person at the front desk when they ask or when you cannot help.',
    "Look the caller up by their phone number before booking, and confirm the date and time back to them.",
    'Never give medical advice; for pain or an emergency, offer the earliest appointment or a transfer.',
  ].join(' '),
  tools: ['lookup_customer', 'book_appointment', 'search_knowledge', 'transfer_call'],
  model: 'sonnet',
};

export const configSchema = z.strictObject({
  /** Free text for people reading a configuration file (JSON has no comments). */
  $comment: z.union([z.string(), z.array(z.string())]).optional(),
  server: serverSchema.prefault({}),
  bedrock: bedrockSchema.prefault({}),
  models: modelsSchema.prefault({}),
  agents: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'an agent name of lower-case letters, digits, _ or -'), agentSchema)
    .refine((agents) => 'default' in agents, 'an agent named "default"')
    .prefault({ default: DEFAULT_AGENT }),
  router: routerSchema.prefault({}),
  memory: memorySchema.prefault({}),
  tools: toolsSchema.prefault({}),
  accounting: accountingSchema.prefault({}),
  log: logSchema.prefault({}),
  speech: speechSchema.prefault({}),
  twilio: twilioSchema.prefault({}),
})
  .superRefine((config, ctx) => {
    refineTwilio(config, ctx);
    if (config.bedrock.mode === 'aws' && !config.bedrock.region) {
      ctx.addIssue({ code: 'custom', path: ['bedrock', 'region'], input: undefined, message: 'an explicit AWS region in aws mode (Bedrock bills per region; no silent default)' });
    }
    if (!isLoopbackHost(config.server.metricsHost) && !config.server.metricsToken && !config.server.metricsUnauthenticated) {
      ctx.addIssue({
        code: 'custom', path: ['server', 'metricsToken'], input: undefined,
        message: `a token of at least 16 characters, since /metrics listens on ${config.server.metricsHost}, beyond loopback (or AYBIZA_METRICS_UNAUTHENTICATED=1 to serve it to anyone who can reach it)`,
      });
    }
    if (config.server.maxFrameBytes > config.server.hardMaxFrameBytes) {
      ctx.addIssue({ code: 'custom', path: ['server', 'maxFrameBytes'], input: config.server.maxFrameBytes, message: `at most server.hardMaxFrameBytes (${config.server.hardMaxFrameBytes})` });
    }
    const { problems } = buildEntries(config.models);
    for (const problem of problems) {
      ctx.addIssue({ code: 'custom', path: ['models', ...problem.path], input: problem.value, message: problem.expected });
    }
    if (problems.length > 0) return;
    const catalogue = createCatalogue(config.models);
    const today = new Date(epochMs()).toISOString().slice(0, 10);
    const checkModel = (ref: string, path: (string | number)[]) => {
      try {
        const { entry } = catalogue.resolve(ref);
        const standing = lifecycleOn(entry, today);
        if (standing.state === 'eol') {
          const since = standing.eolDate ? ` on ${standing.eolDate}` : '';
          const instead = standing.replacement ? `; use ${standing.replacement} instead` : '';
          ctx.addIssue({ code: 'custom', path, input: ref, message: `a model Bedrock still serves: ${entry.alias} (${entry.id}) reached end of life${since}${instead}` });
        }
      } catch (error) {
        if (!(error instanceof UnknownModelError)) throw error;
        ctx.addIssue({ code: 'custom', path, input: ref, message: `a known model: ${error.known.join(', ')}, or 'auto' for agents` });
      }
    };
    const mcpServers = new Set(config.tools.mcp.map((server) => server.name));
    config.tools.connectors.forEach((connector, index) => {
      if (connector.backend.type === 'mcp' && !mcpServers.has(connector.backend.server)) {
        ctx.addIssue({ code: 'custom', path: ['tools', 'connectors', index, 'backend', 'server'], input: connector.backend.server, message: `a name in tools.mcp: ${[...mcpServers].join(', ') || '(none configured)'}` });
      }
    });
    for (const [name, agent] of Object.entries(config.agents)) {
      if (agent.knowledgeBase !== undefined && !(agent.knowledgeBase in config.tools.knowledgeBases)) {
        const known = Object.keys(config.tools.knowledgeBases).join(', ') || '(none configured)';
        ctx.addIssue({ code: 'custom', path: ['agents', name, 'knowledgeBase'], input: agent.knowledgeBase, message: `a name in tools.knowledgeBases: ${known}` });
      }
      if (agent.model !== 'auto') checkModel(agent.model, ['agents', name, 'model']);
      if (agent.idleRepromptMs > 0 && agent.idleHangupMs > 0 && agent.idleHangupMs <= agent.idleRepromptMs) {
        ctx.addIssue({
          code: 'custom', path: ['agents', name, 'idleHangupMs'], input: agent.idleHangupMs,
          message: `more than agents.${name}.idleRepromptMs (${agent.idleRepromptMs}), or 0: both count from the start of the silence`,
        });
      }
      if (agent.thinking && !agent.thinking.interleaved && agent.thinking.budgetTokens >= agent.maxTokens) {
        ctx.addIssue({
          code: 'custom', path: ['agents', name, 'thinking', 'budgetTokens'], input: agent.thinking.budgetTokens,
          message: `less than agents.${name}.maxTokens (${agent.maxTokens}); Bedrock refuses max_tokens ≤ budget_tokens unless thinking is interleaved`,
        });
      }
    }
    for (const key of ['defaultModel', 'complexModel', 'simpleModel'] as const) checkModel(config.router[key], ['router', key]);
  })
  .transform((config) => {
    const emulator = config.bedrock.mode === 'emulator';
    return {
      ...config,
      bedrock: {
        ...config.bedrock,
        // Only the emulator gets default regions: against AWS a region decides where money is spent,
        // and aws mode without one was refused above, so the region is always set from here on.
        region: config.bedrock.region ?? 'us-east-1',
        fallbackRegion: config.bedrock.fallbackRegion ?? (emulator ? 'us-west-2' : undefined),
      },
      speech: { ...config.speech, mode: config.speech.mode ?? config.bedrock.mode, region: config.speech.region ?? config.bedrock.region ?? 'us-east-1' },
      memory: { ...config.memory, durable: config.memory.durable ?? (emulator ? 'embedded' as const : 'aws' as const) },
      tools: { ...config.tools, awsMode: config.tools.awsMode ?? config.bedrock.mode, region: config.tools.region ?? config.bedrock.region ?? 'us-east-1' },
    };
  });

export type AybizaConfig = z.output<typeof configSchema>;
export type AgentConfig = z.output<typeof agentSchema>;
export type { ModelsConfig } from './models-config.js';
export type RouterConfig = z.output<typeof routerSchema>;
export type MemoryConfig = AybizaConfig['memory'];

/** Every model the configuration names (agents and router), by where it names it. */
export function configuredModelRefs(config: AybizaConfig): Map<string, string> {
  const refs = new Map<string, string>();
  for (const [name, agent] of Object.entries(config.agents)) if (agent.model !== 'auto') refs.set(`agents.${name}.model`, agent.model);
  for (const key of ['defaultModel', 'complexModel', 'simpleModel'] as const) refs.set(`router.${key}`, config.router[key]);
  return refs;
}

/**
 * One line per configured model that Bedrock has moved to Legacy, with its EOL date and replacement
 * when known; serve logs them at start (models past their EOL are refused by the schema itself).
 */
export function modelLifecycleWarnings(config: AybizaConfig, today = new Date(epochMs()).toISOString().slice(0, 10)): string[] {
  const catalogue = createCatalogue(config.models);
  const warnings: string[] = [];
  for (const [path, ref] of configuredModelRefs(config)) {
    const { entry } = catalogue.resolve(ref);
    const standing = lifecycleOn(entry, today);
    if (standing.state !== 'legacy') continue;
    const eol = standing.eolDate ? `its end of life on Bedrock is ${standing.eolDate}` : 'Bedrock has not announced its end-of-life date';
    const instead = standing.replacement ? `; move to ${standing.replacement}` : '';
    warnings.push(`${path}: ${entry.alias} (${entry.id}) is Legacy on Bedrock — ${eol}${instead}`);
  }
  return warnings;
}

/** An address only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

type ParsedConfig = z.infer<z.ZodObject<{ twilio: typeof twilioSchema; agents: z.ZodRecord<z.ZodString, typeof agentSchema> }>>;

/** Twilio on needs its account, token and public URL; every agent it names must exist. */
function refineTwilio(config: ParsedConfig, ctx: z.RefinementCtx): void {
  const { twilio } = config;
  if (!twilio.enabled) return;
  for (const key of ['accountSid', 'authToken', 'publicUrl'] as const) {
    if (!twilio[key]) ctx.addIssue({ code: 'custom', path: ['twilio', key], input: undefined, message: `a value when twilio.enabled is true` });
  }
  const agents = Object.keys(config.agents);
  const named: Array<[(string | number)[], string]> = [[['twilio', 'defaultAgent'], twilio.defaultAgent], ...Object.entries(twilio.numbers).map(([number, agent]): [(string | number)[], string] => [['twilio', 'numbers', number], agent])];
  for (const [path, agent] of named) {
    if (!agents.includes(agent)) ctx.addIssue({ code: 'custom', path, input: agent, message: `an agent that exists: ${agents.join(', ')}` });
  }
}

function isRedisUrl(value: string): boolean {
  try {
    return ['redis:', 'rediss:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}
