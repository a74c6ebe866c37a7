import type { Observable } from 'rxjs';
import { and, assign, fromEventObservable, fromPromise, setup, type ErrorActorEvent } from 'xstate';
import type { ChatMessage, ContentBlock, TokenUsage } from '../llm/messages.js';
import { ModelCallError } from '../llm/errors.js';
import type { ToolRunResult, ToolUseRequest } from '../tools/types.js';
import type { OutboundFrame } from '../telephony/frames.js';
import {
  initialContext, turnMessages, type CallContext, type CallInput, type ModelChoice, type TurnRound,
} from './context.js';
import type { CallEvent, TurnEvent } from './events.js';

/** Everything one model round needs to build its request. */
export interface GenerateInput {
  callId: string;
  agent: string;
  from?: string;
  to?: string;
  turn: number;
  round: number;
  choice: ModelChoice;
  /** This turn's messages so far (the caller's words, earlier rounds, and any words already said this round). */
  turnMessages: ChatMessage[];
  /** False while the call has nothing in memory yet: a new call's first turn need not read it. */
  hasHistory: boolean;
}

export interface RunToolsInput {
  callId: string;
  agent: string;
  from?: string;
  to?: string;
  uses: ToolUseRequest[];
}

export type FallbackDecision =
  | { kind: 'retry'; choice: ModelChoice; reason: string }
  | { kind: 'canned'; reason: string };

/**
 * The call's side effects. The machine names them; `createCallMachine` binds them, so tests drive
 * the same machine with their own implementations.
 */
export interface CallEffects {
  prepare(context: CallContext): Promise<void>;
  chooseModel(context: CallContext): ModelChoice;
  generate(input: GenerateInput): Observable<TurnEvent>;
  runTools(input: RunToolsInput, signal: AbortSignal): Promise<ToolRunResult[]>;
  planFallback(choice: ModelChoice, error: ModelCallError): FallbackDecision;
  toolResultBlocks(results: ToolRunResult[]): ContentBlock[];
  fillerFor(toolNames: string[]): string | undefined;
  price(modelId: string, usage: TokenUsage): number;
  send(callId: string, frame: OutboundFrame): void;
  /** Appends a finished turn's messages to memory, in order, off the hot path. */
  record(context: CallContext, messages: ChatMessage[]): void;
  turnStarted(context: CallContext): void;
  firstSay(context: CallContext, latencyMs: number): void;
  bargeIn(context: CallContext): void;
  now(): number;
  agentPolicy(agent: string): AgentPolicy;
}

export interface AgentPolicy {
  cannedAnswer: string;
  maxCostUsd: number | undefined;
  actOnDtmf: boolean;
}

export const GOODBYE_ON_SHUTDOWN = "I'm sorry, I have to end this call now. Please call us back in a moment. Goodbye.";
export const GOODBYE_ON_BUDGET = "I'm sorry, this call has reached its limit. Please call us back if you need anything else. Goodbye.";

const asModelError = (error: unknown): ModelCallError =>
  error instanceof ModelCallError ? error : new ModelCallError(String(error), 'InternalError', 'retry-region');

const nothingSaid = (context: CallContext): boolean => context.chunks.length === 0;
const toolsRan = (context: CallContext): boolean => context.rounds.some((round) => round.toolResults.length > 0);

/** Clears per-turn state. When nothing was said or done, the caller's words stay pending for the next turn. */
function resetTurn(context: CallContext, keepUtterance: boolean): Partial<CallContext> {
  return {
    utterance: keepUtterance ? context.utterance : '',
    rounds: [],
    chunks: [],
    round: 0,
    choice: undefined,
    transfer: undefined,
    lastError: undefined,
    firstSayAt: undefined,
  };
}

