import { defer, from, of, switchMap, tap, throwError, timeout, type Observable } from 'rxjs';
import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import type { Accounting } from '../accounting/accounting.js';
import type { AybizaConfig, AgentConfig } from '../config/schema.js';
import type { ModelCatalogue } from '../config/catalogue.js';
import { converseStream } from '../llm/converse-stream.js';
import { alternatingConversation } from '../llm/conversation.js';
import { ModelCallError } from '../llm/errors.js';
import type { ModelEvent } from '../llm/events.js';
import type { ChatMessage } from '../llm/messages.js';
import { buildConverseRequest } from '../llm/prompt.js';
import type { Logger } from '../log.js';
import { responseCacheKey, type ResponseCache } from '../memory/response-cache.js';
import type { ConversationStore } from '../memory/store.js';
import type { RuntimeMetrics } from '../metrics/metrics.js';
import { executeToolUses } from '../tools/executor.js';
import type { ToolRegistry } from '../tools/registry.js';
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
}

/**
 * The real effects of a call: Bedrock through the streaming client, tools, memory, accounting,
 * metrics and logs. Per-call write ordering is the only state kept here, and it is dropped when a
 * call's writes settle.
 */
export function createCallEffects(deps: CallDependencies): CallEffects {
  const { config, catalogue, store, log, metrics, accounting } = deps;
  const pendingWrites = new Map<string, Promise<void>>();

  const agentOf = (name: string): AgentConfig => agentConfig(config, name);

  async function buildRequest(input: GenerateInput) {
    const agent = agentOf(input.agent);
    await pendingWrites.get(input.callId);
    // A new call's first turn has nothing stored; asking would cost a DynamoDB read on a hot-window miss.
    const stored = input.hasHistory ? await store.context(input.callId, agent.windowMessages) : [];
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
    return buildConverseRequest({
      agent,
      model,
      history: trimmed.history,
      tools,
      call: { callId: input.callId, turn: input.turn, agent: input.agent, from: input.from, to: input.to },
      thinking: agent.thinking !== undefined && !continuing,
    });
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
        if (cached !== undefined) return of<ModelEvent[]>(
          { type: 'text', index: 0, text: cached },
          { type: 'stop', stopReason: 'end_turn' },
        ).pipe(turnEvents());
        return fromModel(input, (text) => void deps.responseCache.set(key, text));
      }),
    );
  }

  /** One model round; `onPlainAnswer` receives the text of a round that ended without tools. */
  function fromModel(input: GenerateInput, onPlainAnswer?: (text: string) => void): Observable<TurnEvent> {
    const { modelId, region } = input.choice;
    const labels = { model: modelId, region };
    return defer(() => {
      let answer = '';
      let plain = true;
      const sentAt = epochMs();
      let first = true;
      return from(buildRequest(input)).pipe(
        // Memory that does not answer (DynamoDB slow, the write queue full) must not leave the caller
        // in silence: the turn gets the canned answer (test/reliability/overload.test.ts, 5,000 starts).
        timeout({
          first: config.bedrock.firstEventTimeoutMs,
          with: () => throwError(() => new ModelCallError(`the request for call ${input.callId} could not be built within ${config.bedrock.firstEventTimeoutMs} ms`, 'ContextTimeout', 'none')),
        }),
        switchMap((request) =>
          converseStream(deps.bedrock(region), request, {
            idleTimeoutMs: config.bedrock.idleTimeoutMs,
            firstEventTimeoutMs: config.bedrock.firstEventTimeoutMs,
          })),
        tap({
          next: (event) => {
            if (first) {
              first = false;
              metrics.modelTtft.observe(labels, (epochMs() - sentAt) / 1000);
            }
            if (event.type === 'text') answer += event.text;
            if (event.type === 'toolUseStart' || (event.type === 'stop' && event.stopReason !== 'end_turn')) plain = false;
            if (event.type === 'usage') {
              accounting.recordUsage({ callId: input.callId, agent: input.agent, modelId, usage: event.usage, prices: catalogue.priceOf(modelId) });
              metrics.countTokens(modelId, event.usage);
            }
          },
          complete: () => {
            metrics.modelStreamDuration.observe(labels, (epochMs() - sentAt) / 1000);
            metrics.modelRequests.inc({ ...labels, outcome: 'ok' });
            if (plain && answer.trim()) onPlainAnswer?.(answer.trim());
          },
          error: (error: ModelCallError) => metrics.modelRequests.inc({ ...labels, outcome: error.code ?? 'error' }),
        }),
        turnEvents(),
      );
    });
  }

  return {
    generate,

    runTools: (input, signal) =>
      executeToolUses(deps.tools, input.uses, { callId: input.callId, agent: input.agent, from: input.from, to: input.to, policy: agentOf(input.agent).toolPolicy }, {
        signal,
        defaultTimeoutMs: config.tools.defaultTimeoutMs,
        maxResultBytes: config.tools.maxResultBytes,
        onResult: (result) => {
          metrics.toolDuration.observe({ tool: result.name, outcome: result.outcome, backend: result.backend ?? 'builtin' }, result.durationMs / 1000);
          if (result.outcome === 'refused') metrics.toolRefusals.inc({ tool: result.name });
          log.info({ event: 'tool.ran', callId: input.callId, tool: result.name, backend: result.backend ?? 'builtin', outcome: result.outcome, durationMs: Math.round(result.durationMs) });
        },
      }),

    record: (callId, messages) => {
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

    turnStarted: (context) => log.debug({ event: 'turn.started', callId: context.callId, turn: context.turn, model: context.choice?.modelId }),
    firstSay: (context, latencyMs) => {
      metrics.observeTurnLatency(latencyMs / 1000, context.callId);
      log.debug({ event: 'turn.first_say', callId: context.callId, turn: context.turn, latencyMs: Math.round(latencyMs) });
    },
    bargeIn: (context) => {
      metrics.bargeIns.inc();
      log.info({ event: 'turn.barge_in', callId: context.callId, turn: context.turn });
    },
    fallbackTaken: (choice, error, decision) => {
      const hop = decision.kind === 'retry' ? decision.hop : 'canned';
      metrics.fallbackHops.inc({ reason: decision.reason, kind: hop });
      log.warn({ event: 'model.fallback', hop, reason: decision.reason, code: error.code, error: error.message, from: choice.modelId, region: choice.region });
    },
  };
}
