import { describe, expect, it } from 'vitest';
import { firstValueFrom, from, toArray } from 'rxjs';
import { SentenceSplitter, type SentenceOptions } from '../../src/stream/sentence-splitter.js';
import { sentences } from '../../src/stream/sentences.js';

interface BoundaryCase {
  rule: string;
  text: string;
  chunks: string[];
  options?: SentenceOptions;
}

// Most cases isolate boundary rules from the early first chunk; the clause cases below use defaults.
const WHOLE_SENTENCES: SentenceOptions = { clauseBreak: false };

const CASES: BoundaryCase[] = [
  // Terminators followed by space or end
  { rule: 'period and question mark', text: 'Hello there. How are you?', chunks: ['Hello there.', 'How are you?'] },
  { rule: 'exclamation', text: 'Stop! Go now.', chunks: ['Stop!', 'Go now.'] },
  { rule: 'mixed ?!', text: 'Really?! Yes.', chunks: ['Really?!', 'Yes.'] },
  { rule: 'ellipsis character before a capital', text: 'I see… Well, fine.', chunks: ['I see…', 'Well, fine.'] },
  { rule: 'three dots before a capital', text: 'Wait... What now?', chunks: ['Wait...', 'What now?'] },
  { rule: 'no final terminator', text: 'No trailing terminator', chunks: ['No trailing terminator'] },
  { rule: 'final period', text: 'Ends with a period.', chunks: ['Ends with a period.'] },
  { rule: 'empty input', text: '', chunks: [] },
  { rule: 'whitespace only', text: '   \n  \t ', chunks: [] },
  { rule: 'several spaces between sentences', text: 'One.  Two.   Three.', chunks: ['One.', 'Two.', 'Three.'] },
  { rule: 'tab after a period', text: 'Tabs.\tNext.', chunks: ['Tabs.', 'Next.'] },
  { rule: 'leading whitespace', text: '  \n Hi there. Bye.', chunks: ['Hi there.', 'Bye.'] },
  { rule: 'ellipsis at the end', text: 'And then...', chunks: ['And then...'] },
  { rule: 'space then newline after !', text: 'Hi! \n How are you?', chunks: ['Hi!', 'How are you?'] },
  // Closing quotes and brackets stay with their sentence
  { rule: 'straight double quote', text: 'He said "Hello." Then he left.', chunks: ['He said "Hello."', 'Then he left.'] },
  { rule: 'curly quote after ?', text: 'She asked, “Why?” I nodded.', chunks: ['She asked, “Why?”', 'I nodded.'] },
  { rule: 'closing parenthesis', text: '(This is an aside.) Next sentence.', chunks: ['(This is an aside.)', 'Next sentence.'] },
  { rule: 'single quote', text: "It is called 'Blue.' Nice.", chunks: ["It is called 'Blue.'", 'Nice.'] },
  { rule: 'markdown bold', text: '**Important.** Read on.', chunks: ['**Important.**', 'Read on.'] },
  { rule: 'square bracket', text: '[See the note.] Then go.', chunks: ['[See the note.]', 'Then go.'] },
  // Abbreviations and titles
  { rule: 'Dr.', text: 'Dr. Smith is here. He waits.', chunks: ['Dr. Smith is here.', 'He waits.'] },
  { rule: 'Mr. and Mrs.', text: 'Mr. and Mrs. Jones arrived.', chunks: ['Mr. and Mrs. Jones arrived.'] },
  { rule: 'Ms. and St.', text: 'Ms. Lee lives on St. James Street.', chunks: ['Ms. Lee lives on St. James Street.'] },
  { rule: 'Prof.', text: 'Prof. Xavier said hi.', chunks: ['Prof. Xavier said hi.'] },
  { rule: 'e.g. before a lower-case word', text: 'Use a bag, e.g. a tote. It helps.', chunks: ['Use a bag, e.g. a tote.', 'It helps.'] },
  { rule: 'e.g. before a capital', text: 'Pick a city, e.g. Paris. Then book.', chunks: ['Pick a city, e.g. Paris.', 'Then book.'] },
  { rule: 'i.e.', text: 'Bring ID, i.e. a passport. Thanks.', chunks: ['Bring ID, i.e. a passport.', 'Thanks.'] },
  { rule: 'etc. mid-sentence', text: 'Apples, pears, etc. are fine. Okay.', chunks: ['Apples, pears, etc. are fine.', 'Okay.'] },
  { rule: 'etc. ending a sentence', text: 'We have apples, pears, etc. Anything else?', chunks: ['We have apples, pears, etc.', 'Anything else?'] },
  { rule: 'a.m. before a lower-case word', text: 'See you at 9 a.m. tomorrow. Bye.', chunks: ['See you at 9 a.m. tomorrow.', 'Bye.'] },
  { rule: 'p.m. before a capital', text: 'The call is at 3 p.m. Please be on time.', chunks: ['The call is at 3 p.m.', 'Please be on time.'] },
  { rule: 'U.S. mid-sentence', text: 'The U.S. economy grew. Good.', chunks: ['The U.S. economy grew.', 'Good.'] },
  { rule: 'U.S. ending a sentence', text: 'She moved to the U.S. Then she studied.', chunks: ['She moved to the U.S.', 'Then she studied.'] },
  { rule: 'Inc.', text: 'Acme Inc. makes tools. Buy some.', chunks: ['Acme Inc. makes tools.', 'Buy some.'] },
  { rule: 'Jr. ending a sentence', text: 'I met Martin Jr. He was kind.', chunks: ['I met Martin Jr.', 'He was kind.'] },
  { rule: 'No. before a number', text: 'It is room No. 5 on the left.', chunks: ['It is room No. 5 on the left.'] },
  { rule: 'vs.', text: 'Compare cats vs. dogs. Cats win.', chunks: ['Compare cats vs. dogs.', 'Cats win.'] },
  { rule: 'Ph.D.', text: 'She has a Ph.D. in physics.', chunks: ['She has a Ph.D. in physics.'] },
  { rule: 'abbreviation inside parentheses', text: 'Call (Dr. Lee) now. Thanks.', chunks: ['Call (Dr. Lee) now.', 'Thanks.'] },
  // Decimals, prices, times, ordinals
  { rule: 'decimal', text: 'It costs 3.5 dollars. Cheap.', chunks: ['It costs 3.5 dollars.', 'Cheap.'] },
  { rule: 'price', text: 'The total is $12.99 today. Pay now.', chunks: ['The total is $12.99 today.', 'Pay now.'] },
  { rule: 'price with thousands', text: 'That is $1,299.00 in total.', chunks: ['That is $1,299.00 in total.'] },
  { rule: 'price ending a sentence', text: 'It costs $12.99. Pay now.', chunks: ['It costs $12.99.', 'Pay now.'] },
  { rule: 'time', text: 'Meet at 10:30 tomorrow. See you.', chunks: ['Meet at 10:30 tomorrow.', 'See you.'] },
  { rule: 'year ending a sentence', text: 'I was born in 1990. It was cold.', chunks: ['I was born in 1990.', 'It was cold.'] },
  { rule: 'long decimal at the end', text: 'Pi is about 3.14159.', chunks: ['Pi is about 3.14159.'] },
  { rule: 'percentage', text: 'Growth was 4.5%. Nice.', chunks: ['Growth was 4.5%.', 'Nice.'] },
  { rule: 'ordinal', text: 'She came 1st. He came 2nd.', chunks: ['She came 1st.', 'He came 2nd.'] },
  // Lists and newlines
  { rule: 'numbered list after a heading line', text: 'Steps:\n1. Open the app.\n2. Tap settings.', chunks: ['Steps:', '1. Open the app.', '2. Tap settings.'] },
  { rule: 'numbered list without periods', text: '1. First item\n2. Second item', chunks: ['1. First item', '2. Second item'] },
  { rule: 'two-digit list number', text: '10. Tenth item is here.', chunks: ['10. Tenth item is here.'] },
  { rule: 'dash bullets', text: 'Options:\n- Red\n- Blue', chunks: ['Options:', '- Red', '- Blue'] },
  { rule: 'star bullets', text: '* Bold choice\n* Other choice', chunks: ['* Bold choice', '* Other choice'] },
  { rule: 'bare newline', text: 'Line one\nLine two', chunks: ['Line one', 'Line two'] },
  { rule: 'blank line between paragraphs', text: 'Para one.\n\nPara two.', chunks: ['Para one.', 'Para two.'] },
  { rule: 'CRLF', text: 'Windows\r\nline endings.', chunks: ['Windows', 'line endings.'] },
  { rule: 'heading line', text: '## Summary\nAll good.', chunks: ['## Summary', 'All good.'] },
  { rule: 'newline after an abbreviation', text: 'Bring pens, etc.\nThen go.', chunks: ['Bring pens, etc.', 'Then go.'] },
  // URLs, e-mail, domains, versions
  { rule: 'URL with dots', text: 'Visit https://example.com/docs/v2.html for details. Thanks.', chunks: ['Visit https://example.com/docs/v2.html for details.', 'Thanks.'] },
  { rule: 'domain ending a sentence', text: 'Go to example.com. It is free.', chunks: ['Go to example.com.', 'It is free.'] },
  { rule: 'e-mail address', text: 'Email support@example.co.uk today. We reply fast.', chunks: ['Email support@example.co.uk today.', 'We reply fast.'] },
  { rule: 'URL with ? and !', text: 'Search https://x.io/a?b=1&c=2!x now! Done.', chunks: ['Search https://x.io/a?b=1&c=2!x now!', 'Done.'] },
  { rule: 'version number', text: 'Update to v1.2.3 now. It fixes bugs.', chunks: ['Update to v1.2.3 now.', 'It fixes bugs.'] },
  { rule: 'file name', text: 'The file is config.yaml in the root.', chunks: ['The file is config.yaml in the root.'] },
  { rule: 'no space after ?', text: 'What?No way. Ok.', chunks: ['What?No way.', 'Ok.'] },
  // Initials
  { rule: 'initials', text: 'J. R. R. Tolkien wrote books. Many.', chunks: ['J. R. R. Tolkien wrote books.', 'Many.'] },
  { rule: 'middle initial', text: 'George W. Bush spoke.', chunks: ['George W. Bush spoke.'] },
  { rule: 'pronoun I is not an initial', text: 'So do I. Let us go.', chunks: ['So do I.', 'Let us go.'] },
  // Ellipses inside a sentence
  { rule: 'dots before a lower-case word', text: 'I was thinking... maybe later. Okay.', chunks: ['I was thinking... maybe later.', 'Okay.'] },
  { rule: 'ellipsis character before a lower-case word', text: 'Well… it depends. Sure.', chunks: ['Well… it depends.', 'Sure.'] },
  { rule: 'dots before a number', text: 'Hmm... 5 minutes. Fine.', chunks: ['Hmm... 5 minutes.', 'Fine.'] },
  { rule: 'ellipsis between words', text: 'wait…what happened? Tell me.', chunks: ['wait…what happened?', 'Tell me.'] },
  // Early first chunk at a clause boundary (default options)
  { rule: 'first chunk at a comma', text: 'Well, let me check that for you, one moment. Done, yes, ok.', chunks: ['Well, let me check that for you,', 'one moment.', 'Done, yes, ok.'], options: {} },
  { rule: 'too few words before the comma', text: 'Sure, I can help. Next, we look, at stuff, ok.', chunks: ['Sure, I can help.', 'Next, we look, at stuff, ok.'], options: {} },
  { rule: 'first chunk at a semicolon', text: 'Your appointment is confirmed; see you then. Bye.', chunks: ['Your appointment is confirmed;', 'see you then.', 'Bye.'], options: {} },
  { rule: 'first chunk at a colon', text: 'Here is the plan for today: we start early.', chunks: ['Here is the plan for today:', 'we start early.'], options: {} },
  { rule: 'first chunk at an em dash', text: 'Here is the thing—we start early.', chunks: ['Here is the thing—', 'we start early.'], options: {} },
  { rule: 'time is not a clause', text: 'The meeting is at 10:30, right after lunch.', chunks: ['The meeting is at 10:30,', 'right after lunch.'], options: {} },
  { rule: 'thousands separator is not a clause', text: 'We have 1,000 units in stock today.', chunks: ['We have 1,000 units in stock today.'], options: {} },
  { rule: 'clauseBreak off', text: 'Well, let me check that for you, one moment.', chunks: ['Well, let me check that for you, one moment.'], options: { clauseBreak: false } },
  { rule: 'firstChunkMinWords 1', text: 'Sure, I can help.', chunks: ['Sure,', 'I can help.'], options: { firstChunkMinWords: 1 } },
  // maxChunkChars
  { rule: 'long sentence split at word boundaries', text: 'one two three four five six seven eight', chunks: ['one two three four', 'five six seven eight'], options: { maxChunkChars: 20 } },
  { rule: 'long sentence split at the last clause', text: 'This sentence, which is long, keeps going on and on.', chunks: ['This sentence, which is long,', 'keeps going on and on.'], options: { maxChunkChars: 30, clauseBreak: false } },
  { rule: 'unbroken text cut hard', text: 'abcdefghijklmnop', chunks: ['abcdefghij', 'klmnop'], options: { maxChunkChars: 10 } },
  { rule: 'rest after a clause cut split again', text: 'Hi—so      I', chunks: ['Hi—', 'so', 'I'], options: { maxChunkChars: 6, clauseBreak: false } },
];

