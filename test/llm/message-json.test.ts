import { describe, expect, it } from 'vitest';
import { parseMessages, stringifyMessages } from '../../src/llm/message-json.js';

const redacted = (bytes: number[]) => ({ reasoningContent: { redactedContent: Uint8Array.from(bytes) } });

describe('message JSON', () => {
  it('round-trips byte arrays anywhere in a value as the same bytes', () => {
    const value = {
      turnMessages: [{ role: 'assistant', content: [{ text: 'Sure.' }, redacted([0, 1, 254, 255])] }],
      nested: { deeper: [[Buffer.from('raw bytes')]] },
    };
    const back = parseMessages(stringifyMessages(value)) as typeof value;
    const block = back.turnMessages[0]!.content[1] as ReturnType<typeof redacted>;
    expect(block.reasoningContent.redactedContent).toBeInstanceOf(Uint8Array);
    expect([...block.reasoningContent.redactedContent]).toEqual([0, 1, 254, 255]);
    const raw = back.nested.deeper[0]![0]!;
    expect(raw).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(raw).toString()).toBe('raw bytes');
  });

  it('writes a value without bytes exactly as JSON.stringify does', () => {
    const value = { role: 'user', content: [{ text: 'What do "$bytes" mean?' }], n: 1, none: null, skipped: undefined };
    expect(stringifyMessages(value)).toBe(JSON.stringify(value));
  });

  it('reads text that mentions the tag as text, and an object of more than the tag as an object', () => {
    const value = { content: [{ text: '{"$bytes": "AAEC"}' }], tagged: { $bytes: 'AAEC', other: 1 } };
    expect(parseMessages(stringifyMessages(value))).toEqual(value);
  });
});
