import { context } from '@opentelemetry/api';
import { Observable, concat, defer, finalize, from, of, switchMap, tap, throwError, timeout } from 'rxjs';
import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import type { Accounting } from '../accounting/accounting.js';
import { charsToTokens } from '../accounting/trim.js';
import type { AybizaConfig, AgentConfig } from '../config/schema.js';
import type { ModelCatalogue } from '../config/catalogue.js';
import { converseStream } from '../llm/converse-stream.js';
import { alternatingConversation } from '../llm/conversation.js';
import { ModelCallError } from '../llm/errors.js';
import type { ModelEvent } from '../llm/events.js';
import { addUsage, emptyUsage, type ChatMessage, type StopReason, type TokenUsage } from '../llm/messages.js';
import { buildConverseRequest } from '../llm/prompt.js';
import { maskPhoneNumbersIn, type Logger } from '../log.js';
import { responseCacheKey, type ResponseCache } from '../memory/response-cache.js';
import type { ConversationStore } from '../memory/store.js';
import type { RuntimeMetrics } from '../metrics/metrics.js';
import { executeToolUses } from '../tools/executor.js';
import type { ToolRegistry } from '../tools/registry.js';
import type { CallObserver } from '../records/observations.js';
import type { CallTracing } from '../tracing/call-tracing.js';
import { epochMs } from '../clock.js';
import type { TurnEvent } from './events.js';
import type { CallEffects, GenerateInput } from './machine.js';
import { agentConfig } from './policy.js';
import { turnEvents } from './turn-events.js';

export interface CallDependencies {
  config: AybizaConfig;
  catalogue: ModelCatalogue;
  /** One client per region for the whole process. */
  bedrock(region: string): BedrockRuntimeClient;
  store: ConversationStore;
  responseCache: ResponseCache;
  tools: ToolRegistry;
  accounting: Accounting;
  metrics: RuntimeMetrics;
  log: Logger;
  /** Told what each turn does and when (call records, traces). */
  observe?: CallObserver;
  /** When traces are on: tool runs become spans under the call's current turn. */
  tracing?: Pick<CallTracing, 'tracer' | 'turnContext' | 'requestContext'>;
}

/**
 * The real effects of a call: Bedrock through the streaming client, tools, memory, accounting,
 * metrics and logs. Per-call write ordering is the only state kept here, and it is dropped when a
 * call's writes settle.
 */
