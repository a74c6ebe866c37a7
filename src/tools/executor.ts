import { SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type { ContentBlock, ToolResultContent } from '../llm/messages.js';
import { ToolInputError, ToolPolicyError } from './errors.js';
import type { ToolRegistry } from './registry.js';
import type { ToolBackend, ToolContext, ToolDefinition, ToolOutput, ToolRunResult, ToolUseRequest } from './types.js';

/** The backend answering `definition` for `agent`: `builtin` unless it says otherwise. */
export function backendOf(definition: ToolDefinition | undefined, agent: string): ToolBackend {
  const backend = definition?.backend;
  return (typeof backend === 'function' ? backend(agent) : backend) ?? 'builtin';
}

export interface ExecuteOptions {
  /** The call's signal: aborting it (hang-up, barge-in) stops every tool still running. */
  signal: AbortSignal;
  defaultTimeoutMs: number;
  /** Upper bound of a result's JSON size; larger results are not sent to the model. */
  maxResultBytes: number;
  onResult?: (result: ToolRunResult) => void;
  /** When traces are on: each run is a span, active while the tool runs (a webhook sends it as `traceparent`). */
  tracer?: Tracer;
}

type Outcome = ToolRunResult['outcome'];

/**
 * Runs the tool uses of one model answer in parallel. Never rejects: whatever goes wrong becomes
 * an error result the model can read, in the order of `uses`.
 */
export function executeToolUses(
  registry: ToolRegistry,
  uses: ToolUseRequest[],
  context: Omit<ToolContext, 'signal'>,
  options: ExecuteOptions,
): Promise<ToolRunResult[]> {
  return Promise.all(uses.map(async (use) => {
    const result = await (options.tracer ? tracedToolUse(options.tracer, registry, use, context, options) : runToolUse(registry, use, context, options));
    try {
      options.onResult?.(result);
    } catch {
      // An observer's bug must not turn a finished tool into a failed turn.
    }
    return result;
  }));
}

function tracedToolUse(
  tracer: Tracer,
  registry: ToolRegistry,
  use: ToolUseRequest,
  context: Omit<ToolContext, 'signal'>,
  options: ExecuteOptions,
): Promise<ToolRunResult> {
  return tracer.startActiveSpan(`tool ${use.name}`, { attributes: { 'aybiza.call_id': context.callId, 'aybiza.tool.name': use.name } }, async (span) => {
    try {
      const result = await runToolUse(registry, use, context, options);
      span.setAttribute('aybiza.tool.outcome', result.outcome);
      if (result.status === 'error') span.setStatus({ code: SpanStatusCode.ERROR, message: result.outcome });
      return result;
    } finally {
      span.end();
    }
  });
}

async function runToolUse(
  registry: ToolRegistry,
  use: ToolUseRequest,
  context: Omit<ToolContext, 'signal'>,
  options: ExecuteOptions,
): Promise<ToolRunResult> {
  const startedAt = performance.now();
  const backend = backendOf(registry.get(use.name), context.agent);
  const finish = (status: ToolRunResult['status'], outcome: Outcome, content: unknown, transfer?: ToolOutput['transfer']): ToolRunResult => ({
    toolUseId: use.toolUseId,
    name: use.name,
    status,
    content,
    durationMs: performance.now() - startedAt,
    outcome,
    backend,
    ...(transfer ? { transfer } : {}),
  });
  const fail = (outcome: Outcome, message: string): ToolRunResult => finish('error', outcome, { error: message });

  if (options.signal.aborted) return fail('error', CANCELLED);
  const definition = registry.get(use.name);
  if (!definition) {
    return fail('unknown_tool', `There is no tool named "${use.name}". Available tools: ${registry.names().join(', ') || '(none)'}.`);
  }
  const problems = registry.inputProblems(use.name, use.input);
  if (problems.length > 0) return fail('invalid_input', `Invalid input for ${use.name}: ${problems.join('; ')}`);

  const timeoutMs = definition.timeoutMs ?? options.defaultTimeoutMs;
  const settled = await runWithDeadline(
    (signal) => definition.run(use.input as Record<string, unknown>, { ...context, signal }),
    options.signal,
    timeoutMs,
  );
  switch (settled.kind) {
    case 'timeout': return fail('timeout', `${use.name} did not answer within ${timeoutMs} ms.`);
    case 'cancelled': return fail('error', CANCELLED);
    case 'threw':
      if (settled.error instanceof ToolInputError) return fail('invalid_input', `Invalid input for ${use.name}: ${settled.error.message}`);
      if (settled.error instanceof ToolPolicyError) return fail('refused', `Refused by policy: ${settled.error.message}`);
      return fail('error', `${use.name} failed: ${errorMessage(settled.error)}`);
    case 'returned': {
      const json = toJson(settled.output?.result);
      if (json === undefined) return fail('error', `${use.name} returned a result that is not JSON-serialisable.`);
      const bytes = Buffer.byteLength(json);
      if (bytes > options.maxResultBytes) {
        return fail('too_large', `${use.name} returned ${bytes} bytes, over the limit of ${options.maxResultBytes} bytes.`);
      }
      return finish('success', 'success', JSON.parse(json), settled.output?.transfer);
    }
  }
}

const MAX_TIMER_MS = 2 ** 31 - 1;
const CANCELLED = 'The tool was cancelled because the call ended or the caller interrupted.';

type Settled =
  | { kind: 'returned'; output: ToolOutput }
  | { kind: 'threw'; error: unknown }
  | { kind: 'timeout' }
  | { kind: 'cancelled' };

/**
 * Races a tool against its deadline and the call's signal. The tool receives a signal that fires on
 * either, but a tool that ignores it is abandoned rather than awaited.
 */
async function runWithDeadline(
  run: (signal: AbortSignal) => Promise<ToolOutput>,
  callSignal: AbortSignal,
  timeoutMs: number,
): Promise<Settled> {
  const deadline = new AbortController();
  // setTimeout fires at once for delays past 2^31 - 1 ms; clamp instead of surprising.
  const timer = setTimeout(() => deadline.abort(new Error('tool timeout')), Math.min(timeoutMs, MAX_TIMER_MS));
  const signal = AbortSignal.any([callSignal, deadline.signal]);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<Settled>((resolve) => {
    onAbort = () => resolve(callSignal.aborted ? { kind: 'cancelled' } : { kind: 'timeout' });
    signal.addEventListener('abort', onAbort, { once: true });
  });
  const ran = Promise.resolve()
    .then(() => run(signal))
    .then((output): Settled => ({ kind: 'returned', output }), (error: unknown): Settled => ({ kind: 'threw', error }));
  try {
    const settled = await Promise.race([ran, aborted]);
    // A tool that rejects because its signal fired was stopped, not broken.
    if (settled.kind === 'threw' && signal.aborted) return callSignal.aborted ? { kind: 'cancelled' } : { kind: 'timeout' };
    return settled;
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

function errorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : 'unknown error';
  // Only the first line: messages of some libraries carry request dumps after it.
  return (message.split('\n')[0] ?? '').slice(0, 500) || 'unknown error';
}

function toJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value ?? null);
  } catch {
    return undefined;
  }
}

/** The user-turn blocks carrying these results back to the model, in the same order. */
export function toToolResultBlocks(results: ToolRunResult[]): ContentBlock[] {
  return results.map((result) => ({
    toolResult: { toolUseId: result.toolUseId, content: [toResultContent(result.content)], status: result.status },
  }));
}

/**
 * Bedrock accepts only a JSON object in a `json` block (an array or scalar is a ValidationException),
 * and no empty content on an error result: objects go as they are, other text as text, the rest wrapped.
 */
export function toResultContent(content: unknown): ToolResultContent {
  if (typeof content === 'object' && content !== null && !Array.isArray(content)) return { json: content };
  if (typeof content === 'string' && content.trim() !== '') return { text: content };
  return { json: { result: content ?? null } };
}
