import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SentenceSplitter, type SentenceOptions } from '../../src/stream/sentence-splitter.js';

// Pieces of model replies, including every construct the boundary rules treat specially.
const PIECES = [
  'Hello', 'there', 'the', 'price', 'is', 'Then', 'and', 'we', 'I', 'J', 'U.S', 'Dr', 'Mr', 'etc', 'e.g', 'a.m',
  'p.m', '$12.99', '3.5', '10:30', '1,000', 'v1.2.3', 'https://example.com/a.b?c=d', 'me@example.com', '1', '42',
  ' ', ' ', ' ', ' ', '  ', '\n', '\n\n', '\t', '.', '.', '. ', '? ', '! ', '...', '…', ',', ', ', ';', ':', '—',
  '"', '”', ')', '(', '**', '- ', '# ', '😀', 'é', 'Ünïcode',
];

const replyText = fc.oneof(
  fc.array(fc.constantFrom(...PIECES), { maxLength: 80 }).map((parts) => parts.join('')),
  fc.string({ maxLength: 120 }),
);

const options: fc.Arbitrary<SentenceOptions> = fc.record({
  firstChunkMinWords: fc.integer({ min: 0, max: 6 }),
  clauseBreak: fc.boolean(),
  maxChunkChars: fc.integer({ min: 1, max: 300 }),
});

/** Cuts text at the given positions (any order, duplicates allowed). */
function deltasAt(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((cut) => cut % (text.length + 1)))].sort((a, b) => a - b);
  const deltas: string[] = [];
  let previous = 0;
  for (const point of [...points, text.length]) {
    deltas.push(text.slice(previous, point));
    previous = point;
  }
  return deltas;
}

function split(deltas: string[], opts: SentenceOptions): string[] {
  const splitter = new SentenceSplitter(opts);
  return [...deltas.flatMap((delta) => splitter.push(delta)), ...splitter.flush()];
}

const withoutSpace = (text: string): string => text.replace(/\s/g, '');

describe('sentence splitting properties', () => {
  it('gives the same chunks for any split of the input into deltas', () => {
    fc.assert(
      fc.property(replyText, fc.array(fc.nat(), { maxLength: 40 }), options, (text, cuts, opts) => {
        expect(split(deltasAt(text, cuts), opts)).toEqual(split([text], opts));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps every character: the chunks joined equal the input up to whitespace', () => {
    fc.assert(
      fc.property(replyText, fc.array(fc.nat(), { maxLength: 40 }), options, (text, cuts, opts) => {
        expect(withoutSpace(split(deltasAt(text, cuts), opts).join(''))).toBe(withoutSpace(text));
      }),
      { numRuns: 500 },
    );
  });

  it('emits only non-empty, trimmed chunks within maxChunkChars', () => {
    fc.assert(
      fc.property(replyText, fc.array(fc.nat(), { maxLength: 40 }), options, (text, cuts, opts) => {
        for (const chunk of split(deltasAt(text, cuts), opts)) {
          expect(chunk.length).toBeGreaterThan(0);
          expect(chunk).toBe(chunk.trim());
          expect(chunk.length).toBeLessThanOrEqual(opts.maxChunkChars ?? 250);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('emits each sentence of plain prose exactly once, in order', () => {
    const sentence = fc.tuple(
      fc.constantFrom('The', 'Your', 'A', 'This', 'Our'),
      fc.array(fc.constantFrom('order', 'is', 'ready', 'at', 'noon', 'today', 'for', 'you', '12', 'Dr. Lee'), { minLength: 1, maxLength: 8 }),
      fc.constantFrom('.', '!', '?', '."', '?)'),
    ).map(([first, rest, end]) => `${first} ${rest.join(' ')}${end}`);
    fc.assert(
      fc.property(
        fc.array(sentence, { minLength: 1, maxLength: 10 }),
        fc.constantFrom(' ', '  ', '\n', ' \n '),
        fc.array(fc.nat(), { maxLength: 30 }),
        (said, gap, cuts) => {
          const text = said.join(gap);
          expect(split(deltasAt(text, cuts), { clauseBreak: false })).toEqual(said);
        },
      ),
      { numRuns: 300 },
    );
  });
});