export function createCallEffects(deps: CallDependencies): CallEffects {
  const { config, catalogue, store, log, metrics, accounting } = deps;
  const pendingWrites = new Map<string, Promise<void>>();
  const observe: CallObserver = deps.observe ?? (() => undefined);

  const agentOf = (name: string): AgentConfig => agentConfig(config, name);

  async function buildRequest(input: GenerateInput) {
    const agent = agentOf(input.agent);
    await pendingWrites.get(input.callId);
    // A new call's first turn has nothing stored; asking would cost a DynamoDB read on a hot-window miss.
    const readAt = epochMs();
    const stored = input.hasHistory ? await store.context(input.callId, agent.windowMessages) : [];
    if (input.hasHistory) {
      observe(input.callId, { type: 'history.read', turn: input.turn, round: input.round, startedAt: readAt, endedAt: epochMs(), messages: stored.length });
    }
    const history: ChatMessage[] = stored.map(({ role, content }) => ({ role, content }));
    const model = catalogue.resolve(input.choice.modelId);
    const tools = deps.tools.specsFor(agent.tools);
    const messages = alternatingConversation([...history, ...input.turnMessages]);
    // A trailing assistant message continues words already spoken; Claude refuses thinking with it.
    const continuing = messages.at(-1)?.role === 'assistant';
    const trimmed = await accounting.trimHistory({
      callId: input.callId,
      modelId: model.modelId,
      contextTokens: model.entry.contextTokens,
      maxOutputTokens: agent.maxTokens,
      budgetTokens: agent.maxContextTokens,
      system: agent.systemPrompt,
      toolsJson: JSON.stringify(tools),
      history: messages,
    });
    const request = buildConverseRequest({
      agent,
      model,
      history: trimmed.history,
      tools,
      call: { callId: input.callId, turn: input.turn, agent: input.agent, from: input.from, to: input.to },
      thinking: agent.thinking !== undefined && !continuing,
    });
    // The trim counted the agent's prompt; the voice rules and call details around it are billed too.
    const systemChars = (request.system ?? []).reduce((sum, block) => sum + ('text' in block && block.text ? block.text.length : 0), 0);
    return { request, inputTokens: trimmed.estimatedTokens + charsToTokens(Math.max(0, systemChars - agent.systemPrompt.length)) };
  }

  /** The key of a new call's opening question, when its agent reuses first answers. */
  function firstAnswerKey(input: GenerateInput): string | undefined {
    const [only, ...rest] = input.turnMessages;
    if (!agentOf(input.agent).cacheFirstAnswers || input.hasHistory || input.round > 0 || rest.length > 0) return undefined;
    const utterance = only?.content.map((block) => ('text' in block ? block.text : '')).join(' ').trim();
    return utterance ? responseCacheKey({ agent: input.agent, model: input.choice.modelId, utterance }) : undefined;
  }

  function generate(input: GenerateInput): Observable<TurnEvent> {
    const key = firstAnswerKey(input);
    if (!key) return fromModel(input);
    return from(deps.responseCache.get(key)).pipe(
      switchMap((cached) => {
        metrics.responseCache.inc({ result: cached === undefined ? 'miss' : 'hit' });
        if (cached !== undefined) {
          const at = epochMs();
          const round = { turn: input.turn, round: input.round };
          observe(input.callId, { type: 'model.request', at, ...round, target: { modelId: input.choice.modelId, region: input.choice.region }, cached: true });
          observe(input.callId, { type: 'model.done', at, ...round, stopReason: 'end_turn', usage: emptyUsage(), costUsd: 0 });
          return of<ModelEvent[]>(
            { type: 'text', index: 0, text: cached },
            { type: 'stop', stopReason: 'end_turn' },
          ).pipe(turnEvents());
        }
        return fromModel(input, (text) => void deps.responseCache.set(key, text));
      }),
    );
  }

  /** One model round; `onPlainAnswer` receives the text of a round that ended without tools. */
  function fromModel(input: GenerateInput, onPlainAnswer?: (text: string) => void): Observable<TurnEvent> {
    const { modelId, region } = input.choice;
    const labels = { model: modelId, region };
    const round = { turn: input.turn, round: input.round };
    return defer(() => {
      let answer = '';
      let plain = true;
      const sentAt = epochMs();
      let first = true;
      let firstSentence = true;
      let usage = emptyUsage();
      let stopReason: StopReason | undefined;
      /** The sent request's estimated input until Bedrock's usage for it arrives. */
      let unbilled: number | undefined;
      let sent = false;
      let settled = false;
      const charge = (billed: TokenUsage, estimated: boolean) => {
        const prices = catalogue.priceOf(modelId);
        accounting.recordUsage({ callId: input.callId, agent: input.agent, modelId, usage: billed, prices, estimated });
        log.debug({ event: 'model.usage', callId: input.callId, model: modelId, ...billed, costUsd: accounting.price(billed, prices), estimated });
      };
      const chargeEstimate = () => {
        if (unbilled === undefined) return;
        charge({ ...emptyUsage(), inputTokens: unbilled }, true);
        unbilled = undefined;
      };
      const billing = tap<ModelEvent>({
        next: (event) => {
          if (first) {
            first = false;
            metrics.modelTtft.observe(labels, (epochMs() - sentAt) / 1000);
            observe(input.callId, { type: 'model.firstEvent', at: epochMs(), ...round });
          }
          if (event.type === 'stop') stopReason = event.stopReason;
          if (event.type === 'text') answer += event.text;
          if (event.type === 'toolUseStart' || (event.type === 'stop' && event.stopReason !== 'end_turn')) plain = false;
          if (event.type === 'usage') {
            unbilled = undefined;
            charge(event.usage, false);
            metrics.countTokens(modelId, event.usage);
            usage = addUsage(usage, event.usage);
          }
        },
        complete: () => {
          settled = true;
          chargeEstimate();
          metrics.modelStreamDuration.observe(labels, (epochMs() - sentAt) / 1000);
          metrics.modelRequests.inc({ ...labels, outcome: 'ok' });
          if (plain && answer.trim()) onPlainAnswer?.(answer.trim());
          const costUsd = accounting.price(usage, catalogue.priceOf(modelId));
          observe(input.callId, { type: 'model.done', at: epochMs(), ...round, stopReason, usage, costUsd });
        },
        error: (error: ModelCallError) => {
          settled = true;
          // As in the call machine: a request refused before it generated is not billed, one broken mid-stream is.
          if (error.midStream) chargeEstimate();
          metrics.modelRequests.inc({ ...labels, outcome: error.code ?? 'error' });
          observe(input.callId, { type: 'model.failed', at: epochMs(), ...round, code: error.code ?? 'error', message: String(error.message) });
        },
      });
      const firstSentenceSeen = tap<TurnEvent>((event) => {
        if (event.type !== 'model.sentence' || !firstSentence) return;
        firstSentence = false;
        observe(input.callId, { type: 'model.firstSentence', at: epochMs(), ...round });
      });
      return from(buildRequest(input)).pipe(
        // Memory that does not answer (DynamoDB slow, the write queue full) must not leave the caller
        // in silence: the turn gets the canned answer (test/reliability/overload.test.ts, 5,000 starts).
        timeout({
          first: config.bedrock.firstEventTimeoutMs,
          with: () => throwError(() => new ModelCallError(`the request for call ${input.callId} could not be built within ${config.bedrock.firstEventTimeoutMs} ms`, 'ContextTimeout', 'none')),
        }),
        switchMap(({ request, inputTokens }) => {
          unbilled = inputTokens;
          sent = true;
          observe(input.callId, { type: 'model.request', at: epochMs(), ...round, target: { modelId, region }, cached: false });
          // The call machine charges the estimate before the request goes out, so no barge-in outruns it.
          const stream = converseStream(deps.bedrock(region), request, {
            idleTimeoutMs: config.bedrock.idleTimeoutMs,
            firstEventTimeoutMs: config.bedrock.firstEventTimeoutMs,
          });
          // Subscribed inside the request's span, so the SDK's send (and its traceparent) runs in it.
          const span = deps.tracing?.requestContext(input.callId, input.round);
          const traced = span ? new Observable<ModelEvent>((subscriber) => context.with(span, () => stream.subscribe(subscriber))) : stream;
          return concat(of<TurnEvent>({ type: 'model.requested', inputTokens }), traced.pipe(billing, turnEvents(), firstSentenceSeen));
        }),
        finalize(() => {
          if (!sent || settled) return;
          // Unsubscribed mid-stream (a barge-in): Bedrock read the prompt and bills it, usage or not.
          chargeEstimate();
          metrics.modelRequests.inc({ ...labels, outcome: 'aborted' });
        }),
      );
    });
  }

  /** Runs `work` inside the call's current turn span when traces are on, so spans it starts are the turn's children. */
  function withinTurn<T>(callId: string, work: () => T): T {
    const turn = deps.tracing?.turnContext(callId);
    return turn ? context.with(turn, work) : work();
  }

  return {
    generate,

    runTools: (input, signal) => withinTurn(input.callId, () =>
      executeToolUses(deps.tools, input.uses, { callId: input.callId, agent: input.agent, from: input.from, to: input.to, policy: agentOf(input.agent).toolPolicy }, {
        signal,
        tracer: deps.tracing?.tracer,
        defaultTimeoutMs: config.tools.defaultTimeoutMs,
        maxResultBytes: config.tools.maxResultBytes,
        onResult: (result) => {
          const endedAt = epochMs();
          const used = input.uses.find((use) => use.toolUseId === result.toolUseId)?.input;
          observe(input.callId, {
            type: 'tool', turn: input.turn, round: input.round, toolUseId: result.toolUseId, name: result.name, input: used,
            outcome: result.outcome, result: result.content, startedAt: endedAt - result.durationMs, endedAt,
          });
          metrics.toolDuration.observe({ tool: result.name, outcome: result.outcome, backend: result.backend ?? 'builtin' }, result.durationMs / 1000);
          if (result.outcome === 'refused') metrics.toolRefusals.inc({ tool: result.name });
          log.info({ event: 'tool.ran', callId: input.callId, tool: result.name, backend: result.backend ?? 'builtin', outcome: result.outcome, durationMs: Math.round(result.durationMs) });
        },
      })),

    record: (callId, messages, agent) => {
      if (agentOf(agent).logTranscripts) log.info({ event: 'turn.transcript', callId, ...spokenText(messages) });
      const previous = pendingWrites.get(callId) ?? Promise.resolve();
      const next = previous
        .then(async () => {
          await store.rememberAll(callId, messages);
        })
        .catch((error: Error) => log.error({ event: 'memory.remember_failed', callId, error: error.message }));
      pendingWrites.set(callId, next);
      void next.then(() => {
        if (pendingWrites.get(callId) === next) pendingWrites.delete(callId);
      });
    },

    turnStarted: (context) => {
      observe(context.callId, { type: 'turn.started', at: context.turnStartedAt, turn: context.turn, words: context.utterance });
      log.debug({ event: 'turn.started', callId: context.callId, turn: context.turn, model: context.choice?.modelId });
    },
    firstSay: (context, latencyMs) => {
      metrics.observeTurnLatency(latencyMs / 1000, context.callId);
      log.debug({ event: 'turn.first_say', callId: context.callId, turn: context.turn, latencyMs: Math.round(latencyMs) });
    },
    bargeIn: (context) => {
      metrics.bargeIns.inc();
      log.info({ event: 'turn.barge_in', callId: context.callId, turn: context.turn });
    },
    limitReached: (context, reason) => {
      metrics.budgetRefusals.inc({ reason });
      log.warn({ event: 'call.limit_reached', callId: context.callId, reason, costUsd: context.costUsd, modelRequests: context.modelRequests, toolRounds: context.round });
    },
    fallbackTaken: (context, choice, error, decision) => {
      const hop = decision.kind === 'retry' ? decision.hop : 'canned';
      observe(context.callId, {
        type: 'fallback', at: epochMs(), turn: context.turn, from: { modelId: choice.modelId, region: choice.region },
        ...(decision.kind === 'retry' ? { to: { modelId: decision.choice.modelId, region: decision.choice.region } } : {}),
        hop, reason: decision.reason, code: error.code ?? 'error',
      });
      metrics.fallbackHops.inc({ reason: decision.reason, kind: hop });
      log.warn({ event: 'model.fallback', callId: context.callId, turn: context.turn, hop, reason: decision.reason, code: error.code, error: error.message, from: choice.modelId, region: choice.region });
    },
  };
}

/**
 * What was said in a recorded turn, as `logTranscripts` logs it: the caller's words and what the
 * caller heard of the agent's (tool uses and results left out), phone numbers masked.
 */
function spokenText(messages: readonly ChatMessage[]): { caller: string; agent: string } {
  const said = (role: ChatMessage['role']) => maskPhoneNumbersIn(messages
    .filter((message) => message.role === role)
    .flatMap((message) => message.content.flatMap((block) => ('text' in block && typeof block.text === 'string' ? [block.text] : [])))
    .join(' '));
  return { caller: said('user'), agent: said('assistant') };
}
