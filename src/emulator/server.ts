import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { epochMs } from '../clock.js';
import type { Logger } from '../log.js';
import { planAnswer, type PlannedAnswer } from './answer.js';
import { BedrockError, FAULT_MESSAGES, PRE_STREAM_FAULT_ERRORS, validation } from './bedrock-errors.js';
import { thinkingOf, validateConverseRequest, type ConverseRequest } from './converse-request.js';
import { createDualProtocolServer, type AnyRequest, type AnyResponse } from './dual-protocol.js';
import { answerControlPlane, isControlPlanePath } from './control-plane.js';
import { EventFrames } from './event-frames.js';
import { DEFAULT_STALL_MS, drawFault, faultRatesFor, isPreStreamFault, type StreamFault } from './faults.js';
import { BUILTIN_EMULATED_MODELS, isRetired, modelLookup, type EmulatedModel, type ModelLookup } from './model-facts.js';
import { PromptCache } from './prompt-cache.js';
import { RequestLog, type EmulatorOperation, type EmulatorRequestRecord } from './request-log.js';
import { demoScript, parseModelScript, type ModelScript, type ParsedModelScript } from './script.js';
import { redactedBlob, signReasoning } from './reasoning-signature.js';
import { seededRandom } from './seeded-random.js';
import { planStream, type StreamStep } from './stream-plan.js';
import { estimateTokens } from './token-pieces.js';

export type { EmulatorRequestRecord } from './request-log.js';

export interface EmulatorOptions {
  host?: string;
  port?: number;
  /** The behaviour for requests whose `requestMetadata.agent` has no script of its own. Default: {@link demoScript}. */
  script?: ModelScript;
  /** Per-agent behaviour, keyed by `requestMetadata.agent`. */
  scripts?: Record<string, ModelScript>;
  /** Seeds TTFT draws, fault draws and generated ids, so a run can be repeated. */
  seed?: number;
  /** Models served besides (or instead of, by id) those of src/config/bedrock-models.json, e.g. a configuration's additions. */
  models?: EmulatedModel[];
  /** Model or inference-profile ids whose control-plane reads answer AccessDeniedException, as for a role without the IAM action. */
  deniedControlPlaneIds?: string[];
  /** How many recent requests `requests()` keeps. Default 10,000. */
  requestLogSize?: number;
  /** Epoch ms for the receptionist's "today" when the agent's prompt states no date. Default: Date.now. */
  now?: () => number;
  log?: Logger;
}

