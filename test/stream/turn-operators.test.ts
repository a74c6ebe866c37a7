import { concat, firstValueFrom, from, materialize, throwError, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { ModelEvent } from '../../src/llm/events.js';
import { markLast } from '../../src/stream/mark-last.js';
import { roundSummary } from '../../src/stream/round-summary.js';
import { sentences } from '../../src/stream/sentences.js';
import { holdTrailingWhitespace } from '../../src/stream/trailing-whitespace.js';

describe('holdTrailingWhitespace()', () => {
  it('moves trailing whitespace onto the next delta and drops it at the end', async () => {
    const out = await firstValueFrom(from(['Hi. ', '  ', 'There.', ' ']).pipe(holdTrailingWhitespace(), toArray()));
    expect(out).toEqual(['Hi.', '   There.']);
  });
});

describe('markLast()', () => {
  it('marks only the final chunk of the flush, and none when the stream goes on', async () => {
    const deltas = ['One is here. Two', ' is here. Three is here.'];
    const ending = await firstValueFrom(from(deltas).pipe(markLast(sentences(), () => true), toArray()));
    expect(ending.map((chunk) => chunk.last)).toEqual([...ending.slice(0, -1).map(() => false), true]);
    const goingOn = await firstValueFrom(from(deltas).pipe(markLast(sentences(), () => false), toArray()));
    expect(goingOn.every((chunk) => !chunk.last)).toBe(true);
    expect(goingOn.map((chunk) => chunk.text)).toEqual(ending.map((chunk) => chunk.text));
  });

  it('keeps two subscriptions apart', async () => {
    const operator = markLast(sentences(), () => true);
    const [a, b] = await Promise.all([
      firstValueFrom(from(['Alpha one.']).pipe(operator, toArray())),
      firstValueFrom(from(['Beta two.']).pipe(operator, toArray())),
    ]);
    expect([a, b]).toEqual([[{ text: 'Alpha one.', last: true }], [{ text: 'Beta two.', last: true }]]);
  });
});

describe('sentences({ settleOnError: false })', () => {
  it('emits nothing more when the source fails', async () => {
    const failing = concat(from(['Hello there.']), throwError(() => new Error('stream cut')));
    const events = await firstValueFrom(failing.pipe(sentences({ settleOnError: false }), materialize(), toArray()));
    expect(events.map((event) => event.kind)).toEqual(['E']);
  });
});

describe('roundSummary()', () => {
  it('joins reasoning per block and keeps tool uses, stop reason and usage', async () => {
    const usage = { inputTokens: 3, outputTokens: 4, cacheReadInputTokens: 0, cacheWriteInputTokens: 0 };
    const events: ModelEvent[] = [
      { type: 'reasoning', index: 0, text: 'Let me ' },
      { type: 'text', index: 1, text: 'Checking.' },
      { type: 'reasoning', index: 0, text: 'look.', signature: 'sig' },
      { type: 'toolUse', index: 2, toolUseId: 't1', name: 'lookup_customer', input: { id: 1 } },
      { type: 'stop', stopReason: 'tool_use' },
      { type: 'usage', usage, latencyMs: 5 },
    ];
    expect(await firstValueFrom(from(events).pipe(roundSummary()))).toEqual({
      reasoning: [{ reasoningContent: { reasoningText: { text: 'Let me look.', signature: 'sig' } } }],
      toolUses: [{ toolUseId: 't1', name: 'lookup_customer', input: { id: 1 } }],
      stopReason: 'tool_use',
      usage,
    });
  });
});
