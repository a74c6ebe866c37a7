import { validation } from './bedrock-errors.js';
import type { EmulatedModel } from './model-facts.js';
import { verifyReasoning, verifyRedacted } from './reasoning-signature.js';

/** The parts of a Converse request body the emulator reads; validated by {@link validateConverseRequest}. */
export interface ContentBlock {
  text?: string;
  toolUse?: { toolUseId: string; name: string; input: unknown };
  toolResult?: { toolUseId: string; content: unknown[]; status?: string };
  reasoningContent?: { reasoningText?: { text: string; signature?: string }; redactedContent?: unknown };
  cachePoint?: { type: string; ttl?: string };
  [other: string]: unknown;
}

export interface Message {
  role: 'user' | 'assistant';
  content: ContentBlock[];
}

export interface ConverseRequest {
  messages: Message[];
  system?: ContentBlock[];
  inferenceConfig?: { maxTokens?: number; temperature?: number; topP?: number; stopSequences?: string[] };
  toolConfig?: { tools: Array<{ toolSpec?: { name: string; inputSchema?: { json?: unknown } }; cachePoint?: unknown }>; toolChoice?: Record<string, unknown> };
  additionalModelRequestFields?: Record<string, unknown>;
  requestMetadata?: Record<string, string>;
  serviceTier?: { type?: string };
}

