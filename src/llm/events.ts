import type { StopReason, TokenUsage } from './messages.js';

/**
 * What the streaming client emits for one ConverseStream call. Tool input arrives as partial JSON
 * keyed by content block index; `toolUse` is emitted once per block, with the input parsed, when
 * its block stops, so parallel tool uses interleaved on the wire are never mixed up.
 */
export type ModelEvent =
  | { type: 'text'; index: number; text: string }
  | { type: 'reasoning'; index: number; text?: string; signature?: string; redactedContent?: Uint8Array }
  | { type: 'toolUseStart'; index: number; toolUseId: string; name: string }
  | { type: 'toolUse'; index: number; toolUseId: string; name: string; input: unknown }
  | { type: 'stop'; stopReason: StopReason }
  | { type: 'usage'; usage: TokenUsage; latencyMs: number };
