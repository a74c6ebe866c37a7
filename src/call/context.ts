import type { Recovery } from '../llm/errors.js';
import { emptyUsage, type ChatMessage, type ContentBlock, type TokenUsage } from '../llm/messages.js';

/** One spoken chunk of a turn: what was sent, in which model round, and whether the caller heard it. */
export interface SpokenChunk {
  id: string;
  text: string;
  round: number;
  played: boolean;
}

/** A model round of the current turn, kept until the turn is recorded. */
export interface TurnRound {
  /** Reasoning blocks (with signatures) that must precede the round's toolUse when sent back. */
  reasoning: ContentBlock[];
  toolUses: Array<{ toolUseId: string; name: string; input: unknown }>;
  toolResults: ContentBlock[];
}

/** Which model and region the current round asks, and which hops have been tried this turn. */
export interface ModelChoice {
  modelRef: string;
  modelId: string;
  region: string;
  tried: Array<{ modelId: string; region: string; code: string }>;
}

/** Why the runtime ended a call without words: the suspension grace expired, or the caller's socket could not keep up. */
export type RuntimeEndReason = 'dropped' | 'slow_consumer';

/** Why a call ended; a caller's hangup keeps the reason the caller gave, after `caller:`. */
export type EndReason = `caller:${string}` | RuntimeEndReason | 'transferred' | 'budget' | 'idle' | 'shutdown' | 'error';

export interface CallIdentity {
  callId: string;
  agent: string;
  from?: string;
  to?: string;
  metadata?: Record<string, unknown>;
  startedAt: number;
  /** Continued from stored history (the caller sent `resume`), so memory holds earlier turns. */
  resumed?: boolean;
}

/**
 * Everything the call actor remembers. Plain JSON on purpose: it is persisted as the actor's
 * snapshot at every turn boundary, and a crashed call restarts from it.
 */
export interface CallContext extends CallIdentity {
  turn: number;
  /** Call-wide counter behind `say` ids, so ids stay unique across turns and restarts. */
  sayCounter: number;
  /** Words of the caller not yet answered: a cancelled turn's utterance is kept and combined with the next. */
  utterance: string;
  /** Epoch ms when the final transcript that started this turn was read. */
  turnStartedAt: number;
  firstSayAt: number | undefined;
  round: number;
  rounds: TurnRound[];
  chunks: SpokenChunk[];
  choice: ModelChoice | undefined;
  /** Set when a tool asked for a transfer; the call transfers once the turn's words are out. */
  transfer: { to: string; reason?: string } | undefined;
  lastError: { code: string; recovery: Recovery } | undefined;
  usage: TokenUsage;
  /** What the call has spent, including the estimate of a request whose usage has not arrived (or never will: it was aborted). */
  costUsd: number;
  /** Model requests sent in this call, retries and fallback hops included. */
  modelRequests: number;
  /**
   * The estimate charged for the request in flight, replaced by Bedrock's usage when it arrives and
   * refunded when Bedrock refused the request before generating; kept when the request is aborted.
   */
  reserved: { inputTokens: number; costUsd: number } | undefined;
  turnsCompleted: number;
  latenciesMs: number[];
  endReason: EndReason | undefined;
}

export interface CallInput extends CallIdentity {}

export function initialContext(input: CallInput): CallContext {
  return {
    ...input,
    turn: 0,
    sayCounter: 0,
    utterance: '',
    turnStartedAt: 0,
    firstSayAt: undefined,
    round: 0,
    rounds: [],
    chunks: [],
    choice: undefined,
    transfer: undefined,
    lastError: undefined,
    usage: emptyUsage(),
    costUsd: 0,
    modelRequests: 0,
    reserved: undefined,
    turnsCompleted: 0,
    latenciesMs: [],
    endReason: undefined,
  };
}

/**
 * The messages a turn adds to history. Only chunks the caller heard are kept when the turn was
 * interrupted, so the model knows what was actually said to the caller.
 */
export function turnMessages(context: CallContext, heardOnly: boolean): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (context.utterance) messages.push({ role: 'user', content: [{ text: context.utterance }] });
  context.rounds.forEach((round, index) => {
    const said = context.chunks
      .filter((chunk) => chunk.round === index && (!heardOnly || chunk.played))
      .map((chunk) => chunk.text)
      .join(' ');
    // A tool use whose results never came (the caller interrupted) cannot be sent back: Bedrock
    // refuses a toolUse without its toolResult.
    const answered = round.toolUses.length > 0 && round.toolResults.length === round.toolUses.length;
    const content: ContentBlock[] = [];
    if (answered) content.push(...round.reasoning);
    if (said) content.push({ text: said });
    if (answered) for (const use of round.toolUses) content.push({ toolUse: use });
    if (content.length > 0) messages.push({ role: 'assistant', content });
    if (answered) messages.push({ role: 'user', content: round.toolResults });
  });
  return messages;
}
