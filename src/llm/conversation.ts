import type { ChatMessage } from './messages.js';

/**
 * Bedrock refuses a conversation that does not start with the user or does not alternate roles.
 * Stored history can break both rules for good reasons: a caller who hangs up before the answer
 * leaves a user message without a reply, and a resumed call adds its next utterance after it. Merging
 * neighbours of the same role keeps every word and block in order, and is what the caller meant.
 */
export function alternatingConversation(messages: ChatMessage[]): ChatMessage[] {
  const firstUser = messages.findIndex((message) => message.role === 'user');
  if (firstUser < 0) return [];
  const out: ChatMessage[] = [];
  for (const message of messages.slice(firstUser)) {
    const previous = out.at(-1);
    if (previous?.role === message.role) out[out.length - 1] = { role: message.role, content: [...previous.content, ...message.content] };
    else out.push(message);
  }
  return out;
}
