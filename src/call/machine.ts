import { throwError, type Observable } from 'rxjs';
import { enqueueActions, fromEventObservable, fromPromise, setup, type ActionFunction, type ParameterizedObject } from 'xstate';
import { addUsage, emptyUsage, type ChatMessage, type ContentBlock, type TokenUsage } from '../llm/messages.js';
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
  maxToolRoundsPerTurn: number;
  maxModelRequestsPerCall: number;
  /** The longest utterance a turn sends, after unanswered words are combined with new ones. */
  maxUtteranceChars: number;
  /** Caller silence before the reprompt, and before the goodbye (both from the start of the silence); 0 = never. */
  idleRepromptMs: number;
  idleHangupMs: number;
  idleReprompt: string;
  idleGoodbye: string;
}

/** Which limit stopped a call or a turn: the cost budget, the requests per call, the tool rounds per turn. */
export type LimitReason = 'cost' | 'model_requests' | 'tool_rounds';

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
  record(callId: string, messages: ChatMessage[], agent: string): void;
  turnStarted(context: CallContext): void;
  firstSay(context: CallContext, latencyMs: number): void;
  bargeIn(context: CallContext): void;
  fallbackTaken(context: CallContext, choice: ModelChoice, error: ModelCallError, decision: FallbackDecision): void;
  /** A limit refused the next model request or tool round. */
  limitReached(context: CallContext, reason: LimitReason): void;
}

export const GOODBYE_ON_SHUTDOWN = "I'm sorry, I have to end this call now. Please call us back in a moment. Goodbye.";
export const GOODBYE_ON_BUDGET = "I'm sorry, this call has reached its limit. Please call us back if you need anything else. Goodbye.";

const asModelError = (error: unknown): ModelCallError =>
  error instanceof ModelCallError ? error : new ModelCallError(String(error), 'InternalError', 'retry-region');

/**
 * The caller's words as one utterance of at most `max` characters: unanswered words and new ones
 * combined (a barge-in loop would otherwise grow one request without bound), keeping the newest
 * words and cutting at a word boundary.
 */
