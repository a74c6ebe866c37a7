import { describe, expect, it } from 'vitest';
import { Subject } from 'rxjs';
import { SentenceSplitter } from '../../src/stream/sentence-splitter.js';
import { sentences } from '../../src/stream/sentences.js';

describe('minimal lookahead', () => {
  it('returns a sentence from the push that brings the space after its !', () => {
    const splitter = new SentenceSplitter();
    expect(splitter.push('Stop')).toEqual([]);
    expect(splitter.push('! ')).toEqual(['Stop!']);
  });

  it('decides a plain period on the space that follows it', () => {
    const splitter = new SentenceSplitter({ clauseBreak: false });
    expect(splitter.push('Your order is ready')).toEqual([]);
    expect(splitter.push('.')).toEqual([]);
    expect(splitter.push(' ')).toEqual(['Your order is ready.']);
  });

  it('decides a period on the next character when the delta ends right after it', () => {
    const splitter = new SentenceSplitter();
    expect(splitter.push('It costs 3.')).toEqual([]);
    expect(splitter.push('5 dollars. ')).toEqual(['It costs 3.5 dollars.']);
  });

  it('holds an ambiguous period only until the next non-space character', () => {
    const splitter = new SentenceSplitter({ clauseBreak: false });
    expect(splitter.push('We sell pears etc. ')).toEqual([]);
    expect(splitter.push('   ')).toEqual([]);
    expect(splitter.push('A')).toEqual(['We sell pears etc.']);
  });

  it('continues the sentence when the word after an ambiguous period is lower-case', () => {
    const splitter = new SentenceSplitter({ clauseBreak: false });
    expect(splitter.push('See you at 9 a.m. ')).toEqual([]);
    expect(splitter.push('tomorrow. ')).toEqual(['See you at 9 a.m. tomorrow.']);
  });

  it('ends a line at its newline', () => {
    const splitter = new SentenceSplitter();
    expect(splitter.push('- First item\n')).toEqual(['- First item']);
    expect(splitter.push('Done.\n')).toEqual(['Done.']);
  });

  it('returns several sentences from one delta in order', () => {
    const splitter = new SentenceSplitter();
    expect(splitter.push('One. Two! Three? Four')).toEqual(['One.', 'Two!', 'Three?']);
    expect(splitter.flush()).toEqual(['Four']);
  });
});

describe('sentences() operator', () => {
  it('emits the first sentence on the delta that completes it, before the source completes', () => {
    const deltas = new Subject<string>();
    const seen: string[] = [];
    let completed = false;
    deltas.pipe(sentences()).subscribe({ next: (chunk) => seen.push(chunk), complete: () => { completed = true; } });
    deltas.next('Hello');
    deltas.next(' world');
    expect(seen).toEqual([]);
    deltas.next('. How');
    expect(seen).toEqual(['Hello world.']);
    expect(completed).toBe(false);
    deltas.next(' are you?');
    deltas.complete();
    expect(seen).toEqual(['Hello world.', 'How are you?']);
    expect(completed).toBe(true);
  });

  it('passes an error through after the sentences that were complete, dropping the unfinished tail', () => {
    const deltas = new Subject<string>();
    const seen: string[] = [];
    const failure = new Error('model stream broke');
    let received: unknown;
    deltas.pipe(sentences()).subscribe({ next: (chunk) => seen.push(chunk), error: (error: unknown) => { received = error; } });
    deltas.next('First one. Second one.');
    deltas.next(' Third is cut of');
    deltas.error(failure);
    expect(seen).toEqual(['First one.', 'Second one.']);
    expect(received).toBe(failure);
  });

  it('keeps per-subscription state: two subscribers never share a buffer', () => {
    const deltas = new Subject<string>();
    const operator = sentences();
    const first: string[] = [];
    const second: string[] = [];
    deltas.pipe(operator).subscribe((chunk) => first.push(chunk));
    deltas.next('Half of a ');
    deltas.pipe(operator).subscribe((chunk) => second.push(chunk));
    deltas.next('sentence. ');
    deltas.complete();
    expect(first).toEqual(['Half of a sentence.']);
    expect(second).toEqual(['sentence.']);
  });
});

describe('early first chunk', () => {
  it('emits the first clause once it has firstChunkMinWords words, then only whole sentences', () => {
    const splitter = new SentenceSplitter({ firstChunkMinWords: 4 });
    expect(splitter.push('Let me check that')).toEqual([]);
    expect(splitter.push(', ')).toEqual(['Let me check that,']);
    expect(splitter.push('one moment, please, while I look. Then, you see, it')).toEqual(['one moment, please, while I look.']);
    expect(splitter.flush()).toEqual(['Then, you see, it']);
  });

  it('does not break early before firstChunkMinWords words', () => {
    const splitter = new SentenceSplitter({ firstChunkMinWords: 4 });
    expect(splitter.push('Sure, I can, ')).toEqual([]);
    expect(splitter.push('yes, ')).toEqual(['Sure, I can, yes,']);
  });

  it('starts a new turn after flush, where the first chunk may break early again', () => {
    const splitter = new SentenceSplitter();
    splitter.push('Okay, that is done now. And more, more, more, more, ');
    splitter.flush();
    expect(splitter.push('Right, let me see here, ')).toEqual(['Right, let me see here,']);
  });
});

describe('maxChunkChars', () => {
  const long = 'This is a very long sentence, with a clause here and another one there; it keeps going '
    + 'without a full stop for a long while because the model is in a talkative mood today and nobody stops it';

  it('keeps every chunk within the limit and loses no words', () => {
    const splitter = new SentenceSplitter({ maxChunkChars: 60 });
    const chunks = [...splitter.push(long), ...splitter.flush()];
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(60);
    expect(chunks.join(' ')).toBe(long);
  });

  it('prefers the last clause boundary over a word boundary', () => {
    const splitter = new SentenceSplitter({ maxChunkChars: 60, clauseBreak: false });
    const [first] = splitter.push(long);
    expect(first).toBe('This is a very long sentence,');
  });

  it('splits at a word boundary when there is no clause boundary', () => {
    const splitter = new SentenceSplitter({ maxChunkChars: 12 });
    expect([...splitter.push('alpha beta gamma delta'), ...splitter.flush()]).toEqual(['alpha beta', 'gamma delta']);
  });
});

describe('options', () => {
  it.each([
    [{ maxChunkChars: 0 }, /maxChunkChars must be an integer >= 1, got 0/],
    [{ maxChunkChars: 2.5 }, /maxChunkChars must be an integer >= 1, got 2.5/],
    [{ firstChunkMinWords: -1 }, /firstChunkMinWords must be an integer >= 0, got -1/],
  ])('rejects %o with a message naming the option', (options, message) => {
    expect(() => new SentenceSplitter(options)).toThrow(message);
  });
});