/** Deterministic splits: mulberry32, so a failing case names the seed that reproduces it. */
function randomDeltas(text: string, seed: number, maxLength: number): string[] {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const deltas: string[] = [];
  for (let i = 0; i < text.length;) {
    const length = 1 + Math.floor(next() * maxLength);
    deltas.push(text.slice(i, i + length));
    i += length;
  }
  return deltas;
}

function split(deltas: string[], options: SentenceOptions): string[] {
  const splitter = new SentenceSplitter(options);
  return [...deltas.flatMap((delta) => splitter.push(delta)), ...splitter.flush()];
}

describe('sentence boundaries', () => {
  describe.each(CASES)('$rule', ({ text, chunks, options }) => {
    const opts = options ?? WHOLE_SENTENCES;

    it('splits the text fed as one delta', () => {
      expect(split([text], opts)).toEqual(chunks);
    });

    it('gives the same chunks for one-character deltas', () => {
      expect(split([...text], opts)).toEqual(chunks);
    });

    it.each([1, 2, 3, 4, 5])('gives the same chunks for random deltas (seed %i)', (seed) => {
      expect(split(randomDeltas(text, seed, 7), opts)).toEqual(chunks);
    });

    it('gives the same chunks through the sentences() operator', async () => {
      const out = await firstValueFrom(from(randomDeltas(text, 99, 4)).pipe(sentences(opts), toArray()));
      expect(out).toEqual(chunks);
    });
  });
});
