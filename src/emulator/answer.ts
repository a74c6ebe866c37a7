import { CONTINUATION_NOTE } from './continuation-note.js';
import type { ConverseRequest, Message } from './converse-request.js';
import { receptionistAnswer } from './receptionist/receptionist.js';
import { randomId } from './seeded-random.js';
import type { ParsedModelScript, ScriptRule } from './script.js';
import { estimateTokens } from './token-pieces.js';

export type StopReason = 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence';

export interface PlannedToolUse {
  toolUseId: string;
  name: string;
  input: unknown;
}

/** What the emulated model says for one request, before it is timed and framed. */
export interface PlannedAnswer {
  /** Reasoning text: always present when the request enables thinking, as Claude thinks first. */
  thinking?: string;
  /** The reasoning goes out as a redacted blob rather than text. */
  redacted?: boolean;
  /** The text still to be produced (after any prefill the request supplied). */
  text: string;
  toolUses: PlannedToolUse[];
  stopReason: StopReason;
  outputTokens: number;
}

/** What the rules look at: the caller's latest words, or the tools whose results just came back. */
export interface RuleInput {
  userText: string;
  answeredTools: string[];
  prefill: string;
  /** `toolResult.<field>`: the top-level strings and numbers of the tool results just returned, for templates. */
  toolResultFields: Record<string, string>;
}

export function ruleInputOf(request: ConverseRequest): RuleInput {
  const { messages } = request;
  const last = messages.at(-1);
  const prefillMessage = last?.role === 'assistant' ? last : undefined;
  const userIndex = messages.length - (prefillMessage ? 2 : 1);
  const user = messages[userIndex];
  const previous = messages[userIndex - 1];
  const resultIds = new Set(user?.content.flatMap((block) => (block.toolResult ? [block.toolResult.toolUseId] : [])) ?? []);
  const answeredTools = previous?.content.flatMap((block) =>
    (block.toolUse && resultIds.has(block.toolUse.toolUseId) ? [block.toolUse.name] : [])) ?? [];
  const texts = user?.content.flatMap((block) => (typeof block.text === 'string' ? [block.text] : [])) ?? [];
  const noted = texts.map((text) => CONTINUATION_NOTE.exec(text)?.[1]).find((said) => said !== undefined);
  const userText = texts.filter((text) => !CONTINUATION_NOTE.test(text)).join(' ');
  return { userText, answeredTools, prefill: textOf(prefillMessage) || (noted ?? ''), toolResultFields: toolResultFieldsOf(user) };
}

/** A reply such as "That comes to {{toolResult.result}}." speaks what the tool answered. */
function toolResultFieldsOf(user: Message | undefined): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const block of user?.content ?? []) {
    for (const item of block.toolResult?.content ?? []) {
      const json = (item as { json?: unknown }).json;
      if (typeof json !== 'object' || json === null) continue;
      for (const [key, value] of Object.entries(json)) {
        if (typeof value === 'string' || typeof value === 'number') fields[`toolResult.${key}`] = String(value);
      }
    }
  }
  return fields;
}

const textOf = (message: Message | undefined): string =>
  message?.content.flatMap((block) => (typeof block.text === 'string' ? [block.text] : [])).join(' ') ?? '';

/** What the emulated model thinks when a rule says nothing: it still thinks first, as Claude does. */
const DEFAULT_THINKING = 'The caller said: "{{text}}". I should answer briefly and helpfully.';

/**
 * The first rule that matches. A `when` rule never matches a message that carries tool results,
 * so a rule cannot loop on the results of its own tool.
 */
export function matchRule(rules: ScriptRule[], input: RuleInput): ScriptRule | undefined {
  return rules.find((rule) => {
    if (rule.after !== undefined && !input.answeredTools.includes(rule.after)) return false;
    if (rule.when !== undefined) {
      if (input.answeredTools.length > 0) return false;
      if (!new RegExp(rule.when, 'i').test(input.userText)) return false;
    }
    return true;
  });
}

const FALLBACK_REPLY = "Sorry, I didn't catch that. Could you say it again?";

