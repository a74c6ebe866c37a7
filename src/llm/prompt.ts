import type {
  ContentBlock as SdkContentBlock,
  ConverseStreamCommandInput,
  Message,
  SystemContentBlock,
  Tool,
} from '@aws-sdk/client-bedrock-runtime';
import type { ResolvedModel } from '../config/catalogue.js';
import type { AgentConfig } from '../config/schema.js';
import type { ChatMessage, ContentBlock } from './messages.js';
import { VOICE_RULES_TEXT } from './voice-rules.js';

export interface CallIdentity {
  callId: string;
  turn: number;
  agent: string;
  from?: string;
  to?: string;
}

export interface BuildRequestInput {
  agent: AgentConfig;
  model: ResolvedModel;
  history: ChatMessage[];
  tools: Tool[];
  call: CallIdentity;
  /** The caller's wish for this turn; thinking also needs the agent and the model to support it. */
  thinking: boolean;
}

type ModelFields = NonNullable<ConverseStreamCommandInput['additionalModelRequestFields']>;

const INTERLEAVED_THINKING_BETA = 'interleaved-thinking-2025-05-14';
const CACHE_POINT = { cachePoint: { type: 'default' as const } };

/** Rough token count for deciding cache points; Claude averages about four characters a token. */
export const estimateTokens = (chars: number): number => Math.ceil(chars / 4);

/**
 * One ConverseStream request for a turn: the agent's prompt plus the voice rules, cache points where
 * the cached prefix is long enough to be accepted, thinking only where agent, model and history
 * allow it, and request metadata the emulator and invocation logs key on.
 */
export function buildConverseRequest(input: BuildRequestInput): ConverseStreamCommandInput {
  const { agent, model, call } = input;
  const { entry } = model;
  const staticSystem = `${agent.systemPrompt.trim()}\n\n${VOICE_RULES_TEXT}`;
  const tools = input.tools.length > 0 ? input.tools : placeholderTools(input.history);
  const toolsChars = tools.length > 0 ? JSON.stringify(tools).length : 0;
  const cacheable = (chars: number) => entry.caching && estimateTokens(chars) >= entry.minCacheTokens;

  // Tools come first in the cached prefix, then the system prompt (Bedrock's prefix order).
  const system: SystemContentBlock[] = [{ text: staticSystem }];
  if (cacheable(toolsChars + staticSystem.length)) system.push(CACHE_POINT);
  const details = callDetails(call);
  if (details) system.push({ text: details });

  const maxTokens = Math.max(1, Math.min(agent.maxTokens, entry.maxOutputTokens));
  const thinking = thinkingFields(input, maxTokens);
  const spoken = entry.prefill ? input.history : withoutPrefill(input.history);
  const history = thinking ? spoken : withoutReasoning(spoken);

  const request: ConverseStreamCommandInput = {
    modelId: model.modelId,
    messages: history.map(toSdkMessage),
    system,
    inferenceConfig: {
      maxTokens,
      ...(!thinking && agent.temperature !== undefined ? { temperature: agent.temperature } : {}),
    },
    requestMetadata: requestMetadata(call),
  };
  if (tools.length > 0) {
    request.toolConfig = {
      tools: cacheable(toolsChars) ? [...tools, CACHE_POINT] : tools,
      toolChoice: { auto: {} },
    };
  }
  if (thinking) request.additionalModelRequestFields = thinking;
  const tier = (call.turn <= 1 ? agent.firstAnswerServiceTier : undefined) ?? agent.serviceTier;
  if (tier) request.serviceTier = { type: tier };
  return request;
}

/** The `additionalModelRequestFields` that turn thinking on, or undefined when it must stay off. */
function thinkingFields(input: BuildRequestInput, maxTokens: number): ModelFields | undefined {
  const { agent, model: { entry } } = input;
  if (!input.thinking || !agent.thinking || !entry.thinking) return undefined;
  // Claude refuses a thinking request whose pending tool use was produced without thinking.
  if (!toolLoopHasReasoning(input.history)) return undefined;
  if (entry.thinkingType === 'adaptive') return { thinking: { type: 'adaptive' } };
  const interleaved = agent.thinking.interleaved && entry.interleavedThinking;
  // Without interleaving, max_tokens must exceed the budget; the clamp to the model's output may break that.
  const budget = interleaved ? agent.thinking.budgetTokens : Math.min(agent.thinking.budgetTokens, maxTokens - 1);
  if (budget < 1024) return undefined;
  return {
    thinking: { type: 'enabled', budget_tokens: budget },
    ...(interleaved ? { anthropic_beta: [INTERLEAVED_THINKING_BETA] } : {}),
  };
}

