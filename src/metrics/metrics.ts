import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type OpenMetricsContentType } from 'prom-client';
import type { TokenUsage } from '../llm/messages.js';

/** Voice turn latencies: a human notices 300 ms, hesitates at 1 s, and gives up around 5–10 s. */
export const VOICE_LATENCY_BUCKETS_SECONDS = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.75, 1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10];
const STREAM_BUCKETS_SECONDS = [0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 60];
const TOOL_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];
const TASK_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

const MISNAMED_DEFAULT_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export type TrimFallbackReason = 'saturated' | 'timeout' | 'error';

/**
 * Every metric the runtime exports, on one registry per instance so tests can build many. Labels
 * never carry call ids or phone numbers: those reach Prometheus only as exemplars on the turn
 * latency histogram, which cost one sample per bucket, not one series per call.
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
    toolDuration: new Histogram({ name: 'aybiza_tool_duration_seconds', help: 'Tool execution time, by tool, outcome and backend (builtin, webhook, lambda, kendra, bedrock-kb, mcp).', labelNames: ['tool', 'outcome', 'backend'] as const, buckets: TOOL_BUCKETS_SECONDS, registers }),
    turnLatency,
    observeTurnLatency(seconds, callId) {
      turnLatency.observe({ labels: {}, value: seconds, exemplarLabels: { call_id: callId } });
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
    trimSkips: new Counter({ name: 'aybiza_accounting_trim_skips_total', help: 'History trims that did not wait for a busy pool because even a worst-case count of the request fit.', registers }),
    setAccountingQueueSource: sourcedGauge(registry, 'aybiza_accounting_queue_depth', 'Accounting tasks waiting for a pool worker.'),
    setWriteQueueSource: sourcedGauge(registry, 'aybiza_memory_write_queue_depth', 'Memory writes waiting for the durable store.'),
    responseCache: new Counter({ name: 'aybiza_response_cache_total', help: 'Opening questions looked up in the answer cache, by result (hit answers without a model call).', labelNames: ['result'] as const, registers }),
    setUnjournaledSource: sourcedGauge(registry, 'aybiza_memory_unjournaled_records', 'Queued memory writes held only in process memory because the journal failed; lost if the process dies before DynamoDB has them.'),
    setHotStoreErrorsSource: sourcedCounter(registry, 'aybiza_memory_hot_errors_total', 'Hot-window (Redis) operations that failed and were served from durable history instead.'),
  };
  (registry as unknown as Registry).setContentType(Registry.PROMETHEUS_CONTENT_TYPE);
  return metrics;
}
