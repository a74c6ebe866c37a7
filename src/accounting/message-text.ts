import type { ChatMessage, ContentBlock } from '../llm/messages.js';

/**
 * The text of a message as the tokenizer should see it. Tool inputs and JSON results are
 * serialised because that is how the model receives them; structure tokens are added separately
 * as a per-message overhead.
 */
export function messageText(message: ChatMessage): string {
  return message.content.map(blockText).join('\n');
}

function blockText(block: ContentBlock): string {
  if ('text' in block) return block.text;
  if ('toolUse' in block) return `${block.toolUse.name} ${JSON.stringify(block.toolUse.input ?? {})}`;
  if ('toolResult' in block) {
    return block.toolResult.content.map((part) => ('text' in part ? part.text : JSON.stringify(part.json ?? null))).join('\n');
  }
  const reasoning = block.reasoningContent;
  // Redacted reasoning is opaque bytes: nothing to read, but it still takes room in the prompt.
  return 'reasoningText' in reasoning ? reasoning.reasoningText.text : ''.padEnd(reasoning.redactedContent.length);
}

/**
 * Characters of a message without building its text: the in-thread fallback must stay cheap even
 * for a 150,000-token history, so long strings are measured, never concatenated.
 */
export function messageChars(message: ChatMessage): number {
  let chars = 0;
  for (const block of message.content) chars += blockChars(block) + 1;
  return chars;
}

function blockChars(block: ContentBlock): number {
  if ('text' in block) return block.text.length;
  if ('toolUse' in block) return block.toolUse.name.length + 1 + JSON.stringify(block.toolUse.input ?? {}).length;
  if ('toolResult' in block) {
    let chars = 0;
    for (const part of block.toolResult.content) chars += ('text' in part ? part.text.length : JSON.stringify(part.json ?? null).length) + 1;
    return chars;
  }
  const reasoning = block.reasoningContent;
  return 'reasoningText' in reasoning ? reasoning.reasoningText.text.length : reasoning.redactedContent.length;
}