export function combineUtterance(pending: string, words: string, max: number): string {
  const combined = pending ? `${pending} ${words}` : words;
  if (combined.length <= max) return combined;
  const start = combined.length - max;
  const tail = combined.slice(start);
  if (/\s/.test(combined[start - 1] ?? ' ')) return tail.trimStart();
  const cut = tail.search(/\s/);
  return cut < 0 ? tail : tail.slice(cut).trimStart();
}

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
    const utterance = combineUtterance(context.utterance, words, policy.agentPolicy(context.agent).maxUtteranceChars);
    // A turn whose words were never answered keeps its number: the caller hears one answer to both.
    const turn = context.utterance ? context.turn : context.turn + 1;
    const next: CallContext = { ...context, utterance, turn, turnStartedAt: readAt, round: 0, rounds: [emptyRound()], chunks: [], firstSayAt: undefined };
    return { ...next, choice: policy.chooseModel(next) };
  };

  const budgetSpent = (context: CallContext): boolean => {
    const max = policy.agentPolicy(context.agent).maxCostUsd;
    return max !== undefined && context.costUsd >= max;
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
      budgetSpent: ({ context }) => budgetSpent(context),
      requestsSpent: ({ context }) => context.modelRequests >= policy.agentPolicy(context.agent).maxModelRequestsPerCall,
      toolRoundsSpent: ({ context }) => context.round >= policy.agentPolicy(context.agent).maxToolRoundsPerTurn,
      idleRepromptOn: ({ context }) => policy.agentPolicy(context.agent).idleRepromptMs > 0,
      idleHangupOn: ({ context }) => policy.agentPolicy(context.agent).idleHangupMs > 0,
      fallbackIsCanned: ({ context }) => context.choice === undefined,
    },
    // No-ops until bound with `withCallEffects`.
    actions: {
      record: (_, _turn: { callId: string; agent: string; messages: ChatMessage[] }) => undefined,
      turnStarted: (_, _turn: { context: CallContext }) => undefined,
      firstSay: (_, _say: { context: CallContext; latencyMs: number }) => undefined,
      bargeIn: (_, _turn: { context: CallContext }) => undefined,
      fallbackTaken: (_, _hop: { context: CallContext; choice: ModelChoice; error: ModelCallError; decision: FallbackDecision }) => undefined,
      limitReached: (_, _limit: { context: CallContext; reason: LimitReason }) => undefined,
    },
    delays: {
      // A delay of 0 means the timer is off: it fires at once and its guard refuses it.
      idleReprompt: ({ context }) => policy.agentPolicy(context.agent).idleRepromptMs,
      idleHangup: ({ context }) => policy.agentPolicy(context.agent).idleHangupMs,
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

  /** Ends the call at a limit: what was heard is recorded, the caller hears the budget goodbye. */
  const endOnLimit = (reason: LimitReason) => [
    { type: 'closeTurn' as const, params: { heardOnly: true } },
    { type: 'speak' as const, params: { text: GOODBYE_ON_BUDGET, last: true } },
    { type: 'hangUp' as const, params: { reason: 'budget' as const } },
    { type: 'limitReached' as const, params: ({ context }: { context: CallContext }) => ({ context, reason }) },
  ];
  const sayGoodbyeWhenIdle = [
    { type: 'announce' as const, params: ({ context }: { context: CallContext }) => ({ text: policy.agentPolicy(context.agent).idleGoodbye }) },
    { type: 'hangUp' as const, params: { reason: 'idle' as const } },
  ];

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
      /** A request is about to go out: counted, and no earlier estimate is refunded any more. */
      countRequest: computes(({ context, enqueue }) => {
        enqueue.assign({ modelRequests: context.modelRequests + 1, reserved: undefined });
      }),
      /** Charges the sent request's estimated input until Bedrock's usage replaces it. */
      reserve: computes(({ context, enqueue }, sent: { inputTokens: number }) => {
        const inputTokens = Math.max(0, Math.ceil(sent.inputTokens));
        const costUsd = context.choice ? policy.price(context.choice.modelId, { ...emptyUsage(), inputTokens }) : 0;
        enqueue.assign({
          usage: addUsage(context.usage, { ...emptyUsage(), inputTokens }),
          costUsd: context.costUsd + costUsd,
          reserved: { inputTokens, costUsd },
        });
      }),
      finishRound: computes(({ context, enqueue }, done: { usage: TokenUsage; toolUses: TurnRound['toolUses'] }) => {
        const cost = context.choice ? policy.price(context.choice.modelId, done.usage) : 0;
        const refunded = refund(context);
        enqueue.assign({
          usage: addUsage(refunded.usage, done.usage),
          costUsd: refunded.costUsd + cost,
          reserved: undefined,
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
        // Refused before it generated anything, a request is not billed; one that broke mid-stream is.
        const charged = error.midStream ? {} : { ...refund(context), reserved: undefined };
        enqueue.assign({ lastError, rounds, choice: decision.kind === 'retry' ? decision.choice : undefined, ...charged });
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
        enqueue({ type: 'record', params: { callId: context.callId, agent: context.agent, messages: turnMessages(context, turn.heardOnly) } });
        enqueue.assign({ ...resetTurn(context, false), turnsCompleted: context.turnsCompleted + 1 });
      }),
      sendTransfer: computes(({ context, enqueue }) => {
        if (context.transfer) enqueue.emit({ type: 'frame', frame: { type: 'transfer', ...context.transfer } });
        enqueue.assign({ endReason: 'transferred' });
      }),
      hangUp: computes(({ enqueue }, end: { reason: 'shutdown' | 'budget' | 'idle' }) => {
        enqueue.emit({ type: 'frame', frame: { type: 'hangup', reason: end.reason } });
        enqueue.assign({ endReason: end.reason });
      }),
      /** Says a line outside any turn (the idle reprompt and goodbye): not history, not a turn's latency. */
      announce: computes(({ context, enqueue }, line: { text: string }) => {
        const counter = context.sayCounter + 1;
        enqueue.emit({ type: 'frame', frame: { type: 'say', id: `s${counter}`, turn: context.turn, text: line.text, last: true } });
        enqueue.assign({ sayCounter: counter });
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
        // The idle policy: a reprompt, then a goodbye, both timed from when the agent began to listen;
        // anything the caller sends re-enters the state and starts the silence again.
        after: {
          idleReprompt: { guard: 'idleRepromptOn', actions: { type: 'announce', params: ({ context }) => ({ text: policy.agentPolicy(context.agent).idleReprompt }) } },
          idleHangup: { guard: 'idleHangupOn', target: 'ended', actions: sayGoodbyeWhenIdle },
        },
        on: {
          'caller.transcript': [
            {
              guard: { type: 'isFinal', params: ({ event }) => event },
              target: 'responding',
              actions: { type: 'beginTurn', params: ({ event }) => ({ words: event.text.trim(), readAt: event.readAt }) },
            },
            { target: 'listening', reenter: true },
          ],
          'caller.dtmf': [
            {
              guard: 'actsOnDtmf',
              target: 'responding',
              actions: { type: 'beginTurn', params: ({ event }) => ({ words: `(The caller pressed the key ${event.digit}.)`, readAt: event.readAt }) },
            },
            { target: 'listening', reenter: true },
          ],
          'caller.speechStarted': { target: 'listening', reenter: true },
          'runtime.restored': { target: 'listening', reenter: true },
        },
      },
      responding: {
        initial: 'checking',
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
          /** Before every model request (a turn's first, each tool round's, each retry): the call's limits. */
          checking: {
            always: [
              { guard: 'budgetSpent', target: '#call.ended', actions: endOnLimit('cost') },
              { guard: 'requestsSpent', target: '#call.ended', actions: endOnLimit('model_requests') },
              { target: 'generating' },
            ],
          },
          generating: {
            entry: 'countRequest',
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
              'model.requested': { actions: { type: 'reserve', params: ({ event }) => event } },
              'model.reasoning': { actions: { type: 'keepReasoning', params: ({ event }) => event } },
              'model.done': [
                {
                  guard: { type: 'hasToolUses', params: ({ event }) => event },
                  target: 'toolGate',
                  actions: { type: 'finishRound', params: ({ event }) => event },
                },
                {
                  target: 'awaitingPlayback',
                  actions: [{ type: 'finishRound', params: ({ event }) => event }, { type: 'speak', params: ({ context, event }) => closingChunk(context, event.saidLast) }],
                },
              ],
            },
          },
          /** The model asked for tools: run them only within the turn's tool rounds and the call's limits. */
          toolGate: {
            always: [
              {
                guard: 'toolRoundsSpent',
                target: 'awaitingPlayback',
                actions: [
                  { type: 'speak', params: ({ context }) => ({ text: policy.agentPolicy(context.agent).cannedAnswer, last: true }) },
                  { type: 'limitReached', params: ({ context }) => ({ context, reason: 'tool_rounds' as const }) },
                ],
              },
              { guard: 'budgetSpent', target: '#call.ended', actions: endOnLimit('cost') },
              { guard: 'requestsSpent', target: '#call.ended', actions: endOnLimit('model_requests') },
              { target: 'toolCalling', actions: { type: 'speak', params: ({ context }) => fillerChunk(context, context.rounds[context.round]?.toolUses ?? []) } },
            ],
          },
          toolCalling: {
            invoke: {
              id: 'runTools',
              src: 'runTools',
              input: ({ context }) => runToolsInput(context),
              onDone: { target: 'checking', actions: { type: 'keepToolResults', params: ({ event }) => ({ results: event.output }) } },
            },
          },
          fallback: {
            always: [
              { guard: 'fallbackIsCanned', target: 'awaitingPlayback', actions: { type: 'speak', params: ({ context }) => ({ text: policy.agentPolicy(context.agent).cannedAnswer, last: true }) } },
              { target: 'checking' },
            ],
          },
          awaitingPlayback: {
            // A caller side that stops acknowledging playback is as silent as one that stops talking.
            after: { idleHangup: { guard: 'idleHangupOn', target: '#call.ended', actions: [{ type: 'closeTurn', params: { heardOnly: true } }, ...sayGoodbyeWhenIdle] } },
            on: { 'caller.played': { target: 'awaitingPlayback', reenter: true, actions: { type: 'markPlayed', params: ({ event }) => event } } },
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
                  { type: 'limitReached', params: ({ context }) => ({ context, reason: 'cost' as const }) },
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
      record: (_, turn) => effects.record(turn.callId, turn.messages, turn.agent),
      turnStarted: (_, turn) => effects.turnStarted(turn.context),
      firstSay: (_, say) => effects.firstSay(say.context, say.latencyMs),
      bargeIn: (_, turn) => effects.bargeIn(turn.context),
      fallbackTaken: (_, hop) => effects.fallbackTaken(hop.context, hop.choice, hop.error, hop.decision),
      limitReached: (_, limit) => effects.limitReached(limit.context, limit.reason),
    },
  });
}

export type CallMachine = ReturnType<typeof createCallMachine>;

const emptyRound = (): TurnRound => ({ reasoning: [], toolUses: [], toolResults: [] });

function updateRound(context: CallContext, update: (round: TurnRound) => TurnRound): TurnRound[] {
  const rounds = context.rounds.length > 0 ? context.rounds : [emptyRound()];
  return rounds.map((round, index) => (index === context.round ? update(round) : round));
}

/** The call's spending without the estimate of the request in flight. */
function refund(context: CallContext): Pick<CallContext, 'usage' | 'costUsd'> {
  const { reserved } = context;
  if (!reserved) return { usage: context.usage, costUsd: context.costUsd };
  return { usage: { ...context.usage, inputTokens: context.usage.inputTokens - reserved.inputTokens }, costUsd: context.costUsd - reserved.costUsd };
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