export interface ThinkingSettings {
  budgetTokens: number;
}

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const TOOL_USE_ID = /^[a-zA-Z0-9_.:-]{1,64}$/;
const METADATA_KEY = /^[a-zA-Z0-9\s:_@$#=/+,.-]{1,256}$/;
const MAX_CACHE_POINTS = 4;

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Bedrock's wording for constraint failures found by its request model, before the model sees anything. */
const constraint = (path: string, value: unknown, rule: string) =>
  validation(`1 validation error detected: Value ${value === undefined ? 'null' : JSON.stringify(value)} at '${path}' failed to satisfy constraint: ${rule}`);

/** Anthropic's own checks come back wrapped, as Bedrock returns them. */
const modelError = (message: string) => validation(`The model returned the following errors: ${message}`);

/** The request's thinking settings, or undefined when thinking is off. */
export function thinkingOf(request: ConverseRequest): ThinkingSettings | undefined {
  const thinking = request.additionalModelRequestFields?.thinking;
  if (!isObject(thinking) || (thinking.type !== 'enabled' && thinking.type !== 'adaptive')) return undefined;
  return { budgetTokens: typeof thinking.budget_tokens === 'number' ? thinking.budget_tokens : 0 };
}

/**
 * Checks a Converse request the way Bedrock does and returns it typed, or throws the
 * ValidationException Bedrock would answer with.
 */
export function validateConverseRequest(body: unknown, model: EmulatedModel): ConverseRequest {
  if (!isObject(body)) throw validation('Malformed input request, please reformat your input and try again.');
  const request = body as unknown as ConverseRequest;
  validateMessagesShape(body.messages);
  validateToolConfig(request);
  validateConversation(request);
  if (!model.prefill && request.messages.at(-1)?.role === 'assistant') {
    throw modelError('This model does not support assistant message prefill. The conversation must end with a user message.');
  }
  validateInference(request, model);
  validateModelFields(request);
  validateThinking(request, model);
  validateCachePoints(request, model);
  validateMetadata(body.requestMetadata);
  validateServiceTier(body.serviceTier);
  return request;
}

/** The `additionalModelRequestFields` Claude on Bedrock takes; Anthropic refuses any other key. */
const MODEL_FIELDS = new Set(['thinking', 'anthropic_beta', 'top_k', 'output_config', 'tool_choice', 'anthropic_version']);

function validateModelFields(request: ConverseRequest): void {
  const fields = request.additionalModelRequestFields;
  if (fields === undefined) return;
  if (!isObject(fields)) throw constraint('additionalModelRequestFields', fields, 'Member must be a JSON object');
  const unknown = Object.keys(fields).find((key) => !MODEL_FIELDS.has(key));
  if (unknown !== undefined) throw modelError(`${unknown}: Extra inputs are not permitted`);
}

function validateMessagesShape(messages: unknown): void {
  if (!Array.isArray(messages)) throw constraint('messages', messages, 'Member must not be null');
  messages.forEach((message: unknown, index) => {
    if (!isObject(message)) throw constraint(`messages.${index}.member`, message, 'Member must not be null');
    if (message.role !== 'user' && message.role !== 'assistant') {
      throw constraint(`messages.${index}.member.role`, message.role, 'Member must satisfy enum value set: [user, assistant]');
    }
    const content = message.content;
    if (!Array.isArray(content)) throw constraint(`messages.${index}.member.content`, content, 'Member must not be null');
    if (content.length === 0) {
      throw validation(`The content field in the Message object at messages.${index} is empty. Add a ContentBlock object to the content field and try again.`);
    }
    content.forEach((block: unknown, blockIndex) => validateBlock(block, `messages.${index}.content.${blockIndex}`));
  });
}

function validateBlock(block: unknown, path: string): void {
  if (!isObject(block) || Object.keys(block).length !== 1) {
    throw validation(`The ContentBlock object at ${path} must set exactly one of its fields.`);
  }
  if ('text' in block && (typeof block.text !== 'string' || block.text.trim() === '')) {
    throw validation(`The text field in the ContentBlock object at ${path} is blank. Add text to the text field, and try again.`);
  }
  const toolUse = block.toolUse;
  if (toolUse !== undefined) {
    if (!isObject(toolUse)) throw constraint(`${path}.toolUse`, toolUse, 'Member must not be null');
    if (typeof toolUse.name !== 'string' || !TOOL_NAME.test(toolUse.name)) {
      throw constraint(`${path}.toolUse.name`, toolUse.name, 'Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+');
    }
    if (typeof toolUse.toolUseId !== 'string' || !TOOL_USE_ID.test(toolUse.toolUseId)) {
      throw constraint(`${path}.toolUse.toolUseId`, toolUse.toolUseId, 'Member must satisfy regular expression pattern: ^[a-zA-Z0-9_.:-]+$');
    }
  }
  const toolResult = block.toolResult;
  if (toolResult !== undefined) {
    if (!isObject(toolResult)) throw constraint(`${path}.toolResult`, toolResult, 'Member must not be null');
    if (typeof toolResult.toolUseId !== 'string' || !TOOL_USE_ID.test(toolResult.toolUseId)) {
      throw constraint(`${path}.toolResult.toolUseId`, toolResult.toolUseId, 'Member must satisfy regular expression pattern: ^[a-zA-Z0-9_.:-]+$');
    }
    if (toolResult.status !== undefined && toolResult.status !== 'success' && toolResult.status !== 'error') {
      throw constraint(`${path}.toolResult.status`, toolResult.status, 'Member must satisfy enum value set: [success, error]');
    }
    if (!Array.isArray(toolResult.content)) throw constraint(`${path}.toolResult.content`, toolResult.content, 'Member must not be null');
    if (toolResult.status === 'error' && toolResult.content.length === 0) {
      throw validation(`The content field at ${path}.toolResult cannot be empty when status value is error.`);
    }
  }
}

function validateToolConfig(request: ConverseRequest): void {
  const config: unknown = request.toolConfig;
  const usesTools = request.messages.some((message) => message.content.some((block) => block.toolUse || block.toolResult));
  if (config === undefined) {
    if (usesTools) throw validation('The toolConfig field must be defined when using toolUse and toolResult content blocks.');
    return;
  }
  if (!isObject(config) || !Array.isArray(config.tools) || config.tools.length === 0) {
    throw constraint('toolConfig.tools', isObject(config) ? config.tools : undefined, 'Member must have length greater than or equal to 1');
  }
  const names = new Set<string>();
  config.tools.forEach((tool: unknown, index) => {
    if (isObject(tool) && 'cachePoint' in tool) return;
    const spec = isObject(tool) ? tool.toolSpec : undefined;
    if (!isObject(spec)) throw constraint(`toolConfig.tools.${index}.member.toolSpec`, spec, 'Member must not be null');
    if (typeof spec.name !== 'string' || !TOOL_NAME.test(spec.name)) {
      throw constraint(`toolConfig.tools.${index}.member.toolSpec.name`, spec.name, 'Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+');
    }
    const schema = isObject(spec.inputSchema) ? spec.inputSchema.json : undefined;
    if (!isObject(schema)) throw constraint(`toolConfig.tools.${index}.member.toolSpec.inputSchema.json`, schema, 'Member must be a JSON object');
    if (schema.type !== undefined && schema.type !== 'object') {
      throw modelError(`tools.${index}.custom.input_schema.type: Input should be 'object'`);
    }
    if (names.has(spec.name)) throw modelError('tools: Tool names must be unique.');
    names.add(spec.name);
  });
  const forced = config.toolChoice;
  if (isObject(forced) && isObject(forced.tool)) {
    const name = forced.tool.name;
    if (typeof name !== 'string' || !names.has(name)) throw modelError(`tool_choice: tool "${String(name)}" is not among the provided tools`);
  }
}

function validateConversation(request: ConverseRequest): void {
  const { messages } = request;
  if (messages.length === 0 || messages[0]!.role !== 'user') {
    throw validation('A conversation must start with a user message. Try again with a conversation that starts with a user message.');
  }
  messages.forEach((message, index) => {
    if (index > 0 && messages[index - 1]!.role === message.role) {
      throw validation('A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.');
    }
    if (message.role !== 'user') return;
    const asked = toolUseIds(messages[index - 1]);
    const answered = message.content.flatMap((block) => (block.toolResult ? [block.toolResult.toolUseId] : []));
    const unexpected = answered.filter((id) => !asked.includes(id));
    if (unexpected.length) {
      throw modelError(`messages.${index}.content: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${unexpected.join(', ')}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`);
    }
    const unanswered = asked.filter((id) => !answered.includes(id));
    if (unanswered.length) {
      throw modelError(`messages.${index - 1}.content: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${unanswered.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`);
    }
  });
  const last = messages.at(-1)!;
  if (last.role === 'assistant') {
    if (toolUseIds(last).length) throw validation('A conversation must not end with an assistant message that uses a tool. Add the toolResult in a user message and try again.');
    const prefill = last.content.filter((block) => typeof block.text === 'string').map((block) => block.text).join('');
    if (/\s$/.test(prefill)) throw modelError('final assistant content cannot end with trailing whitespace');
  }
}

const toolUseIds = (message: Message | undefined): string[] =>
  message?.role === 'assistant' ? message.content.flatMap((block) => (block.toolUse ? [block.toolUse.toolUseId] : [])) : [];

function validateInference(request: ConverseRequest, model: EmulatedModel): void {
  const config: unknown = request.inferenceConfig;
  if (config === undefined) return;
  if (!isObject(config)) throw constraint('inferenceConfig', config, 'Member must be an object');
  const { maxTokens, temperature, topP, stopSequences } = config;
  if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || (maxTokens as number) < 1)) {
    throw constraint('inferenceConfig.maxTokens', maxTokens, 'Member must have value greater than or equal to 1');
  }
  if (typeof maxTokens === 'number' && maxTokens > model.maxOutputTokens) {
    throw validation(`The maximum tokens you requested exceeds the model limit of ${model.maxOutputTokens}. Try again with a maximum tokens value that is lower than ${model.maxOutputTokens}.`);
  }
  for (const [name, value] of [['temperature', temperature], ['topP', topP]] as const) {
    if (value !== undefined && (typeof value !== 'number' || value < 0 || value > 1)) {
      throw constraint(`inferenceConfig.${name}`, value, 'Member must have value between 0 and 1');
    }
  }
  if (stopSequences !== undefined && (!Array.isArray(stopSequences) || stopSequences.length > 4 || stopSequences.some((s) => typeof s !== 'string' || s === ''))) {
    throw constraint('inferenceConfig.stopSequences', stopSequences, 'Member must have length less than or equal to 4');
  }
  if (temperature !== undefined && topP !== undefined && !model.temperatureWithTopP) {
    throw modelError('`temperature` and `top_p` cannot both be specified for this model. Please use only one.');
  }
}

