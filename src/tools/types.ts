import type { ToolPolicy } from './policy.js';

/** A tool the model may call. Input is validated against `inputSchema` before `run` sees it. */
export interface ToolDefinition {
  name: string;
  description: string;
  /** JSON Schema of the input object, sent to the model and enforced with ajv. */
  inputSchema: Record<string, unknown>;
  timeoutMs?: number;
  /** What answers it (per agent when a function), the `backend` label of aybiza_tool_duration_seconds: `builtin` when unset. */
  backend?: ToolBackend | ((agent: string) => ToolBackend);
  /** Said while the tool runs, e.g. "One moment while I check that." */
  filler?: string;
  run(input: Record<string, unknown>, context: ToolContext): Promise<ToolOutput>;
}

export type ToolBackend = 'builtin' | 'webhook' | 'lambda' | 'kendra' | 'bedrock-kb' | 'mcp';

export interface ToolContext {
  callId: string;
  agent: string;
  from?: string;
  to?: string;
  /**
   * The agent's tool policy, which tools acting for the caller enforce. Calls always carry their
   * agent's (configured, or the schema's defaults); absent only when a tool is run directly, unrestricted.
   */
  policy?: ToolPolicy;
  signal: AbortSignal;
}

/** A tool's answer. `transfer` asks the call to hand over to a person after the turn. */
export interface ToolOutput {
  result: unknown;
  transfer?: { to: string; reason?: string };
}

export interface ToolUseRequest { toolUseId: string; name: string; input: unknown }

export interface ToolRunResult {
  toolUseId: string;
  name: string;
  status: 'success' | 'error';
  /** JSON sent back to the model as the toolResult content. */
  content: unknown;
  durationMs: number;
  outcome: 'success' | 'invalid_input' | 'unknown_tool' | 'timeout' | 'error' | 'too_large' | 'refused';
  /** What answered (the definition's `backend`), `builtin` for an unknown tool; the executor always sets it. */
  backend?: ToolBackend;
  transfer?: { to: string; reason?: string };
}
