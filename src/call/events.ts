import type { ContentBlock, StopReason, TokenUsage } from '../llm/messages.js';
import type { ToolRunResult } from '../tools/types.js';
import type { CallerEvent } from './ports.js';
import type { RuntimeEndReason } from './context.js';

export type { CallerEvent };

/** What the runtime tells the call. */
export type RuntimeEvent =
  | { type: 'runtime.connectionLost' }
  /** Ends the call without words: the suspension grace expired, or the caller's socket could not keep up. */
  | { type: 'runtime.end'; reason: RuntimeEndReason }
  | { type: 'runtime.shutdown' }
  /** The actor was started from a stored snapshot: timers of the actor it replaces (the idle policy's) start again. */
  | { type: 'runtime.restored' };

/** What the generation actor relays while one model round streams. */
export type TurnEvent =
  /** The request was sent; `inputTokens` is its estimated input, charged until Bedrock reports usage. */
  | { type: 'model.requested'; inputTokens: number }
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