export function createCallMachine(effects: CallEffects) {
  /** Ends the turn: records what the caller heard (or everything, when they heard it all) and resets. */
  const closeTurn = (context: CallContext, heardOnly: boolean): Partial<CallContext> => {
    const spoke = !nothingSaid(context) || toolsRan(context);
    if (!spoke) return resetTurn(context, true);
    effects.record(context, turnMessages(context, heardOnly));
    return { ...resetTurn(context, false), turnsCompleted: context.turnsCompleted + 1 };
  };

  const say = (context: CallContext, text: string, last: boolean): Partial<CallContext> => {
    const counter = context.sayCounter + 1;
    const id = `s${counter}`;
    effects.send(context.callId, { type: 'say', id, turn: context.turn, text, last });
    const now = effects.now();
    const first = context.firstSayAt === undefined && context.turnStartedAt > 0;
    if (first) effects.firstSay(context, now - context.turnStartedAt);
    return {
      sayCounter: counter,
      chunks: [...context.chunks, { id, text, round: context.round, played: false }],
      firstSayAt: first ? now : context.firstSayAt,
      latenciesMs: first ? [...context.latenciesMs.slice(-99), now - context.turnStartedAt] : context.latenciesMs,
    };
  };

  const beginTurn = (context: CallContext, words: string, readAt: number): Partial<CallContext> => {
    const utterance = context.utterance ? `${context.utterance} ${words}` : words;
    // A turn whose words were never answered keeps its number: the caller hears one answer to both.
    const turn = context.utterance ? context.turn : context.turn + 1;
    const next: CallContext = { ...context, utterance, turn, turnStartedAt: readAt, round: 0, rounds: [emptyRound()] };
    const choice = effects.chooseModel(next);
    effects.turnStarted(next);
    return { utterance, turn, turnStartedAt: readAt, round: 0, rounds: [emptyRound()], chunks: [], choice, firstSayAt: undefined };
  };

  const endPolitely = (context: CallContext, reason: string, words: string): Partial<CallContext> => {
    const said = say(context, words, true);
    effects.send(context.callId, { type: 'hangup', reason });
    return { ...said, endReason: reason };
  };

  return setup({
    types: {
      context: {} as CallContext,
      events: {} as CallEvent,
      input: {} as CallInput,
    },
    actors: {
      prepare: fromPromise<void, CallContext>(({ input }) => effects.prepare(input)),
      generate: fromEventObservable<TurnEvent, GenerateInput>(({ input }) => effects.generate(input)),
      runTools: fromPromise<ToolRunResult[], RunToolsInput>(({ input, signal }) => effects.runTools(input, signal)),
    },
    guards: {
      isFinal: ({ event }) => event.type === 'caller.transcript' && event.final && event.text.trim().length > 0,
      isPartial: ({ event }) => event.type === 'caller.transcript' && !event.final,
      nothingSaid: ({ context }) => nothingSaid(context) && !toolsRan(context),
      hasUnplayed: ({ context }) => context.chunks.some((chunk) => !chunk.played),
      allPlayed: ({ context }) => context.chunks.every((chunk) => chunk.played),
      hasToolUses: ({ event }) => event.type === 'model.done' && event.toolUses.length > 0,
      actsOnDtmf: ({ context }) => effects.agentPolicy(context.agent).actOnDtmf,
      transferPending: ({ context }) => context.transfer !== undefined,
      budgetSpent: ({ context }) => {
        const max = effects.agentPolicy(context.agent).maxCostUsd;
        return max !== undefined && context.costUsd >= max;
      },
      fallbackIsCanned: ({ context }) => context.choice === undefined,
    },
    actions: {
      beginTurn: assign(({ context, event }) => {
        if (event.type === 'caller.transcript') return beginTurn(context, event.text.trim(), event.readAt);
        if (event.type === 'caller.dtmf') return beginTurn(context, `(The caller pressed the key ${event.digit}.)`, event.readAt);
        return {};
      }),
      supersede: assign(({ context, event }) => {
        if (event.type !== 'caller.transcript') return {};
        return beginTurn({ ...context, rounds: [], chunks: [] }, event.text.trim(), event.readAt);
      }),
      markPlayed: assign(({ context, event }) => {
        if (event.type !== 'caller.played') return {};
        if (!context.chunks.some((chunk) => chunk.id === event.id && !chunk.played)) return {};
        return { chunks: context.chunks.map((chunk) => (chunk.id === event.id ? { ...chunk, played: true } : chunk)) };
      }),
      speak: assign(({ context, event }) => {
        if (event.type !== 'model.sentence') return {};
        return say(context, event.text, event.last);
      }),
      keepReasoning: assign(({ context, event }) => {
        if (event.type !== 'model.reasoning') return {};
        return { rounds: updateRound(context, (round) => ({ ...round, reasoning: [...round.reasoning, event.block] })) };
      }),
      finishRound: assign(({ context, event }) => {
        if (event.type !== 'model.done') return {};
        const usage = addUsage(context.usage, event.usage);
        const cost = context.choice ? effects.price(context.choice.modelId, event.usage) : 0;
        return {
          usage,
          costUsd: context.costUsd + cost,
          rounds: updateRound(context, (round) => ({ ...round, toolUses: event.toolUses })),
        };
      }),
      /** The final round's last chunk must carry `last`; a round that said nothing still owes one. */
      closeSaying: assign(({ context, event }) => {
        if (event.type !== 'model.done') return {};
        if (event.saidLast || context.transfer) return {};
        if (nothingSaid(context)) return say(context, effects.agentPolicy(context.agent).cannedAnswer, true);
        return say(context, '', true);
      }),
      sayFiller: assign(({ context, event }) => {
        if (event.type !== 'model.done' || context.chunks.some((chunk) => chunk.round === context.round)) return {};
        const filler = effects.fillerFor(event.toolUses.map((use) => use.name));
        return filler ? say(context, filler, false) : {};
      }),
      keepToolResults: assign(({ context, event }) => {
        const results = (event as unknown as { output: ToolRunResult[] }).output;
        const transfer = results.find((result) => result.transfer)?.transfer;
        return {
          rounds: [
            ...updateRound(context, (round) => ({ ...round, toolResults: effects.toolResultBlocks(results) })),
            emptyRound(),
          ],
          round: context.round + 1,
          transfer: transfer ?? context.transfer,
        };
      }),
      planFallback: assign(({ context, event }) => {
        const error = asModelError((event as unknown as ErrorActorEvent).error);
        const lastError = { code: error.code, recovery: error.recovery };
        if (!context.choice) return { lastError };
        const decision = effects.planFallback(context.choice, error);
        // The retry asks again from what the caller already heard; reasoning of the failed attempt is void.
        const rounds = updateRound(context, (round) => ({ ...round, reasoning: [] }));
        return { lastError, rounds, choice: decision.kind === 'retry' ? decision.choice : undefined };
      }),
      sayCanned: assign(({ context }) => say(context, effects.agentPolicy(context.agent).cannedAnswer, true)),
      clear: ({ context }) => {
        effects.send(context.callId, { type: 'clear', turn: context.turn });
        effects.bargeIn(context);
      },
      closeTurnHeard: assign(({ context }) => closeTurn(context, true)),
      closeTurnAll: assign(({ context }) => closeTurn(context, false)),
      sendTransfer: assign(({ context }) => {
        if (context.transfer) effects.send(context.callId, { type: 'transfer', ...context.transfer });
        return { endReason: 'transferred' };
      }),
      endOnHangup: assign(({ event }) => ({
        endReason: event.type === 'caller.hangup' ? `caller:${event.reason ?? 'hangup'}` : 'caller:hangup',
      })),
      endOnShutdown: assign(({ context }) => endPolitely(context, 'shutdown', GOODBYE_ON_SHUTDOWN)),
      endOnBudget: assign(({ context }) => endPolitely(context, 'budget', GOODBYE_ON_BUDGET)),
      endSilently: assign(({ event }) => ({ endReason: event.type === 'runtime.end' ? event.reason : 'dropped' })),
      endOnError: assign({ endReason: 'error' }),
    },
  }).createMachine({
    id: 'call',
    initial: 'connecting',
    context: ({ input }) => initialContext(input),
    on: {
      'caller.hangup': { target: '.ended', actions: ['closeTurnHeard', 'endOnHangup'] },
      'runtime.shutdown': { target: '.ended', actions: ['closeTurnHeard', 'endOnShutdown'] },
      'runtime.end': { target: '.ended', actions: ['closeTurnHeard', 'endSilently'] },
      'caller.played': { actions: 'markPlayed' },
    },
    states: {
      connecting: {
        invoke: {
          id: 'prepare',
          src: 'prepare',
          input: ({ context }) => context,
          onDone: 'listening',
          onError: { target: 'ended', actions: 'endOnError' },
        },
      },
      listening: {
        on: {
          'caller.transcript': { guard: 'isFinal', target: 'responding', actions: 'beginTurn' },
          'caller.dtmf': { guard: 'actsOnDtmf', target: 'responding', actions: 'beginTurn' },
        },
      },
      responding: {
        initial: 'generating',
        on: {
          'caller.speechStarted': { target: 'listening', actions: ['clear', 'closeTurnHeard'] },
          'caller.transcript': [
            { guard: 'isPartial', target: 'listening', actions: ['clear', 'closeTurnHeard'] },
            { guard: and(['isFinal', 'nothingSaid']), target: 'responding', reenter: true, actions: 'supersede' },
            { guard: 'isFinal', target: 'responding', reenter: true, actions: ['closeTurnAll', 'beginTurn'] },
          ],
          'runtime.connectionLost': { target: 'listening', actions: 'closeTurnHeard' },
        },
        states: {
          generating: {
            invoke: {
              id: 'generate',
              src: 'generate',
              input: ({ context }) => generateInput(context),
              onError: 'fallback',
            },
            initial: 'thinking',
            states: {
              thinking: {
                on: { 'model.sentence': { target: 'speaking', actions: 'speak' } },
              },
              speaking: {
                on: { 'model.sentence': { actions: 'speak' } },
              },
            },
            on: {
              'model.reasoning': { actions: 'keepReasoning' },
              'model.done': [
                { guard: 'hasToolUses', target: 'toolCalling', actions: ['finishRound', 'sayFiller'] },
                { target: 'awaitingPlayback', actions: ['finishRound', 'closeSaying'] },
              ],
            },
          },
          toolCalling: {
            invoke: {
              id: 'runTools',
              src: 'runTools',
              input: ({ context }) => runToolsInput(context),
              onDone: { target: 'generating', actions: 'keepToolResults' },
            },
          },
          fallback: {
            entry: 'planFallback',
            always: [
              { guard: 'fallbackIsCanned', target: 'awaitingPlayback', actions: 'sayCanned' },
              { target: 'generating' },
            ],
          },
          awaitingPlayback: {
            always: [
              { guard: 'transferPending', target: '#call.ended', actions: ['sendTransfer', 'closeTurnAll'] },
              { guard: 'budgetSpent', target: '#call.ended', actions: ['closeTurnAll', 'endOnBudget'] },
              { guard: 'allPlayed', target: '#call.listening', actions: 'closeTurnAll' },
            ],
          },
        },
      },
      ended: { type: 'final' },
    },
  });
}

