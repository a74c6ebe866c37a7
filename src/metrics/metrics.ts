import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type OpenMetricsContentType } from 'prom-client';
import type { TokenUsage } from '../llm/messages.js';
import { recordId } from './record-id.js';

/** Voice turn latencies: a human notices 300 ms, hesitates at 1 s, and gives up around 5–10 s. */
export const VOICE_LATENCY_BUCKETS_SECONDS = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.75, 1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10];
const STREAM_BUCKETS_SECONDS = [0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 60];
const TOOL_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];
const TASK_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

const MISNAMED_DEFAULT_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export type TrimFallbackReason = 'saturated' | 'timeout' | 'error';

/**
 * What the speech layer reports (`src/speech/`), one call at a time; `createMetrics().speech` feeds
 * Prometheus, and a speech module given none reports nowhere.
 */
export interface SpeechMetrics {
  /** The caller's last voiced frame → the final transcript of those words. */
  sttFinalLatency(seconds: number): void;
  /** A Transcribe stream failed and a new one was opened; `lostWords`: a partial had no final (the caller is asked to repeat). */
  sttStreamError(lostWords: boolean): void;
  /** A Polly request → its first audio byte (cached phrases are not requests). */
  ttsFirstByte(seconds: number): void;
  /** A Polly request failed: `retried` once and spoken, or `skipped` after the retry failed too. */
  ttsFailure(outcome: 'retried' | 'skipped'): void;
  /** The caller's last voiced frame → the agent's first audio frame after it. */
  mouthToEar(seconds: number): void;
  /** The agent was stopped: by `voice` (the caller kept talking) or by a `transcript` that was not a backchannel. */
  bargeIn(kind: 'voice' | 'transcript'): void;
  backchannelIgnored(): void;
  audioFrame(direction: 'in' | 'out'): void;
  /** An outbound frame sent after its playout time had passed (the caller heard a gap). */
  audioFrameLate(): void;
}

/** For speech modules nobody measures. */
export const UNMEASURED_SPEECH: SpeechMetrics = {
  sttFinalLatency() {},
  sttStreamError() {},
  ttsFirstByte() {},
  ttsFailure() {},
  mouthToEar() {},
  bargeIn() {},
  backchannelIgnored() {},
  audioFrame() {},
  audioFrameLate() {},
};

/**
 * Every metric the runtime exports, on one registry per instance so tests can build many. Labels
 * never carry call ids or phone numbers; a call is named only by the `record_id` exemplar on the
 * turn latency histogram (one sample per bucket, not one series per call), which grants nothing.
 */
export interface RuntimeMetrics {
  /** Renders Prometheus text by itself; `createExposition` renders OpenMetrics with exemplars too. */
  registry: Registry;
  modelTtft: Histogram<'model' | 'region'>;
  modelStreamDuration: Histogram<'model' | 'region'>;
  modelRequests: Counter<'model' | 'region' | 'outcome'>;
  tokens: Counter<'model' | 'kind'>;
  countTokens(modelId: string, usage: TokenUsage): void;
  costUsd: Counter<'model' | 'agent'>;
  fallbackHops: Counter<'reason' | 'kind'>;
  toolDuration: Histogram<'tool' | 'outcome' | 'backend'>;
  toolRefusals: Counter<'tool'>;
  /** Model requests or tool rounds a call's limits refused: `cost` (maxCostUsd), `model_requests`, `tool_rounds`. */
  budgetRefusals: Counter<'reason'>;
  turnLatency: Histogram;
  observeTurnLatency(seconds: number, callId: string): void;
  bargeIns: Counter;
  actorRestarts: Counter<'kind'>;
  callsEnded: Counter<'outcome'>;
  callEnded(outcome: string): void;
  setActiveCallsSource(read: () => number): void;
  frames: Counter<'direction'>;
  protocolErrors: Counter<'code'>;
  accountingTaskDuration: Histogram<'task'>;
  trimFallbacks: Counter<'reason'>;
  trimSkips: Counter;
  setAccountingQueueSource(read: () => number): void;
  setWriteQueueSource(read: () => number): void;
  setHotStoreErrorsSource(read: () => number): void;
  /** Queued memory writes the journal could not take (a crash now loses them). */
  setUnjournaledSource(read: () => number): void;
  responseCache: Counter<'result'>;
  speech: SpeechMetrics;
}

