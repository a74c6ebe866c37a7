import { throwError, type Observable } from 'rxjs';
import { enqueueActions, fromEventObservable, fromPromise, setup, type ActionFunction, type ParameterizedObject } from 'xstate';
import { addUsage, type ChatMessage, type ContentBlock, type TokenUsage } from '../llm/messages.js';
import { ModelCallError } from '../llm/errors.js';
import type { ToolRunResult, ToolUseRequest } from '../tools/types.js';
import {
  initialContext, turnMessages, type CallContext, type CallInput, type EndReason, type ModelChoice, type TurnRound,
} from './context.js';
import type { CallEvent, TurnEvent } from './events.js';
import type { CallEmitted, CallFrame } from './ports.js';

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
  turn: number;
  round: number;
  uses: ToolUseRequest[];
}

export type FallbackDecision =
  | { kind: 'retry'; hop: 'region' | 'model'; choice: ModelChoice; reason: string }
  | { kind: 'canned'; reason: string };

export interface AgentPolicy {
  cannedAnswer: string;
  maxCostUsd: number | undefined;
  actOnDtmf: boolean;
}

/**
 * What the machine looks up while it computes its next context: plain functions of their
 * arguments (and the clock), given once to `createCallMachine`. Nothing here writes anywhere.
 */
export interface CallPolicy {
  chooseModel(context: CallContext): ModelChoice;
  planFallback(choice: ModelChoice, error: ModelCallError): FallbackDecision;
  toolResultBlocks(results: ToolRunResult[]): ContentBlock[];
  fillerFor(toolNames: string[]): string | undefined;
  price(modelId: string, usage: TokenUsage): number;
  agentPolicy(agent: string): AgentPolicy;
  now(): number;
}

/**
 * The call's effects on the world, bound with `withCallEffects` (XState's `provide`): the two
 * actors a turn runs, and the named actions for memory, metrics and logs. Frames are not here:
 * they leave the actor as emitted `frame` events.
 */
export interface CallEffects {
  generate(input: GenerateInput): Observable<TurnEvent>;
  runTools(input: RunToolsInput, signal: AbortSignal): Promise<ToolRunResult[]>;
  /** Appends a finished turn's messages to memory, in order, off the hot path. */
  record(callId: string, messages: ChatMessage[]): void;
  turnStarted(context: CallContext): void;
  firstSay(context: CallContext, latencyMs: number): void;
  bargeIn(context: CallContext): void;
  fallbackTaken(context: CallContext, choice: ModelChoice, error: ModelCallError, decision: FallbackDecision): void;
}

export const GOODBYE_ON_SHUTDOWN = "I'm sorry, I have to end this call now. Please call us back in a moment. Goodbye.";
export const GOODBYE_ON_BUDGET = "I'm sorry, this call has reached its limit. Please call us back if you need anything else. Goodbye.";

const asModelError = (error: unknown): ModelCallError =>
  error instanceof ModelCallError ? error : new ModelCallError(String(error), 'InternalError', 'retry-region');

const isFinal = (transcript: { text: string; final: boolean }): boolean => transcript.final && transcript.text.trim().length > 0;
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

const notBound = (name: string) => new Error(`the call machine's "${name}" is not bound: use withCallEffects`);

/**
 * The call machine. Assigners compute the next context from the event and `policy` only; frames
 * are emitted, and memory, metrics and logs are named actions that do nothing until bound.
 */
