import { Piscina } from 'piscina';
import type { ChatMessage, TokenUsage } from '../llm/messages.js';
import type { Logger } from '../log.js';
import type { RuntimeMetrics, TrimFallbackReason } from '../metrics/metrics.js';
import { TokenCalibration } from './calibration.js';
import { CallLedgers, type Ledger } from './ledger.js';
import { messageChars } from './message-text.js';
import { price, type ModelPrices } from './pricing.js';
import type { EstimateTask } from './token-worker.js';
import { charsToTokenCeiling, charsToTokens, keptTokens, trimToBudget, type RequestTokens, type TrimResult } from './trim.js';

export type { Ledger } from './ledger.js';
export type { ModelPrices } from './pricing.js';

export interface AccountingOptions {
  /** Worker threads estimating tokens. */
  poolSize: number;
  /** Estimates that may wait for a worker; past it a trim uses the in-thread estimate at once. */
  queueMax: number;
  /** How long a trim waits for the pool before using the in-thread estimate. */
  trimTimeoutMs: number;
  metrics: RuntimeMetrics;
  /** Reports worker failures and bad usage records; without it they are only counted. */
  log?: Logger;
  /** Where calibration ratios survive restarts (Redis in production); none keeps them in memory. */
  calibrationStore?: CalibrationStore;
}

export interface CalibrationStore {
  load(): Promise<Record<string, number>>;
  save(modelId: string, ratio: number): Promise<void>;
}

export interface TrimInput {
  /** When given, the next `recordUsage` of this call and model calibrates the estimate by itself. */
  callId?: string;
  modelId: string;
  contextTokens: number;
  maxOutputTokens: number;
  budgetTokens?: number;
  system: string;
  toolsJson: string;
  history: ChatMessage[];
}

export interface TrimOutput extends TrimResult {
  /** The uncalibrated tokenizer count of what was kept; absent when the character estimate was used. */
  tokenizerTokens?: number;
}

export interface UsageRecord {
  callId: string;
  agent: string;
  modelId: string;
  usage: TokenUsage;
  prices: ModelPrices;
  /** An estimate charged for a request Bedrock sent no usage for (aborted): never folded into calibration. */
  estimated?: boolean;
}

export interface Accounting {
  trimHistory(input: TrimInput): Promise<TrimOutput>;
  recordUsage(input: UsageRecord): void;
  costSoFar(callId: string): number;
  ledger(callId: string): Ledger;
  forget(callId: string): void;
  /** Folds the input tokens Bedrock reported for a request into the model's estimate ratio. */
  calibrate(input: { modelId: string; tokenizerTokens: number; usage: TokenUsage }): void;
  calibrationRatio(modelId: string): number;
  price(usage: TokenUsage, prices: ModelPrices): number;
  /** Resolves once a worker has loaded the tokenizer, so the first calls are not trimmed by the fallback. */
  ready(): Promise<void>;
  /** Settles when the pool reports an error no task caught (a worker died outside a task); never after `close`. */
  failed: Promise<Error>;
  close(): Promise<void>;
}

class TrimFallback extends Error {
  constructor(readonly reason: TrimFallbackReason) { super(`token estimate fell back: ${reason}`); }
}

/**
 * Token estimates run on a piscina pool so a 150,000-token history never blocks the event loop
 * that paces audio frames; the pre-request trim waits at most `trimTimeoutMs` and never queues
 * past `queueMax`, falling back to a character count. Pricing and ledgers stay on the main thread:
 * a few integer multiplications cost less than posting a message to a worker, and `costSoFar` must
 * answer synchronously for the router's cost budget.
 */