export interface RunningEmulator {
  url: string;
  port: number;
  requests(filter?: { callId?: string }): EmulatorRequestRecord[];
  setScript(script: ModelScript, agent?: string): void;
  /** Called once per model request when it is answered, refused, fails or is aborted by the client. */
  onRequestClosed(listener: (record: EmulatorRequestRecord) => void): () => void;
  /** Settles when the listener fails or closes without `close` being called; never after `close`. */
  failed: Promise<Error>;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 20 * 1024 * 1024;
const MODEL_PATH = /^\/model\/([^/]+)\/(converse|converse-stream)$/;
const CREDENTIAL_REGION = /Credential=[^/,\s]+\/\d{8}\/([^/,\s]+)\//;

/** Everything one emulator instance owns; nothing is shared between instances. */
interface EmulatorState {
  log: RequestLog;
  random: () => number;
  cache: PromptCache;
  frames: EventFrames;
  defaultScript: ParsedModelScript;
  scripts: Map<string, ParsedModelScript>;
  models: ModelLookup;
  deniedControlPlaneIds: string[];
  listeners: Set<(record: EmulatorRequestRecord) => void>;
  now: () => number;
  logger?: Logger;
}

/** Starts a Bedrock Runtime emulator that the real SDK talks to over HTTP/2 (default) or HTTP/1.1. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const state: EmulatorState = {
    log: new RequestLog(options.requestLogSize ?? 10_000),
    random: seededRandom(options.seed ?? 1),
    cache: new PromptCache(),
    frames: new EventFrames(),
    defaultScript: parseModelScript(options.script ?? demoScript, 'script'),
    scripts: new Map(Object.entries(options.scripts ?? {}).map(([agent, script]) => [agent, parseModelScript(script, `scripts.${agent}`)])),
    models: modelLookup([...BUILTIN_EMULATED_MODELS.filter((model) => !options.models?.some((extra) => extra.id === model.id)), ...(options.models ?? [])]),
    deniedControlPlaneIds: options.deniedControlPlaneIds ?? [],
    listeners: new Set(),
    now: options.now ?? Date.now,
    ...(options.log ? { logger: options.log } : {}),
  };

  const dual = createDualProtocolServer((request, response) => {
    try {
      handle(state, request, response);
    } catch (error) {
      state.logger?.error({ event: 'emulator.handler_failed', err: error }, 'emulator request handler failed');
      sendError(response, new BedrockError('InternalServerException', 'The server encountered an internal error.'));
    }
  });
  const host = options.host ?? '127.0.0.1';
  // A burst of thousands of connections (one HTTP/2 session per SDK request) overflows the default backlog of 511.
  await dual.listen({ port: options.port ?? 0, host, backlog: 8_192 });
  const port = (dual.server.address() as AddressInfo).port;
  let closing = false;
  const failed = new Promise<Error>((resolve) => {
    dual.server.on('error', (error) => !closing && resolve(error));
    dual.server.once('close', () => !closing && resolve(new Error(`the emulator on port ${port} stopped listening`)));
  });

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    requests: (filter) => state.log.list(filter),
    setScript: (script, agent) => {
      const parsed = parseModelScript(script, agent === undefined ? 'script' : `scripts.${agent}`);
      if (agent === undefined) state.defaultScript = parsed;
      else state.scripts.set(agent, parsed);
    },
    onRequestClosed: (listener) => {
      state.listeners.add(listener);
      return () => state.listeners.delete(listener);
    },
    failed,
    close: () => {
      closing = true;
      return dual.close();
    },
  };
}

function handle(state: EmulatorState, request: AnyRequest, response: AnyResponse): void {
  request.on('error', () => undefined);
  response.on('error', () => undefined);
  const url = new URL(request.url ?? '/', 'http://emulator');
  if (request.method === 'GET' && url.pathname === '/_emulator/health') {
    return sendJson(response, 200, { status: 'ok', requests: state.log.size });
  }
  if (request.method === 'GET' && url.pathname === '/_emulator/requests') {
    const callId = url.searchParams.get('callId') ?? undefined;
    return sendJson(response, 200, state.log.list(callId === undefined ? {} : { callId }));
  }
  if (request.method === 'GET' && isControlPlanePath(url.pathname)) {
    const region = CREDENTIAL_REGION.exec(String(request.headers.authorization ?? ''))?.[1] ?? 'us-east-1';
    try {
      return answerControlPlane(state.models, url.pathname, region, new Date(epochMs()).toISOString().slice(0, 10), (body) => sendJson(response, 200, body), state.deniedControlPlaneIds);
    } catch (error) {
      return sendError(response, error instanceof BedrockError ? error : new BedrockError('InternalServerException', 'The server encountered an internal error.'));
    }
  }
  const route = MODEL_PATH.exec(url.pathname);
  if (request.method !== 'POST' || !route) {
    return sendError(response, new BedrockError('UnknownOperationException', `No operation matches ${request.method} ${url.pathname}`));
  }
  const receivedAt = epochMs();
  const received = performance.now();
  const operation: EmulatorOperation = route[2] === 'converse-stream' ? 'ConverseStream' : 'Converse';
  const record: EmulatorRequestRecord = {
    id: randomUUID(),
    modelId: safeDecode(route[1]!),
    region: CREDENTIAL_REGION.exec(String(request.headers.authorization ?? ''))?.[1] ?? '',
    operation,
    ...(typeof request.headers.traceparent === 'string' ? { traceparent: request.headers.traceparent } : {}),
    body: undefined,
    status: 0,
    receivedAt,
    aborted: false,
  };
  readBody(request, (error, text) => {
    if (error instanceof BedrockError) {
      state.log.add(record);
      return refuse(state, record, response, error);
    }
    if (error || text === undefined) {
      record.aborted = true;
      return closeRecord(state, record);
    }
    answer(state, { record, received, text }, response);
  });
}

interface Exchange {
  record: EmulatorRequestRecord;
  received: number;
  text: string;
}

function answer(state: EmulatorState, exchange: Exchange, response: AnyResponse): void {
  const { record } = exchange;
  let body: unknown;
  try {
    body = parseJson(exchange.text);
  } catch (error) {
    record.body = exchange.text.slice(0, 10_000);
    state.log.add(record);
    return refuse(state, record, response, error);
  }
  record.body = body;
  describeCall(record, body);
  state.log.add(record);
  let request: ConverseRequest;
  let model: EmulatedModel;
  try {
    const found = state.models.find(record.modelId);
    // Bedrock answers a retired model's id as it answers an id it never had (reported for 3.7 Sonnet).
    if (!found || isRetired(found.model, new Date(epochMs()).toISOString().slice(0, 10))) throw validation('The provided model identifier is invalid.');
    model = found.model;
    if (model.profileOnly && found.profile === undefined) {
      throw validation(`Invocation of model ID ${record.modelId} with on-demand throughput isn\u2019t supported. Retry your request with the ID or ARN of an inference profile that contains this model.`);
    }
    request = validateConverseRequest(body, model);
  } catch (error) {
    return refuse(state, record, response, error);
  }

  const script = (record.agent !== undefined ? state.scripts.get(record.agent) : undefined) ?? state.defaultScript;
  const rates = faultRatesFor(script.faults, record.modelId, record.region);
  const fault = drawFault(rates, state.random, record.operation === 'ConverseStream');
  if (fault !== undefined && isPreStreamFault(fault)) {
    record.fault = fault;
    return refuse(state, record, response, new BedrockError(PRE_STREAM_FAULT_ERRORS[fault], FAULT_MESSAGES[fault]));
  }

  const ttftMs = drawTtft(script, state.random);
  const planned = planAnswer(script, request, { thinkingEnabled: thinkingOf(request) !== undefined, random: state.random, now: state.now });
  const usage = usageOf(state, record.modelId, model.minCacheTokens, exchange.text, request, planned);
  record.status = 200;
  record.stopReason = planned.stopReason;
  if (record.operation === 'Converse') return answerWhole(state, exchange, response, { planned, usage, ttftMs, tokensPerSecond: script.tokensPerSecond });

  const streamFault = fault as StreamFault | undefined;
  if (streamFault) record.fault = streamFault;
  const steps = planStream(planned, {
    ttftMs,
    tokensPerSecond: script.tokensPerSecond,
    ...(streamFault ? { fault: streamFault } : {}),
    stallMs: rates.stallMs ?? DEFAULT_STALL_MS,
    usage,
    signature: signReasoning(planned.thinking ?? ''),
    ...(planned.redacted ? { redactedContent: Buffer.from(redactedBlob(state.random)).toString('base64') } : {}),
    toolUseStreaming: script.toolUseStreaming,
  });
  streamSteps(state, exchange, response, steps);
}

/** Writes the planned frames on time: one timer per step, frames that are already due go out in one write. */
function streamSteps(state: EmulatorState, exchange: Exchange, response: AnyResponse, steps: StreamStep[]): void {
  const { record, received } = exchange;
  let next = 0;
  let timer: NodeJS.Timeout | undefined;
  let finished = false;

  response.once('close', () => {
    if (finished) return;
    finished = true;
    if (timer) clearTimeout(timer);
    record.aborted = true;
    closeRecord(state, record);
  });
  response.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': record.id });

  const schedule = () => {
    timer = setTimeout(pump, Math.max(0, steps[next]!.atMs - (performance.now() - received)));
  };
  const pump = () => {
    timer = undefined;
    if (finished) return;
    const elapsed = performance.now() - received;
    const chunks: Uint8Array[] = [];
    const now = epochMs();
    while (next < steps.length && steps[next]!.atMs <= elapsed + 1) {
      const step = steps[next++]!;
      chunks.push(encodeStep(state.frames, step, elapsed, record));
      if (step.delta) {
        record.firstTokenAt ??= now;
        record.lastTokenAt = now;
      }
      if (step.sentenceEnd) record.firstSentenceEndAt ??= now;
    }
    const writable = chunks.length === 0 || (response as NodeJS.WritableStream).write(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    if (next >= steps.length) {
      finished = true;
      response.end();
      record.completedAt = epochMs();
      return closeRecord(state, record);
    }
    if (writable) schedule();
    else response.once('drain', schedule);
  };
  schedule();
}

function encodeStep(frames: EventFrames, step: StreamStep, elapsedMs: number, record: EmulatorRequestRecord): Uint8Array {
  const { frame } = step;
  switch (frame.type) {
    case 'event':
      return frames.event(frame.name, frame.payload);
    case 'metadata':
      return frames.event('metadata', { usage: frame.usage, metrics: { latencyMs: Math.round(elapsedMs) } });
    case 'exception':
      record.errorType = frame.name;
      record.errorMessage = frame.payload.message;
      return frames.exception(frame.name, frame.payload);
    case 'corrupt':
      return frames.corrupted(frame.name, frame.payload);
  }
}

interface WholeAnswer {
  planned: PlannedAnswer;
  usage: Record<string, number>;
  ttftMs: number;
  tokensPerSecond: number;
}

/** Converse without streaming: the whole message after the time the stream would have taken. */
function answerWhole(state: EmulatorState, exchange: Exchange, response: AnyResponse, whole: WholeAnswer): void {
  const { record, received } = exchange;
  const { planned } = whole;
  const delayMs = whole.ttftMs + (planned.outputTokens * 1_000) / whole.tokensPerSecond;
  let finished = false;
  const timer = setTimeout(() => {
    finished = true;
    const now = epochMs();
    record.firstTokenAt = now;
    record.lastTokenAt = now;
    if (planned.text) record.firstSentenceEndAt = now;
    const content = [
      ...(planned.thinking ? [planned.redacted
        ? { reasoningContent: { redactedContent: Buffer.from(redactedBlob(state.random)).toString('base64') } }
        : { reasoningContent: { reasoningText: { text: planned.thinking, signature: signReasoning(planned.thinking) } } }] : []),
      ...(planned.text ? [{ text: planned.text }] : []),
      ...planned.toolUses.map((use) => ({ toolUse: use })),
    ];
    sendJson(response, 200, {
      output: { message: { role: 'assistant', content } },
      stopReason: planned.stopReason,
      usage: whole.usage,
      metrics: { latencyMs: Math.round(performance.now() - received) },
    }, record.id);
    record.completedAt = epochMs();
    closeRecord(state, record);
  }, delayMs);
  response.once('close', () => {
    if (finished) return;
    clearTimeout(timer);
    record.aborted = true;
    closeRecord(state, record);
  });
}

function usageOf(state: EmulatorState, modelId: string, minCacheTokens: number, bodyText: string, request: ConverseRequest, planned: PlannedAnswer): Record<string, number> {
  const promptTokens = estimateTokens(bodyText.length);
  const cache = state.cache.account(modelId, minCacheTokens, request);
  const cached = cache ? cache.cacheReadInputTokens + cache.cacheWriteInputTokens : 0;
  const inputTokens = Math.max(1, promptTokens - cached);
  return {
    inputTokens,
    outputTokens: planned.outputTokens,
    totalTokens: inputTokens + cached + planned.outputTokens,
    ...(cache ?? {}),
  };
}

function drawTtft(script: ParsedModelScript, random: () => number): number {
  const ttft = script.ttftMs;
  return typeof ttft === 'number' ? ttft : ttft.min + random() * (ttft.max - ttft.min);
}

/** Call identity from `requestMetadata` (all values are strings on the wire). */
function describeCall(record: EmulatorRequestRecord, body: unknown): void {
  const metadata = (body as { requestMetadata?: unknown } | null)?.requestMetadata;
  if (typeof metadata !== 'object' || metadata === null) return;
  const { callId, turn, agent } = metadata as Record<string, unknown>;
  if (typeof callId === 'string') record.callId = callId;
  if (typeof agent === 'string') record.agent = agent;
  const turnNumber = Number(turn);
  if (turn !== undefined && turn !== '' && Number.isFinite(turnNumber)) record.turn = turnNumber;
}

function refuse(state: EmulatorState, record: EmulatorRequestRecord, response: AnyResponse, error: unknown): void {
  const refusal = error instanceof BedrockError ? error : new BedrockError('InternalServerException', 'The server encountered an internal error.');
  if (!(error instanceof BedrockError)) state.logger?.error({ event: 'emulator.request_failed', callId: record.callId, err: error }, 'emulator failed on a request');
  record.status = refusal.status;
  record.errorType = refusal.errorType;
  record.errorMessage = refusal.message;
  sendError(response, refusal, record.id);
  record.completedAt = epochMs();
  closeRecord(state, record);
}

function closeRecord(state: EmulatorState, record: EmulatorRequestRecord): void {
  for (const listener of state.listeners) {
    try {
      listener({ ...record });
    } catch (error) {
      state.logger?.warn({ event: 'emulator.listener_failed', callId: record.callId, err: error }, 'a request listener threw');
    }
  }
}

function sendError(response: AnyResponse, error: BedrockError, requestId: string = randomUUID()): void {
  if (response.headersSent || response.destroyed) return;
  response.writeHead(error.status, {
    'content-type': 'application/json',
    'x-amzn-errortype': error.errorTypeHeader,
    'x-amzn-requestid': requestId,
  });
  response.end(JSON.stringify({ message: error.message }));
}

function sendJson(response: AnyResponse, status: number, value: unknown, requestId?: string): void {
  if (response.headersSent || response.destroyed) return;
  response.writeHead(status, { 'content-type': 'application/json', ...(requestId ? { 'x-amzn-requestid': requestId } : {}) });
  response.end(JSON.stringify(value));
}

function readBody(request: AnyRequest, done: (error: Error | undefined, text?: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let settled = false;
  const settle = (error: Error | undefined, text?: string) => {
    if (settled) return;
    settled = true;
    done(error, text);
  };
  request.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      settle(validation(`The request body exceeds ${MAX_BODY_BYTES} bytes.`));
      request.removeAllListeners('data');
      return;
    }
    chunks.push(chunk);
  });
  request.on('end', () => settle(undefined, Buffer.concat(chunks).toString('utf8')));
  request.on('aborted', () => settle(new Error('client aborted the request body')));
  request.on('error', (error) => settle(error));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw validation('Malformed input request, please reformat your input and try again.');
  }
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