export function createCallMachine(policy: CallPolicy) {
  /** The next `say`: its frame, and the context after it. */
  const say = (context: CallContext, text: string, last: boolean) => {
    const counter = context.sayCounter + 1;
    const frame: CallFrame = { type: 'say', id: `s${counter}`, turn: context.turn, text, last };
    const now = policy.now();
    const latencyMs = context.firstSayAt === undefined && context.turnStartedAt > 0 ? now - context.turnStartedAt : undefined;
    const next: Partial<CallContext> = {
      sayCounter: counter,
      chunks: [...context.chunks, { id: frame.id, text, round: context.round, played: false }],
      firstSayAt: latencyMs !== undefined ? now : context.firstSayAt,
      latenciesMs: latencyMs !== undefined ? [...context.latenciesMs.slice(-99), latencyMs] : context.latenciesMs,
    };
    return { frame, next, latencyMs };
  };

  const beginTurn = (context: CallContext, words: string, readAt: number): CallContext => {
    const utterance = context.utterance ? `${context.utterance} ${words}` : words;
    // A turn whose words were never answered keeps its number: the caller hears one answer to both.
    const turn = context.utterance ? context.turn : context.turn + 1;
    const next: CallContext = { ...context, utterance, turn, turnStartedAt: readAt, round: 0, rounds: [emptyRound()], chunks: [], firstSayAt: undefined };
    return { ...next, choice: policy.chooseModel(next) };
  };

  /** The final round's last chunk must carry `last`; a round that said nothing still owes one. */
  const closingChunk = (context: CallContext, saidLast: boolean) => {
    if (saidLast || context.transfer) return undefined;
    return { text: nothingSaid(context) ? policy.agentPolicy(context.agent).cannedAnswer : '', last: true };
  };

  /** A tool's filler covers the wait when the round has said nothing yet. */
  const fillerChunk = (context: CallContext, toolUses: TurnRound['toolUses']) => {
    if (context.chunks.some((chunk) => chunk.round === context.round)) return undefined;
    const filler = policy.fillerFor(toolUses.map((use) => use.name));
    return filler ? { text: filler, last: false } : undefined;
  };

  // Effects first, so the actions that compute context can enqueue them by name with typed params.
  const withEffects = setup({
    types: {
      context: {} as CallContext,
      events: {} as CallEvent,
      input: {} as CallInput,
      emitted: {} as CallEmitted,
    },
    actors: {
      /** A hook before the call listens; the runtime has nothing to prepare today. */
      prepare: fromPromise<void, CallContext>(async () => undefined),
      generate: fromEventObservable<TurnEvent, GenerateInput>(() => throwError(() => notBound('generate'))),
      runTools: fromPromise<ToolRunResult[], RunToolsInput>(async () => {
        throw notBound('runTools');
      }),
    },
    guards: {
      isFinal: (_, transcript: { text: string; final: boolean }) => isFinal(transcript),
      isPartial: (_, transcript: { final: boolean }) => !transcript.final,
      /** A final transcript before the turn said or did anything: it supersedes the turn. */
      isFinalWithNothingSaid: ({ context }, transcript: { text: string; final: boolean }) =>
        isFinal(transcript) && nothingSaid(context) && !toolsRan(context),
      allPlayed: ({ context }) => context.chunks.every((chunk) => chunk.played),
      hasToolUses: (_, done: { toolUses: unknown[] }) => done.toolUses.length > 0,
      actsOnDtmf: ({ context }) => policy.agentPolicy(context.agent).actOnDtmf,
      transferPending: ({ context }) => context.transfer !== undefined,
      budgetSpent: ({ context }) => {
        const max = policy.agentPolicy(context.agent).maxCostUsd;
        return max !== undefined && context.costUsd >= max;
      },
      fallbackIsCanned: ({ context }) => context.choice === undefined,
    },
    // No-ops until bound with `withCallEffects`.
    actions: {
      record: (_, _turn: { callId: string; messages: ChatMessage[] }) => undefined,
      turnStarted: (_, _turn: { context: CallContext }) => undefined,
      firstSay: (_, _say: { context: CallContext; latencyMs: number }) => undefined,
      bargeIn: (_, _turn: { context: CallContext }) => undefined,
      fallbackTaken: (_, _hop: { context: CallContext; choice: ModelChoice; error: ModelCallError; decision: FallbackDecision }) => undefined,
    },
  });

  /** `enqueueActions` that may enqueue the named effects above, with its own typed params. */
  type Setup = typeof withEffects;
  type EffectArgs = Parameters<Setup['createAction']>[0] extends ActionFunction<
    CallContext, CallEvent, CallEvent, unknown, infer Actor, infer Action, infer Guard, infer Delay, CallEmitted
  > ? { actor: Actor; action: Action; guard: Guard; delay: Delay } : never;
  const computes = <Params extends ParameterizedObject['params'] | undefined>(
    collect: Parameters<typeof enqueueActions<
      CallContext, CallEvent, Params, CallEvent, EffectArgs['actor'], EffectArgs['action'], EffectArgs['guard'], EffectArgs['delay'], CallEmitted
    >>[0],
  ) => enqueueActions(collect);

  return withEffects.extend({
    actions: {
      beginTurn: computes(({ context, enqueue }, caller: { words: string; readAt: number; superseding?: boolean }) => {
        const base = caller.superseding ? { ...context, rounds: [], chunks: [] } : context;
        const next = beginTurn(base, caller.words, caller.readAt);
        enqueue.assign(next);
        enqueue({ type: 'turnStarted', params: { context: next } });
      }),
      markPlayed: computes(({ context, enqueue }, played: { id: string }) => {
        if (!context.chunks.some((chunk) => chunk.id === played.id && !chunk.played)) return;
        enqueue.assign({ chunks: context.chunks.map((chunk) => (chunk.id === played.id ? { ...chunk, played: true } : chunk)) });
      }),
      /** Says one chunk; `undefined` when the transition has nothing to say. */
      speak: computes(({ context, enqueue }, chunk: { text: string; last: boolean } | undefined) => {
        if (!chunk) return;
        const said = say(context, chunk.text, chunk.last);
        enqueue.assign(said.next);
        enqueue.emit({ type: 'frame', frame: said.frame });
        if (said.latencyMs !== undefined) enqueue({ type: 'firstSay', params: { context: { ...context, ...said.next }, latencyMs: said.latencyMs } });
      }),
      keepReasoning: computes(({ context, enqueue }, reasoning: { block: ContentBlock }) => {
        enqueue.assign({ rounds: updateRound(context, (round) => ({ ...round, reasoning: [...round.reasoning, reasoning.block] })) });
      }),
      finishRound: computes(({ context, enqueue }, done: { usage: TokenUsage; toolUses: TurnRound['toolUses'] }) => {
        const cost = context.choice ? policy.price(context.choice.modelId, done.usage) : 0;
        enqueue.assign({
          usage: addUsage(context.usage, done.usage),
          costUsd: context.costUsd + cost,
          rounds: updateRound(context, (round) => ({ ...round, toolUses: done.toolUses })),
        });
      }),
      keepToolResults: computes(({ context, enqueue }, tools: { results: ToolRunResult[] }) => {
        const transfer = tools.results.find((result) => result.transfer)?.transfer;
        enqueue.assign({
          rounds: [
            ...updateRound(context, (round) => ({ ...round, toolResults: policy.toolResultBlocks(tools.results) })),
            emptyRound(),
          ],
          round: context.round + 1,
          transfer: transfer ?? context.transfer,
        });
      }),
      planFallback: computes(({ context, enqueue }, failure: { error: unknown }) => {
        const error = asModelError(failure.error);
        const lastError = { code: error.code, recovery: error.recovery };
        if (!context.choice) {
          enqueue.assign({ lastError });
          return;
        }
        const decision = policy.planFallback(context.choice, error);
        // The retry asks again from what the caller already heard; reasoning of the failed attempt is void.
        const rounds = updateRound(context, (round) => ({ ...round, reasoning: [] }));
        enqueue.assign({ lastError, rounds, choice: decision.kind === 'retry' ? decision.choice : undefined });
        enqueue({ type: 'fallbackTaken', params: { context, choice: context.choice, error, decision } });
      }),
      clear: computes(({ context, enqueue }) => {
        enqueue.emit({ type: 'frame', frame: { type: 'clear', turn: context.turn } });
        enqueue({ type: 'bargeIn', params: { context } });
      }),
      /** Ends the turn: records what the caller heard (or everything, when they heard it all) and resets. */
      closeTurn: computes(({ context, enqueue }, turn: { heardOnly: boolean }) => {
        const spoke = !nothingSaid(context) || toolsRan(context);
        if (!spoke) {
          enqueue.assign(resetTurn(context, true));
          return;
        }
        enqueue({ type: 'record', params: { callId: context.callId, messages: turnMessages(context, turn.heardOnly) } });
        enqueue.assign({ ...resetTurn(context, false), turnsCompleted: context.turnsCompleted + 1 });
      }),
      sendTransfer: computes(({ context, enqueue }) => {
        if (context.transfer) enqueue.emit({ type: 'frame', frame: { type: 'transfer', ...context.transfer } });
        enqueue.assign({ endReason: 'transferred' });
      }),
      hangUp: computes(({ enqueue }, end: { reason: 'shutdown' | 'budget' }) => {
        enqueue.emit({ type: 'frame', frame: { type: 'hangup', reason: end.reason } });
        enqueue.assign({ endReason: end.reason });
      }),
      end: computes(({ enqueue }, end: { reason: EndReason }) => {
        enqueue.assign({ endReason: end.reason });
      }),
    },
  }).createMachine({
    id: 'call',
    initial: 'connecting',
    context: ({ input }) => initialContext(input),
    on: {
      'caller.hangup': {
        target: '.ended',
        actions: [
          { type: 'closeTurn', params: { heardOnly: true } },
          { type: 'end', params: ({ event }) => ({ reason: `caller:${event.reason ?? 'hangup'}` as const }) },
        ],
      },
      'runtime.shutdown': {
        target: '.ended',
        actions: [
          { type: 'closeTurn', params: { heardOnly: true } },
          { type: 'speak', params: { text: GOODBYE_ON_SHUTDOWN, last: true } },
          { type: 'hangUp', params: { reason: 'shutdown' } },
        ],
      },
      'runtime.end': {
        target: '.ended',
        actions: [
          { type: 'closeTurn', params: { heardOnly: true } },
          { type: 'end', params: ({ event }) => ({ reason: event.reason }) },
        ],
      },
      'caller.played': { actions: { type: 'markPlayed', params: ({ event }) => event } },
    },
    states: {
      connecting: {
        invoke: {
          id: 'prepare',
          src: 'prepare',
          input: ({ context }) => context,
          onDone: 'listening',
          onError: { target: 'ended', actions: { type: 'end', params: { reason: 'error' } } },
        },
      },
      listening: {
        on: {
          'caller.transcript': {
            guard: { type: 'isFinal', params: ({ event }) => event },
            target: 'responding',
            actions: { type: 'beginTurn', params: ({ event }) => ({ words: event.text.trim(), readAt: event.readAt }) },
          },
          'caller.dtmf': {
            guard: 'actsOnDtmf',
            target: 'responding',
            actions: { type: 'beginTurn', params: ({ event }) => ({ words: `(The caller pressed the key ${event.digit}.)`, readAt: event.readAt }) },
          },
        },
      },
      responding: {
        initial: 'generating',
        on: {
          'caller.speechStarted': { target: 'listening', actions: ['clear', { type: 'closeTurn', params: { heardOnly: true } }] },
          'caller.transcript': [
            {
              guard: { type: 'isPartial', params: ({ event }) => event },
              target: 'listening',
              actions: ['clear', { type: 'closeTurn', params: { heardOnly: true } }],
            },
            {
              guard: { type: 'isFinalWithNothingSaid', params: ({ event }) => event },
              target: 'responding',
              reenter: true,
              actions: { type: 'beginTurn', params: ({ event }) => ({ words: event.text.trim(), readAt: event.readAt, superseding: true }) },
            },
            {
              guard: { type: 'isFinal', params: ({ event }) => event },
              target: 'responding',
              reenter: true,
              actions: [
                { type: 'closeTurn', params: { heardOnly: false } },
                { type: 'beginTurn', params: ({ event }) => ({ words: event.text.trim(), readAt: event.readAt }) },
              ],
            },
          ],
          'runtime.connectionLost': { target: 'listening', actions: { type: 'closeTurn', params: { heardOnly: true } } },
        },
        states: {
          generating: {
            invoke: {
              id: 'generate',
              src: 'generate',
              input: ({ context }) => generateInput(context),
              onError: { target: 'fallback', actions: { type: 'planFallback', params: ({ event }) => ({ error: event.error }) } },
            },
            initial: 'thinking',
            states: {
              thinking: {
                on: { 'model.sentence': { target: 'speaking', actions: { type: 'speak', params: ({ event }) => event } } },
              },
              speaking: {
                on: { 'model.sentence': { actions: { type: 'speak', params: ({ event }) => event } } },
              },
            },
            on: {
              'model.reasoning': { actions: { type: 'keepReasoning', params: ({ event }) => event } },
              'model.done': [
                {
                  guard: { type: 'hasToolUses', params: ({ event }) => event },
                  target: 'toolCalling',
                  actions: [{ type: 'finishRound', params: ({ event }) => event }, { type: 'speak', params: ({ context, event }) => fillerChunk(context, event.toolUses) }],
                },
                {
                  target: 'awaitingPlayback',
                  actions: [{ type: 'finishRound', params: ({ event }) => event }, { type: 'speak', params: ({ context, event }) => closingChunk(context, event.saidLast) }],
                },
              ],
            },
          },
          toolCalling: {
            invoke: {
              id: 'runTools',
              src: 'runTools',
              input: ({ context }) => runToolsInput(context),
              onDone: { target: 'generating', actions: { type: 'keepToolResults', params: ({ event }) => ({ results: event.output }) } },
            },
          },
          fallback: {
            always: [
              { guard: 'fallbackIsCanned', target: 'awaitingPlayback', actions: { type: 'speak', params: ({ context }) => ({ text: policy.agentPolicy(context.agent).cannedAnswer, last: true }) } },
              { target: 'generating' },
            ],
          },
          awaitingPlayback: {
            always: [
              {
                guard: 'transferPending',
                target: '#call.ended',
                actions: ['sendTransfer', { type: 'closeTurn', params: { heardOnly: false } }],
              },
              {
                guard: 'budgetSpent',
                target: '#call.ended',
                actions: [
                  { type: 'closeTurn', params: { heardOnly: false } },
                  { type: 'speak', params: { text: GOODBYE_ON_BUDGET, last: true } },
                  { type: 'hangUp', params: { reason: 'budget' } },
                ],
              },
              { guard: 'allPlayed', target: '#call.listening', actions: { type: 'closeTurn', params: { heardOnly: false } } },
            ],
          },
        },
      },
      ended: { type: 'final' },
    },
  });
}