export type CallMachine = ReturnType<typeof createCallMachine>;

const emptyRound = (): TurnRound => ({ reasoning: [], toolUses: [], toolResults: [] });

function updateRound(context: CallContext, update: (round: TurnRound) => TurnRound): TurnRound[] {
  const rounds = context.rounds.length > 0 ? context.rounds : [emptyRound()];
  return rounds.map((round, index) => (index === context.round ? update(round) : round));
}

function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadInputTokens: a.cacheReadInputTokens + b.cacheReadInputTokens,
    cacheWriteInputTokens: a.cacheWriteInputTokens + b.cacheWriteInputTokens,
  };
}

function generateInput(context: CallContext): GenerateInput {
  if (!context.choice) throw new Error(`call ${context.callId}: generating without a model choice`);
  return {
    callId: context.callId,
    agent: context.agent,
    from: context.from,
    to: context.to,
    turn: context.turn,
    round: context.round,
    choice: context.choice,
    turnMessages: turnMessages(context, false),
    hasHistory: context.turnsCompleted > 0 || context.resumed === true,
  };
}

function runToolsInput(context: CallContext): RunToolsInput {
  const round = context.rounds[context.round];
  return {
    callId: context.callId,
    agent: context.agent,
    from: context.from,
    to: context.to,
    uses: round ? round.toolUses : [],
  };
}