export function createAccounting(options: AccountingOptions): Accounting {
  const { metrics } = options;
  if (!(options.poolSize >= 1)) throw new Error(`accounting.poolSize must be at least 1, got ${options.poolSize}`);
  if (!(options.queueMax >= 0)) throw new Error(`accounting.queueMax must be 0 or more, got ${options.queueMax}`);
  if (!(options.trimTimeoutMs > 0)) throw new Error(`accounting.trimTimeoutMs must be positive, got ${options.trimTimeoutMs}`);

  const typescript = import.meta.url.endsWith('.ts');
  const pool = new Piscina<EstimateTask, RequestTokens>({
    filename: new URL(typescript ? './token-worker.ts' : './token-worker.js', import.meta.url).href,
    execArgv: typescript ? ['--import', import.meta.resolve('tsx')] : [],
    minThreads: options.poolSize,
    maxThreads: options.poolSize,
    // The in-flight gate below is the real bound; this only stops a runaway if the gate were bypassed.
    maxQueue: options.poolSize + options.queueMax,
    idleTimeout: 60_000,
  });
  let closing = false;
  const failed = new Promise<Error>((resolve) => pool.on('error', (error: unknown) => {
    if (!closing) resolve(error instanceof Error ? error : new Error(String(error)));
  }));
  const ledgers = new CallLedgers();
  const calibration = new TokenCalibration();
  let inFlight = 0;
  /** The tokenizer count of each call's latest request, waiting for the usage Bedrock reports for it. */
  const awaitingUsage = new Map<string, { modelId: string; tokenizerTokens: number }>();
  metrics.setAccountingQueueSource(() => pool.queueSize);
  options.calibrationStore?.load().then((ratios) => calibration.restore(ratios), () => undefined);

  function estimateOnPool(task: EstimateTask): Promise<RequestTokens> {
    if (inFlight >= options.poolSize + options.queueMax) return Promise.reject(new TrimFallback('saturated'));
    inFlight++;
    const startedAt = performance.now();
    const estimate = pool.run(task).then((tokens) => {
      metrics.accountingTaskDuration.observe({ task: 'estimate' }, (performance.now() - startedAt) / 1000);
      return tokens;
    }).finally(() => { inFlight--; });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new TrimFallback('timeout')), options.trimTimeoutMs);
    });
    // A late estimate is discarded rather than aborted: aborting a running piscina task kills its
    // worker, and rebuilding the tokenizer costs more than finishing the count.
    estimate.catch(() => undefined);
    return Promise.race([estimate, timeout]).finally(() => clearTimeout(timer));
  }

  /** A request's parts measured in characters, once: the in-thread estimates are scalings of these. */
  function requestChars(task: EstimateTask): RequestTokens {
    return { system: task.system.length, tools: task.toolsJson.length, messages: task.history.map(messageChars) };
  }

  function estimateInThread(chars: RequestTokens, toTokens: (chars: number) => number): RequestTokens {
    return { system: toTokens(chars.system), tools: toTokens(chars.tools), messages: chars.messages.map(toTokens) };
  }

  function calibrate({ modelId, tokenizerTokens, usage }: { modelId: string; tokenizerTokens: number; usage: TokenUsage }): void {
    const reported = usage.inputTokens + usage.cacheReadInputTokens + usage.cacheWriteInputTokens;
    const ratio = calibration.observe(modelId, tokenizerTokens, reported);
    options.calibrationStore?.save(modelId, ratio).catch(() => undefined);
  }

  return {
    async trimHistory(input) {
      const task: EstimateTask = { system: input.system, toolsJson: input.toolsJson, history: input.history };
      const chars = requestChars(task);
      // When even a worst-case count keeps the whole history, counting cannot change what is sent,
      // and a voice call's history nearly always sits far inside the window: the tokenizer is asked
      // only when a request might not fit, which is also when its calibration matters. Posting every
      // request's prompt, tools and history to the pool cost serve's main thread the structured
      // clone and a worker the count (docs/capacity.md, "No token count for short calls"). Behind a
      // busy pool this also keeps every turn from waiting out trimTimeoutMs ("Overload guard and trim
      // behind a busy pool").
      const ceiling = trimToBudget(input.history, estimateInThread(chars, charsToTokenCeiling), input, calibration.ratio(input.modelId));
      if (ceiling.droppedMessages === 0) {
        if (input.callId !== undefined) awaitingUsage.delete(input.callId);
        metrics.trimSkips.inc();
        // The ceiling decides what is kept; what a request is charged until Bedrock reports its
        // usage is the character estimate's, not a worst case twelve times too high.
        return { ...ceiling, estimatedTokens: trimToBudget(input.history, estimateInThread(chars, charsToTokens), input).estimatedTokens };
      }
      try {
        const tokens = await estimateOnPool(task);
        const trimmed = trimToBudget(input.history, tokens, input, calibration.ratio(input.modelId));
        const tokenizerTokens = keptTokens(tokens, trimmed.droppedMessages);
        if (input.callId !== undefined) awaitingUsage.set(input.callId, { modelId: input.modelId, tokenizerTokens });
        return { ...trimmed, tokenizerTokens };
      } catch (error) {
        if (input.callId !== undefined) awaitingUsage.delete(input.callId);
        const reason: TrimFallbackReason = error instanceof TrimFallback ? error.reason : 'error';
        metrics.trimFallbacks.inc({ reason });
        if (reason === 'error') options.log?.warn({ event: 'accounting.estimate_failed', callId: input.callId, modelId: input.modelId, error: String(error) });
        return trimToBudget(input.history, estimateInThread(chars, charsToTokens), input);
      }
    },

    recordUsage(input) {
      // Called from the model stream: a bad record is logged, never thrown into the caller's turn.
      try {
        const estimate = awaitingUsage.get(input.callId);
        if (input.estimated) awaitingUsage.delete(input.callId);
        else if (estimate?.modelId === input.modelId) {
          awaitingUsage.delete(input.callId);
          calibrate({ modelId: input.modelId, tokenizerTokens: estimate.tokenizerTokens, usage: input.usage });
        }
        const costUsd = ledgers.add(input.callId, input.usage, input.prices);
        metrics.costUsd.inc({ model: input.modelId, agent: input.agent }, costUsd);
      } catch (error) {
        options.log?.error({ event: 'accounting.usage_rejected', callId: input.callId, modelId: input.modelId, error: String(error) });
      }
    },

    costSoFar: (callId) => ledgers.get(callId).costUsd,
    ledger: (callId) => ledgers.get(callId),
    forget(callId) {
      ledgers.delete(callId);
      awaitingUsage.delete(callId);
    },

    calibrate,
    calibrationRatio: (modelId) => calibration.ratio(modelId),

    price,

    ready: async () => { await pool.run({ system: '', toolsJson: '', history: [] }); },

    failed,

    close: () => {
      closing = true;
      return pool.destroy();
    },
  };
}