const THINKING_DOCS = 'Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking';

function validateThinking(request: ConverseRequest, model: EmulatedModel): void {
  const fields = request.additionalModelRequestFields;
  const thinking = fields?.thinking;
  if (fields === undefined || thinking === undefined) return;
  if (!isObject(thinking) || (thinking.type !== 'enabled' && thinking.type !== 'disabled' && thinking.type !== 'adaptive')) {
    throw modelError("thinking.type: Input should be 'enabled', 'disabled' or 'adaptive'");
  }
  if (thinking.type === 'disabled') return;
  if (model.thinkingTypes.length === 0) throw modelError('thinking: Extra inputs are not permitted');
  if (!model.thinkingTypes.includes(thinking.type)) {
    throw modelError(thinking.type === 'adaptive'
      ? "thinking.type: Input tag 'adaptive' found using 'type' does not match any of the expected tags: 'disabled', 'enabled'"
      : `thinking.type.enabled is not supported for this model. Use thinking.type.adaptive and output_config.effort to control thinking behavior.`);
  }
  if (thinking.type === 'enabled') {
    const budget = thinking.budget_tokens;
    if (!Number.isInteger(budget)) throw modelError('thinking.enabled.budget_tokens: Field required');
    if ((budget as number) < 1_024) throw modelError('thinking.enabled.budget_tokens: Input should be greater than or equal to 1024');
    const interleaved = Array.isArray(fields.anthropic_beta) && fields.anthropic_beta.includes('interleaved-thinking-2025-05-14');
    const maxTokens = request.inferenceConfig?.maxTokens;
    if (!interleaved && maxTokens !== undefined && maxTokens <= (budget as number)) {
      throw modelError('`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size');
    }
  }
  // BEDROCK.md (December 2026): with thinking, temperature may be 1 and topP 0.95 to 1; topK never.
  const temperature = request.inferenceConfig?.temperature;
  if (temperature !== undefined && temperature !== 1) {
    throw modelError(`\`temperature\` may only be set to 1 when thinking is enabled. ${THINKING_DOCS}#feature-compatibility`);
  }
  const topP = request.inferenceConfig?.topP;
  if (topP !== undefined && topP < 0.95) {
    throw modelError(`\`top_p\` must be greater than or equal to 0.95 or unset when thinking is enabled. ${THINKING_DOCS}#feature-compatibility`);
  }
  if (fields.top_k !== undefined) throw modelError(`\`top_k\` must be unset when thinking is enabled. ${THINKING_DOCS}#feature-compatibility`);
  const choice = request.toolConfig?.toolChoice;
  if (choice && ('any' in choice || 'tool' in choice)) {
    throw modelError('Thinking may not be enabled when tool_choice forces tool use.');
  }
  if (request.messages.at(-1)?.role === 'assistant') {
    throw modelError('This model does not support assistant message prefill when thinking is enabled. The conversation must end with a user message.');
  }
  validateReasoningBlocks(request.messages);
}

