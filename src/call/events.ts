import type { ContentBlock, StopReason, TokenUsage } from '../llm/messages.js';
import type { ToolRunResult } from '../tools/types.js';

/** What the caller side says, already validated by the telephony layer. */
export type CallerEvent =
  | { type: 'caller.transcript'; text: string; final: boolean; readAt: number }
  | { type: 'caller.speechStarted' }
  | { type: 'caller.played'; id: string }
  | { type: 'caller.dtmf'; digit: string; readAt: number }
  | { type: 'caller.hangup'; reason?: string };

/** What the runtime tells the call. */
export type RuntimeEvent =
  | { type: 'runtime.connectionLost' }
  /** Ends the call without words: the suspension grace expired, or the caller's socket could not keep up. */
  | { type: 'runtime.end'; reason: string }
  | { type: 'runtime.shutdown' };

/** What the generation actor relays while one model round streams. */
export type TurnEvent =
  | { type: 'model.started'; modelId: string; region: string }
  | { type: 'model.sentence'; text: string; last: boolean }
  | { type: 'model.reasoning'; block: ContentBlock }
  | {
      type: 'model.done';
      stopReason: StopReason;
      toolUses: Array<{ toolUseId: string; name: string; input: unknown }>;
      usage: TokenUsage;
      /** True when a sentence with `last` went out; otherwise the turn still owes the caller its last chunk. */
      saidLast: boolean;
    };

export type CallEvent = CallerEvent | RuntimeEvent | TurnEvent;

export type { ToolRunResult };