/** Fills `{{name}}` from the request metadata (`from`, `to`, `callId`, any other key) and `{{text}}` from the caller's words. */
export function fillTemplate(value: string, variables: Record<string, string>): string {
  return value.replace(/\{\{\s*([\w.-]+)\s*\}\}/g, (_, name: string) => variables[name] ?? '');
}

function fillDeep(value: unknown, variables: Record<string, string>): unknown {
  if (typeof value === 'string') return fillTemplate(value, variables);
  if (Array.isArray(value)) return value.map((item) => fillDeep(item, variables));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fillDeep(item, variables)]));
  }
  return value;
}

export interface AnswerOptions {
  thinkingEnabled: boolean;
  random: () => number;
  /** The emulator's clock: the receptionist's "today" when the prompt states none. */
  now: () => number;
}

interface RuleAnswer {
  thinking?: string;
  reply: string;
  uses: Array<{ name: string; input: unknown }>;
}

/** What the matched rule says: its own reply and tool uses with templates filled, or the receptionist's. */
function ruleAnswer(rule: ScriptRule | undefined, request: ConverseRequest, variables: Record<string, string>, now: () => number): RuleAnswer {
  if (rule?.receptionist) {
    const spoken = receptionistAnswer(request, now());
    return { thinking: spoken.thinking, reply: spoken.text, uses: request.toolConfig ? spoken.toolUses : [] };
  }
  // Claude never answers with a tool use when the request declares no tools.
  const uses = request.toolConfig ? rule?.toolUses ?? (rule?.toolUse ? [rule.toolUse] : []) : [];
  return {
    ...(rule?.thinking !== undefined ? { thinking: rule.thinking } : {}),
    reply: rule?.reply !== undefined ? fillTemplate(rule.reply, variables) : uses.length > 0 ? '' : FALLBACK_REPLY,
    uses: uses.map((use) => ({ name: use.name, input: fillDeep(use.input, variables) })),
  };
}

/** Chooses and shapes the answer to one request: rule, templating, prefill continuation, stop sequences and maxTokens. */
export function planAnswer(script: ParsedModelScript, request: ConverseRequest, options: AnswerOptions): PlannedAnswer {
  const input = ruleInputOf(request);
  const rule = matchRule(script.rules, input);
  const variables = { ...request.requestMetadata, ...input.toolResultFields, text: input.userText };
  const { thinking: ruleThinking, reply, uses } = ruleAnswer(rule, request, variables, options.now);
  const thinking = options.thinkingEnabled ? (rule?.receptionist ? ruleThinking : fillTemplate(ruleThinking ?? DEFAULT_THINKING, variables)) : undefined;
  let toolUses = uses.map((use) => ({ toolUseId: randomId('tooluse_', options.random), name: use.name, input: use.input }));

  let text = input.prefill && reply.startsWith(input.prefill) ? reply.slice(input.prefill.length) : reply;
  let stopReason: StopReason = toolUses.length ? 'tool_use' : 'end_turn';

  const stop = firstStopSequence(text, request.inferenceConfig?.stopSequences ?? []);
  if (stop !== undefined) {
    text = text.slice(0, stop);
    toolUses = [];
    stopReason = 'stop_sequence';
  }

  const thinkingTokens = thinking ? estimateTokens(thinking.length) : 0;
  const toolTokens = toolUses.reduce((sum, use) => sum + estimateTokens(use.name.length + JSON.stringify(use.input).length), 0);
  let outputTokens = thinkingTokens + estimateTokens(text.length) + toolTokens;
  const maxTokens = request.inferenceConfig?.maxTokens;
  if (maxTokens !== undefined && outputTokens > maxTokens) {
    text = text.slice(0, Math.max(0, maxTokens - thinkingTokens) * 4);
    toolUses = [];
    stopReason = 'max_tokens';
    outputTokens = maxTokens;
  }
  return { ...(thinking ? { thinking, ...(rule?.redactedThinking ? { redacted: true } : {}) } : {}), text, toolUses, stopReason, outputTokens };
}

function firstStopSequence(text: string, sequences: string[]): number | undefined {
  const positions = sequences.map((sequence) => text.indexOf(sequence)).filter((position) => position >= 0);
  return positions.length ? Math.min(...positions) : undefined;
}
