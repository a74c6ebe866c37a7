import { describe, expect, it } from 'vitest';
import { alternatingConversation } from '../../src/llm/conversation.js';
import type { ChatMessage } from '../../src/llm/messages.js';

const user = (text: string): ChatMessage => ({ role: 'user', content: [{ text }] });
const assistant = (text: string): ChatMessage => ({ role: 'assistant', content: [{ text }] });

describe('alternating conversation', () => {
  it('merges a user message left unanswered by a hang-up into the next one, keeping both', () => {
    expect(alternatingConversation([user('Hi'), assistant('Hello.'), user('Are you open?'), user('Hello?')])).toEqual([
      user('Hi'), assistant('Hello.'), { role: 'user', content: [{ text: 'Are you open?' }, { text: 'Hello?' }] },
    ]);
  });

  it('drops what comes before the first user message', () => {
    expect(alternatingConversation([assistant('Welcome.'), user('Hi')])).toEqual([user('Hi')]);
    expect(alternatingConversation([assistant('Welcome.')])).toEqual([]);
  });

  it('leaves a well-formed conversation, including a trailing assistant prefill, as it is', () => {
    const conversation = [user('Hi'), assistant('Hello.'), user('Book me'), assistant('Sure')];
    expect(alternatingConversation(conversation)).toEqual(conversation);
  });
});
