import { describe, expect, it } from 'vitest';
import { firstValueFrom, from, toArray } from 'rxjs';
import { speakable, toSpeakable } from '../../src/stream/speech.js';

describe('toSpeakable', () => {
  it.each([
    ['bold', '**Note:** call us now.', 'Note: call us now.'],
    ['italic with stars', 'This is *really* good.', 'This is really good.'],
    ['italic with underscores', 'This is _really_ good.', 'This is really good.'],
    ['underscores inside a name stay', 'Set max_chunk_chars to 10.', 'Set max_chunk_chars to 10.'],
    ['strikethrough', 'It was ~~cheap~~ fine.', 'It was cheap fine.'],
    ['heading', '## Your order', 'Your order'],
    ['dash bullet', '- Red apples', 'Red apples'],
    ['star bullet', '* Green pears', 'Green pears'],
    ['bullet dot', '• Blue plums', 'Blue plums'],
    ['numbered item keeps its number', '2. Tap settings.', '2. Tap settings.'],
    ['block quote', '> Quoted words here.', 'Quoted words here.'],
    ['link to its text', 'See [our help page](https://example.com/help) now.', 'See our help page now.'],
    ['image to its alt text', 'Here: ![a map](https://x.io/m.png)', 'Here: a map'],
    ['autolink', 'Go to <https://example.com>.', 'Go to https://example.com.'],
    ['inline code', 'Run `npm test` first.', 'Run npm test first.'],
    ['opening code fence', '```typescript', ''],
    ['closing code fence', '```', ''],
    ['horizontal rule', '---', ''],
    ['emoji', 'Great news 🎉 it shipped!', 'Great news it shipped!'],
    ['emoji with skin tone and joiner', 'Thanks 👍🏽👨‍👩‍👧', 'Thanks'],
    ['flag emoji', 'Made in 🇺🇸 today.', 'Made in today.'],
    ['emoji only', '😀😀', ''],
    ['ampersand', 'Tom & Jerry', 'Tom and Jerry'],
    ['ampersand without spaces', 'R&D team', 'R and D team'],
    ['numbers stay digits', 'It costs $12.99 at 10:30, 1,000 units.', 'It costs $12.99 at 10:30, 1,000 units.'],
    ['whitespace collapsed', '  lots   of\tspace  ', 'lots of space'],
    ['punctuation only', '... !', ''],
    ['plain text untouched', 'Your table for two is booked.', 'Your table for two is booked.'],
  ])('%s', (_rule, chunk, spoken) => {
    expect(toSpeakable(chunk)).toBe(spoken);
  });
});

describe('speakable()', () => {
  it('cleans chunks and drops the ones with nothing left to say', async () => {
    const chunks = ['## Summary', '```', '---', '- **Red** apples & pears 🍎', '🎉'];
    expect(await firstValueFrom(from(chunks).pipe(speakable(), toArray()))).toEqual(['Summary', 'Red apples and pears']);
  });
});