const blockType = (block: ContentBlock): string =>
  block.reasoningContent ? (block.reasoningContent.redactedContent !== undefined ? 'redacted_thinking' : 'thinking')
    : block.toolUse ? 'tool_use' : block.toolResult ? 'tool_result' : 'text';

/**
 * With thinking on: reasoning blocks come first in an assistant message and carry a signature
 * this emulator issued, and the assistant message of the tool loop in progress starts with one.
 */
function validateReasoningBlocks(messages: Message[]): void {
  messages.forEach((message, index) => {
    if (message.role !== 'assistant') return;
    let answered = false;
    message.content.forEach((block, blockIndex) => {
      const path = `messages.${index}.content.${blockIndex}`;
      const reasoning = block.reasoningContent;
      if (!reasoning) {
        if (block.cachePoint === undefined) answered = true;
        return;
      }
      if (answered) throw modelError(`${path}.type: \`thinking\` blocks must come before any \`text\` or \`tool_use\` block of an \`assistant\` message.`);
      if (reasoning.redactedContent !== undefined) {
        if (!verifyRedacted(reasoning.redactedContent)) throw modelError(`${path}: Invalid \`data\` in \`redacted_thinking\` block`);
      } else if (!reasoning.reasoningText || !verifyReasoning(reasoning.reasoningText.text, reasoning.reasoningText.signature)) {
        throw modelError(`${path}: Invalid \`signature\` in \`thinking\` block`);
      }
    });
  });
  const last = messages.at(-1);
  const loop = messages.at(-2);
  if (last?.role !== 'user' || !last.content.some((block) => block.toolResult) || loop?.role !== 'assistant') return;
  const first = loop.content[0];
  if (first && !first.reasoningContent) {
    throw modelError(`messages.${messages.length - 2}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${blockType(first)}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block (preceeding the lastmost set of \`tool_use\` and \`tool_result\` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable \`thinking\`. ${THINKING_DOCS}`);
  }
}