/** The machine with the world bound: the two actors a turn runs and the named effect actions. */
export function withCallEffects(machine: CallMachine, effects: CallEffects): CallMachine {
  return machine.provide({
    actors: {
      generate: fromEventObservable<TurnEvent, GenerateInput>(({ input }) => effects.generate(input)),
      runTools: fromPromise<ToolRunResult[], RunToolsInput>(({ input, signal }) => effects.runTools(input, signal)),
    },
    actions: {
      record: (_, turn) => effects.record(turn.callId, turn.messages),
      turnStarted: (_, turn) => effects.turnStarted(turn.context),
      firstSay: (_, say) => effects.firstSay(say.context, say.latencyMs),
      bargeIn: (_, turn) => effects.bargeIn(turn.context),
      fallbackTaken: (_, hop) => effects.fallbackTaken(hop.context, hop.choice, hop.error, hop.decision),
    },
  });
}

export type CallMachine = ReturnType<typeof createCallMachine>;

const emptyRound = (): TurnRound => ({ reasoning: [], toolUses: [], toolResults: [] });

function updateRound(context: CallContext, update: (round: TurnRound) => TurnRound): TurnRound[] {
  const rounds = context.rounds.length > 0 ? context.rounds : [emptyRound()];
  return rounds.map((round, index) => (index === context.round ? update(round) : round));
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
    turn: context.turn,
    round: context.round,
    uses: round ? round.toolUses : [],
  };
}
