/**
 * Conversation messages in the Bedrock Converse shape, restricted to JSON plus the bytes of redacted
 * reasoning (serialised by message-json.ts), so one type serves the model request, the Redis window and the DynamoDB history.
 */
export type Role = 'user' | 'assistant';

export interface TextBlock { text: string }
export interface ToolUseBlock { toolUse: { toolUseId: string; name: string; input: unknown } }
export type ToolResultContent = { json: unknown } | { text: string };
export interface ToolResultBlock {
  toolResult: { toolUseId: string; content: ToolResultContent[]; status: 'success' | 'error' };
}
/**
 * Thinking must be sent back, signature included, before the toolUse it led to. A redacted block is
 * a blob: the bytes Bedrock sent, sent back unchanged (src/llm/message-json.ts stores them).
 */
export interface ReasoningBlock {
  reasoningContent: { reasoningText: { text: string; signature?: string } } | { redactedContent: Uint8Array };
}

export type ContentBlock = TextBlock | ToolUseBlock | ToolResultBlock | ReasoningBlock;

export interface ChatMessage {
  role: Role;
  content: ContentBlock[];
}

export type StopReason =
  | 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence' | 'guardrail_intervened'
  | 'content_filtered' | 'malformed_model_output' | 'malformed_tool_use' | 'model_context_window_exceeded';

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheWriteInputTokens: number;
}

export const emptyUsage = (): TokenUsage => ({
  inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0, cacheWriteInputTokens: 0,
});

export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadInputTokens: a.cacheReadInputTokens + b.cacheReadInputTokens,
    cacheWriteInputTokens: a.cacheWriteInputTokens + b.cacheWriteInputTokens,
  };
}