function validateCachePoints(request: ConverseRequest, model: EmulatedModel): void {
  const sections: Array<[string, Array<{ cachePoint?: unknown; reasoningContent?: unknown }>]> = [
    ['toolConfig.tools', (request.toolConfig?.tools ?? []) as Array<{ cachePoint?: unknown }>],
    ['system', request.system ?? []],
    ...request.messages.map((message, index): [string, ContentBlock[]] => [`messages.${index}.content`, message.content]),
  ];
  let points = 0;
  let before = 0;
  for (const [path, blocks] of sections) {
    if (blocks.length > 0 && blocks.every((block) => isObject(block) && block.cachePoint !== undefined)) {
      throw validation(`The ${path} field holds only a cachePoint block. Add content before the cachePoint and try again.`);
    }
    blocks.forEach((block, index) => {
      if (!isObject(block) || block.cachePoint === undefined) {
        before += 1;
        return;
      }
      const { cachePoint } = block;
      if (!isObject(cachePoint) || cachePoint.type !== 'default') throw constraint(`${path}.${index}.cachePoint.type`, isObject(cachePoint) ? cachePoint.type : cachePoint, 'Member must satisfy enum value set: [default]');
      if (cachePoint.ttl !== undefined && cachePoint.ttl !== '5m' && cachePoint.ttl !== '1h') {
        throw constraint(`${path}.${index}.cachePoint.ttl`, cachePoint.ttl, 'Member must satisfy enum value set: [5m, 1h]');
      }
      if (model.cacheTtls.length === 0) throw validation(`The model ${model.id} does not support prompt caching. Remove the cachePoint blocks and try again.`);
      if (cachePoint.ttl !== undefined && !model.cacheTtls.includes(cachePoint.ttl as string)) {
        throw validation(`The cache TTL ${String(cachePoint.ttl)} at ${path}.${index}.cachePoint is not supported by this model. Supported TTLs: ${model.cacheTtls.join(', ')}.`);
      }
      if (before === 0) throw validation(`The cachePoint at ${path}.${index} has no content before it. Place a cachePoint after the content to cache and try again.`);
      if (isObject(blocks[index - 1]) && (blocks[index - 1] as { reasoningContent?: unknown }).reasoningContent !== undefined) {
        throw modelError(`${path}.${index}: cache_control cannot be set directly after a thinking block.`);
      }
      points += 1;
    });
  }
  if (points > MAX_CACHE_POINTS) throw modelError(`A maximum of ${MAX_CACHE_POINTS} blocks with cache_control may be provided. Found ${points}.`);
}

function validateServiceTier(tier: unknown): void {
  if (tier === undefined) return;
  const type = isObject(tier) ? tier.type : undefined;
  if (type !== 'priority' && type !== 'default' && type !== 'flex' && type !== 'reserved') {
    throw constraint('serviceTier.type', type, 'Member must satisfy enum value set: [priority, default, flex, reserved]');
  }
}

function validateMetadata(metadata: unknown): void {
  if (metadata === undefined) return;
  if (!isObject(metadata)) throw constraint('requestMetadata', metadata, 'Member must be a map of strings');
  const entries = Object.entries(metadata);
  if (entries.length > 16) throw constraint('requestMetadata', `${entries.length} entries`, 'Member must have length less than or equal to 16');
  for (const [key, value] of entries) {
    if (!METADATA_KEY.test(key)) throw constraint(`requestMetadata.${key}`, key, 'Map keys must satisfy constraint: [Member must satisfy regular expression pattern: ^[a-zA-Z0-9\\s:_@$#=/+,-.]{1,256}$]');
    if (typeof value !== 'string' || value.length > 256) throw constraint(`requestMetadata.${key}`, value, 'Map values must be strings of length at most 256');
  }
}