/** A counter its owner keeps as a running total, read at scrape time like `sourcedGauge`. */
function sourcedCounter(registry: Registry<OpenMetricsContentType>, name: string, help: string): (read: () => number) => void {
  let source: () => number = () => 0;
  let seen = 0;
  new Counter({
    name, help, registers: [registry],
    collect() {
      const total = source();
      if (total > seen) this.inc(total - seen);
      seen = Math.max(seen, total);
    },
  });
  return (read) => {
    source = read;
  };
}

/** A gauge read from its owner at scrape time, so the owner never has to remember to update it. */
function sourcedGauge(registry: Registry<OpenMetricsContentType>, name: string, help: string): (read: () => number) => void {
  let source: () => number = () => 0;
  new Gauge({
    name, help, registers: [registry],
    collect() { this.set(source()); },
  });
  return (read) => { source = read; };
}

export function createMetrics(): RuntimeMetrics {
  // prom-client accepts exemplars only on metrics built on an OpenMetrics registry; once built, the
  // registry goes back to Prometheus text and exposition.ts switches it per scrape.
  const registry = new Registry<OpenMetricsContentType>();
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  const registers = [registry];
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  // Gauges that prom-client names `_total`, which `promtool check metrics` rejects as counter names.
  for (const name of MISNAMED_DEFAULT_GAUGES) registry.removeSingleMetric(name);

  const tokens = new Counter({ name: 'aybiza_tokens_total', help: 'Tokens billed by Bedrock, by model and kind.', labelNames: ['model', 'kind'] as const, registers });
  const turnLatency = new Histogram({
    name: 'aybiza_turn_latency_seconds',
    help: 'Time from the caller\'s final transcript to the first speakable chunk written to the call.',
    buckets: VOICE_LATENCY_BUCKETS_SECONDS,
    enableExemplars: true,
    registers,
  });
  const callsEnded = new Counter({ name: 'aybiza_calls_ended_total', help: 'Calls ended, by outcome.', labelNames: ['outcome'] as const, registers });

  const sttFinal = new Histogram({ name: 'aybiza_stt_final_latency_seconds', help: "Time from the caller's last voiced frame to Transcribe's final transcript of it.", buckets: VOICE_LATENCY_BUCKETS_SECONDS, registers });
  const sttStreamErrors = new Counter({ name: 'aybiza_stt_stream_errors_total', help: 'Transcribe streams that failed mid-call and were reopened, by whether words without a final were lost (the caller is asked to repeat).', labelNames: ['words'] as const, registers });
  const ttsFirstByte = new Histogram({ name: 'aybiza_tts_first_byte_seconds', help: 'Time from a Polly SynthesizeSpeech request to its first audio byte.', buckets: VOICE_LATENCY_BUCKETS_SECONDS, registers });
  const ttsFailures = new Counter({ name: 'aybiza_tts_failures_total', help: 'Polly requests that failed, by outcome: retried once and spoken, or skipped (text logged) after the retry failed.', labelNames: ['outcome'] as const, registers });
  const mouthToEar = new Histogram({ name: 'aybiza_mouth_to_ear_seconds', help: "Time from the caller's last voiced frame to the agent's first audio frame after it.", buckets: VOICE_LATENCY_BUCKETS_SECONDS, registers });
  const speechBargeIns = new Counter({ name: 'aybiza_speech_barge_ins_total', help: 'Agent audio stopped by the caller, by kind: voice (the caller kept talking) or transcript (words that were not a backchannel).', labelNames: ['kind'] as const, registers });
  const backchannels = new Counter({ name: 'aybiza_speech_backchannels_ignored_total', help: 'Acknowledgements ("mhm", "okay") heard while the agent spoke that did not interrupt it.', registers });
  const audioFrames = new Counter({ name: 'aybiza_audio_frames_total', help: '20 ms audio frames, by direction (in from the caller, out to the caller).', labelNames: ['direction'] as const, registers });
  const audioFramesLate = new Counter({ name: 'aybiza_audio_frames_late_total', help: 'Outbound audio frames sent after their playout time had passed.', registers });
  // Bound children: frames are counted 50 times a second per direction and call.
  const framesIn = audioFrames.labels({ direction: 'in' });
  const framesOut = audioFrames.labels({ direction: 'out' });

  const metrics: RuntimeMetrics = {
    registry: registry as unknown as Registry,
    modelTtft: new Histogram({ name: 'aybiza_model_ttft_seconds', help: 'Time from sending a model request to its first stream event.', labelNames: ['model', 'region'] as const, buckets: VOICE_LATENCY_BUCKETS_SECONDS, registers }),
    modelStreamDuration: new Histogram({ name: 'aybiza_model_stream_duration_seconds', help: 'Time from sending a model request to the end of its stream.', labelNames: ['model', 'region'] as const, buckets: STREAM_BUCKETS_SECONDS, registers }),
    modelRequests: new Counter({ name: 'aybiza_model_requests_total', help: 'Model requests, by model, region and outcome (ok or error code).', labelNames: ['model', 'region', 'outcome'] as const, registers }),
    tokens,
    countTokens(modelId, usage) {
      tokens.inc({ model: modelId, kind: 'input' }, usage.inputTokens);
      tokens.inc({ model: modelId, kind: 'output' }, usage.outputTokens);
      tokens.inc({ model: modelId, kind: 'cache_read' }, usage.cacheReadInputTokens);
      tokens.inc({ model: modelId, kind: 'cache_write' }, usage.cacheWriteInputTokens);
    },
    costUsd: new Counter({ name: 'aybiza_cost_usd_total', help: 'Model cost in US dollars at catalogue prices, by model and agent.', labelNames: ['model', 'agent'] as const, registers }),
    fallbackHops: new Counter({ name: 'aybiza_fallback_hops_total', help: 'Fallback hops taken after a failed model request, by reason and kind of hop.', labelNames: ['reason', 'kind'] as const, registers }),
    toolRefusals: new Counter({ name: 'aybiza_tool_refusals_total', help: "Tool uses the agent's tool policy refused (transfer target, another caller's record, email recipient), by tool.", labelNames: ['tool'] as const, registers }),
    budgetRefusals: new Counter({ name: 'aybiza_budget_refusals_total', help: "Model requests or tool rounds refused by a call's limits, by reason (cost, model_requests, tool_rounds).", labelNames: ['reason'] as const, registers }),
    toolDuration: new Histogram({ name: 'aybiza_tool_duration_seconds', help: 'Tool execution time, by tool, outcome and backend (builtin, webhook, lambda, kendra, bedrock-kb, mcp).', labelNames: ['tool', 'outcome', 'backend'] as const, buckets: TOOL_BUCKETS_SECONDS, registers }),
    turnLatency,
    observeTurnLatency(seconds, callId) {
      turnLatency.observe({ labels: {}, value: seconds, exemplarLabels: { record_id: recordId(callId) } });
    },
    bargeIns: new Counter({ name: 'aybiza_barge_ins_total', help: 'Times a caller interrupted the agent while it spoke.', registers }),
    actorRestarts: new Counter({ name: 'aybiza_actor_restarts_total', help: 'Supervised actor restarts, by kind of actor.', labelNames: ['kind'] as const, registers }),
    callsEnded,
    callEnded(outcome) { callsEnded.inc({ outcome }); },
    setActiveCallsSource: sourcedGauge(registry, 'aybiza_calls_active', 'Calls in progress.'),
    frames: new Counter({ name: 'aybiza_frames_total', help: 'Telephony protocol frames, by direction.', labelNames: ['direction'] as const, registers }),
    protocolErrors: new Counter({ name: 'aybiza_protocol_errors_total', help: 'Error frames sent to telephony clients, by code (refused starts such as overloaded included).', labelNames: ['code'] as const, registers }),
    accountingTaskDuration: new Histogram({ name: 'aybiza_accounting_task_duration_seconds', help: 'Accounting pool task time including queueing, by task.', labelNames: ['task'] as const, buckets: TASK_BUCKETS_SECONDS, registers }),
    trimFallbacks: new Counter({ name: 'aybiza_accounting_trim_fallbacks_total', help: 'History trims that used the in-thread character estimate instead of the pool, by reason.', labelNames: ['reason'] as const, registers }),
    trimSkips: new Counter({ name: 'aybiza_accounting_trim_skips_total', help: 'History trims that did not ask the tokenizer pool because even a worst-case count of the request fit its window.', registers }),
    setAccountingQueueSource: sourcedGauge(registry, 'aybiza_accounting_queue_depth', 'Accounting tasks waiting for a pool worker.'),
    setWriteQueueSource: sourcedGauge(registry, 'aybiza_memory_write_queue_depth', 'Memory writes waiting for the durable store.'),
    responseCache: new Counter({ name: 'aybiza_response_cache_total', help: 'Opening questions looked up in the answer cache, by result (hit answers without a model call).', labelNames: ['result'] as const, registers }),
    setUnjournaledSource: sourcedGauge(registry, 'aybiza_memory_unjournaled_records', 'Queued memory writes held only in process memory because the journal failed; lost if the process dies before DynamoDB has them.'),
    setHotStoreErrorsSource: sourcedCounter(registry, 'aybiza_memory_hot_errors_total', 'Hot-window (Redis) operations that failed and were served from durable history instead.'),
    speech: {
      sttFinalLatency: (seconds) => sttFinal.observe(seconds),
      sttStreamError: (lostWords) => sttStreamErrors.inc({ words: lostWords ? 'lost' : 'none' }),
      ttsFirstByte: (seconds) => ttsFirstByte.observe(seconds),
      ttsFailure: (outcome) => ttsFailures.inc({ outcome }),
      mouthToEar: (seconds) => mouthToEar.observe(seconds),
      bargeIn: (kind) => speechBargeIns.inc({ kind }),
      backchannelIgnored: () => backchannels.inc(),
      audioFrame: (direction) => (direction === 'in' ? framesIn : framesOut).inc(),
      audioFrameLate: () => audioFramesLate.inc(),
    },
  };
  // Known label values start at 0 so a dashboard panel or alert on a rarely counted event (an idle
  // hang-up, a Polly failure) reads 0 rather than "no data" before the first one: Prometheus' rate()
  // of a series that appears at its first increment misses that increment.
  startAtZero(callsEnded, 'outcome', ['completed', 'transferred', 'dropped', 'budget', 'idle', 'shutdown', 'error', 'hangup']);
  startAtZero(metrics.budgetRefusals, 'reason', ['cost', 'model_requests', 'tool_rounds']);
  startAtZero(speechBargeIns, 'kind', ['voice', 'transcript']);
  startAtZero(audioFrames, 'direction', ['in', 'out']);
  startAtZero(sttStreamErrors, 'words', ['lost', 'none']);
  startAtZero(ttsFailures, 'outcome', ['retried', 'skipped']);
  (registry as unknown as Registry).setContentType(Registry.PROMETHEUS_CONTENT_TYPE);
  return metrics;
}

function startAtZero<L extends string>(counter: Counter<L>, label: L, values: readonly string[]): void {
  for (const value of values) counter.inc({ [label]: value } as Partial<Record<L, string>>, 0);
}