/** True unless the latest assistant message is a tool use still waiting on its results without reasoning. */
function toolLoopHasReasoning(history: ChatMessage[]): boolean {
  for (let i = history.length - 1; i >= 0; i -= 1) {
    const message = history[i]!;
    if (message.role === 'user') {
      if (!message.content.some((block) => 'toolResult' in block)) return true;
      continue;
    }
    const usesTools = message.content.some((block) => 'toolUse' in block);
    return !usesTools || message.content.some((block) => 'reasoningContent' in block);
  }
  return true;
}

/**
 * For models that refuse a trailing assistant message (prefill): the words already spoken move into
 * the caller's message as a note, and the model is asked to go on from them without repeating them.
 */
function withoutPrefill(history: ChatMessage[]): ChatMessage[] {
  const last = history.at(-1);
  const user = history.at(-2);
  if (last?.role !== 'assistant' || user?.role !== 'user') return history;
  const said = last.content.flatMap((block) => ('text' in block ? [block.text] : [])).join(' ').trim();
  const note = said
    ? `${CONTINUATION_NOTE_START}${said}${CONTINUATION_NOTE_END}`
    : undefined;
  const continued: ChatMessage = { role: 'user', content: note ? [...user.content, { text: note }] : user.content };
  return [...history.slice(0, -2), continued];
}

/** Words of the note; the emulator reads the same words to continue after them (src/emulator/answer.ts). */
export const CONTINUATION_NOTE_START = '[You had already said this to the caller before the line broke: "';
export const CONTINUATION_NOTE_END = '" Continue from exactly there, without repeating any of it.]';

function withoutReasoning(history: ChatMessage[]): ChatMessage[] {
  return history.map((message) => {
    const content = message.content.filter((block) => !('reasoningContent' in block));
    // A message of reasoning only stays as it was rather than becoming empty, which Bedrock refuses.
    return content.length === message.content.length || content.length === 0 ? message : { ...message, content };
  });
}

/**
 * Bedrock refuses toolUse/toolResult blocks without a toolConfig. An agent without tools whose
 * history holds some (the agent changed, or the tools were removed) declares them, marked unusable.
 */
function placeholderTools(history: ChatMessage[]): Tool[] {
  const names = new Set<string>();
  for (const message of history) {
    for (const block of message.content) if ('toolUse' in block) names.add(block.toolUse.name);
  }
  const hasResults = history.some((message) => message.content.some((block) => 'toolResult' in block));
  if (names.size === 0 && hasResults) names.add('unavailable_tool');
  return [...names].map((name) => ({
    toolSpec: {
      name,
      description: 'Used earlier in this call. It is no longer available: do not call it.',
      inputSchema: { json: { type: 'object', properties: {} } },
    },
  }));
}

function callDetails(call: CallIdentity): string | undefined {
  const parts = [
    // Quoted as data (JSON strings), never as instructions; the gateway layer admits only E.164 or SIP URIs.
    call.from ? `The caller's phone number is ${JSON.stringify(call.from)}.` : undefined,
    call.to ? `They dialled ${JSON.stringify(call.to)}.` : undefined,
  ].filter((part): part is string => part !== undefined);
  return parts.length > 0 ? `Call details: ${parts.join(' ')}` : undefined;
}

/** Bedrock allows 1–256 (keys) or 0–256 (values) of `[a-zA-Z0-9\s:_@$#=/+,.-]`; anything else is replaced. */
export function sanitiseMetadataValue(value: string): string {
  return value.replace(/[^a-zA-Z0-9\s:_@$#=/+,.-]/g, '_').slice(0, 256);
}

/**
 * Keys of the request for the emulator (which fills `{{from}}`/`{{to}}` in scripted answers from
 * them) and for Bedrock invocation logs. The caller's number goes with it: the prompt already
 * carries it to the model, and these logs belong to the same account.
 */
function requestMetadata(call: CallIdentity): Record<string, string> {
  const metadata: Record<string, string> = {
    callId: sanitiseMetadataValue(call.callId),
    turn: sanitiseMetadataValue(String(call.turn)),
    agent: sanitiseMetadataValue(call.agent),
  };
  if (call.from) metadata.from = sanitiseMetadataValue(call.from);
  if (call.to) metadata.to = sanitiseMetadataValue(call.to);
  return metadata;
}

function toSdkMessage(message: ChatMessage): Message {
  return { role: message.role, content: message.content.map(toSdkBlock) };
}

/** Our blocks are the Converse shapes restricted to JSON; only the `unknown` inputs need the SDK's document type. */
function toSdkBlock(block: ContentBlock): SdkContentBlock {
  return block as SdkContentBlock;
}
