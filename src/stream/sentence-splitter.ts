export interface SentenceOptions {
  /** Words the first chunk of a turn needs before a clause boundary may end it early. Default 4. */
  firstChunkMinWords?: number;
  /** Whether the first chunk of a turn may end at a clause boundary (`,` `;` `:` `—`). Default true. */
  clauseBreak?: boolean;
  /** Longest chunk; a longer sentence is split at its last clause boundary, else at a word boundary. Default 250. */
  maxChunkChars?: number;
}

// What the scanner is waiting for. Each state needs at most the next character (or, for an
// ambiguous '.', the next non-space character) to decide, so no text is ever re-scanned.
const IN_TEXT = 0;
const AFTER_TERMINATOR = 1;
const AWAITING_NEXT_WORD = 2;
const AFTER_CLAUSE_MARK = 3;
type ScanState = typeof IN_TEXT | typeof AFTER_TERMINATOR | typeof AWAITING_NEXT_WORD | typeof AFTER_CLAUSE_MARK;

const PERIOD = 0;
const ELLIPSIS = 1;
const EXCLAMATION_OR_QUESTION = 2;
type TerminatorKind = typeof PERIOD | typeof ELLIPSIS | typeof EXCLAMATION_OR_QUESTION;

type PeriodVerdict = 'boundary' | 'not-boundary' | 'depends-on-next-word';

/** Words whose '.' never ends a sentence: titles and Latin abbreviations that always introduce more text. */
const ALWAYS_CONTINUES = new Set([
  'mr', 'mrs', 'ms', 'mx', 'dr', 'prof', 'st', 'mt', 'rev', 'gen', 'col', 'capt', 'lt', 'sgt', 'hon', 'fr',
  'vs', 'e.g', 'i.e', 'cf', 'a.k.a', 'approx', 'dept', 'fig', 'ca',
]);

/** Words whose '.' ends a sentence only when an upper-case word follows (`etc. Then` vs `etc. and`). */
const ENDS_BEFORE_CAPITAL = new Set([
  'etc', 'a.m', 'p.m', 'am', 'pm', 'jr', 'sr', 'inc', 'ltd', 'co', 'corp', 'no', 'vol', 'ave', 'blvd', 'rd',
]);

const LEADING_PUNCTUATION = /^[^\p{L}\p{N}]+/u;
const DIGITS_ONLY = /^\d+$/;
const SINGLE_CAPITAL = /^\p{Lu}$/u;

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x2028 || c === 0x2029;
}

function isLineBreak(c: number): boolean {
  return c === 10 || c === 13 || c === 0x2028 || c === 0x2029;
}

function isTerminator(c: number): boolean {
  return c === 46 || c === 33 || c === 63 || c === 0x2026; // . ! ? …
}

/** Closing quotes, brackets and markdown emphasis stay with the sentence they close. */
function isCloser(c: number): boolean {
  return c === 34 || c === 39 || c === 41 || c === 93 || c === 125 || c === 42 || c === 95 || c === 96
    || c === 0x201d || c === 0x2019 || c === 0xbb;
}

/** `,` `;` `:` mark a clause only when whitespace follows (`1,000`, `10:30` are not clauses). */
function isClauseMark(c: number): boolean {
  return c === 44 || c === 59 || c === 58;
}

function isDash(c: number): boolean {
  return c === 0x2014 || c === 0x2013; // — –
}

/** After an ambiguous '.', these mean the sentence goes on: a lower-case word, a number, a clause mark. */
function continuesSentence(c: number): boolean {
  if (c >= 48 && c <= 57) return true;
  if (isClauseMark(c)) return true;
  const ch = String.fromCharCode(c);
  return ch !== ch.toUpperCase() && ch === ch.toLowerCase();
}

function kindOf(c: number): TerminatorKind {
  if (c === 33 || c === 63) return EXCLAMATION_OR_QUESTION;
  return c === 46 ? PERIOD : ELLIPSIS;
}

function extendKind(kind: TerminatorKind, c: number): TerminatorKind {
  if (c === 33 || c === 63) return EXCLAMATION_OR_QUESTION;
  return kind === EXCLAMATION_OR_QUESTION ? kind : ELLIPSIS;
}

function validCount(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`SentenceOptions.${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

/**
 * Incremental sentence boundary detection over streamed text deltas.
 *
 * Each character is examined once, when it arrives; the pending text is kept as one string that
 * is only sliced when a chunk is cut, so the work per delta is proportional to the delta.
 * A boundary is reported by the push that brings the character deciding it: the whitespace after
 * `.` `!` `?` `…` (plus closing quotes and brackets), or, when the word before a '.' could be an
 * abbreviation (`etc.`, `a.m.`, `U.S.`) or the '.' is an ellipsis, the next non-space character.
 */
export class SentenceSplitter {
  readonly #firstChunkMinWords: number;
  readonly #clauseBreak: boolean;
  readonly #maxChunkChars: number;

  #pending = '';
  #start = 0;
  #state: ScanState = IN_TEXT;
  #terminatorStart = 0;
  #terminatorEnd = 0;
  #terminatorKind: TerminatorKind = PERIOD;
  #clauseEnd = 0;
  #wordStart = 0;
  #inWord = false;
  #wordsInChunk = 0;
  #lastSpace = -1;
  #lastClauseEnd = -1;
  #saidFirstChunk = false;
  #out: string[] = [];

  constructor(options: SentenceOptions = {}) {
    this.#firstChunkMinWords = validCount('firstChunkMinWords', options.firstChunkMinWords ?? 4, 0);
    this.#clauseBreak = options.clauseBreak ?? true;
    this.#maxChunkChars = validCount('maxChunkChars', options.maxChunkChars ?? 250, 1);
  }

  /** Adds a delta; returns the chunks it decided, trimmed, in order. */
  push(delta: string): string[] {
    const out: string[] = [];
    this.#out = out;
    const base = this.#pending.length;
    this.#pending += delta;
    for (let k = 0; k < delta.length; k++) this.#step(delta.charCodeAt(k), base + k);
    this.#dropDecidedText();
    return out;
  }

  /** Ends the turn: every remaining character belongs to the returned chunks. Ready for a new turn after. */
  flush(): string[] {
    const out: string[] = [];
    this.#out = out;
    this.#cut(this.#pending.length);
    this.#reset();
    return out;
  }

  /**
   * Ends the turn early (the source failed): returns the sentence that was complete but awaiting its
   * lookahead, and drops the unfinished tail, which would be spoken cut off mid-thought.
   */
  settle(): string[] {
    const out: string[] = [];
    this.#out = out;
    if (this.#state === AFTER_TERMINATOR || this.#state === AWAITING_NEXT_WORD) this.#cut(this.#terminatorEnd);
    this.#reset();
    return out;
  }

  #step(c: number, p: number): void {
    const space = isSpace(c);
    if (space) {
      this.#inWord = false;
    } else if (!this.#inWord) {
      this.#inWord = true;
      this.#wordStart = p;
      this.#wordsInChunk++;
    }
    switch (this.#state) {
      case AFTER_TERMINATOR:
        if (this.#afterTerminator(c, p, space)) return;
        break;
      case AWAITING_NEXT_WORD:
        if (this.#awaitingNextWord(c, p, space)) return;
        break;
      case AFTER_CLAUSE_MARK:
        this.#state = IN_TEXT;
        if (space) this.#clauseBoundary(this.#clauseEnd);
        break;
    }
    this.#inText(c, p, space);
  }

  #inText(c: number, p: number, space: boolean): void {
    if (space) {
      if (isLineBreak(c)) this.#cut(p);
      if (p === this.#start) this.#start = p + 1;
      else this.#lastSpace = p;
      return;
    }
    this.#splitIfOverlong(p);
    if (isTerminator(c)) {
      this.#state = AFTER_TERMINATOR;
      this.#terminatorStart = p;
      this.#terminatorEnd = p + 1;
      this.#terminatorKind = kindOf(c);
    } else if (isClauseMark(c)) {
      this.#state = AFTER_CLAUSE_MARK;
      this.#clauseEnd = p + 1;
    } else if (isDash(c)) {
      this.#clauseBoundary(p + 1);
    }
  }

  /** Returns true when the character was consumed; false hands it to the in-text rules. */
  #afterTerminator(c: number, p: number, space: boolean): boolean {
    if (isTerminator(c) || isCloser(c)) {
      this.#splitIfOverlong(p);
      if (isTerminator(c)) this.#terminatorKind = extendKind(this.#terminatorKind, c);
      this.#terminatorEnd = p + 1;
      return true;
    }
    this.#state = IN_TEXT;
    // Text right after the mark: a decimal, domain, e-mail, version number or `?query`.
    if (!space) return false;
    if (isLineBreak(c)) {
      this.#cut(this.#terminatorEnd);
      return false;
    }
    const verdict: PeriodVerdict = this.#terminatorKind === EXCLAMATION_OR_QUESTION ? 'boundary'
      : this.#terminatorKind === ELLIPSIS ? 'depends-on-next-word'
      : this.#periodVerdict();
    if (verdict === 'boundary') {
      this.#cut(this.#terminatorEnd);
    } else if (verdict === 'depends-on-next-word') {
      this.#state = AWAITING_NEXT_WORD;
      this.#lastSpace = p;
      return true;
    }
    return false;
  }

  #awaitingNextWord(c: number, p: number, space: boolean): boolean {
    if (space && !isLineBreak(c)) {
      this.#lastSpace = p;
      return true;
    }
    this.#state = IN_TEXT;
    if (space || !continuesSentence(c)) {
      this.#cut(this.#terminatorEnd);
      this.#start = p; // only whitespace lies between the boundary and this character
    }
    return false;
  }

  #periodVerdict(): PeriodVerdict {
    const tokenStart = Math.max(this.#wordStart, this.#start);
    const token = this.#pending.slice(tokenStart, this.#terminatorStart);
    const word = token.replace(LEADING_PUNCTUATION, '');
    if (word.length === 0) return 'boundary';
    if (ALWAYS_CONTINUES.has(word.toLowerCase())) return 'not-boundary';
    // An initial (`J. R. R. Tolkien`); the pronoun `I` ends sentences far more often than it is an initial.
    if (SINGLE_CAPITAL.test(word) && word !== 'I') return 'not-boundary';
    // `1. ` opening a line is a list item's number, not the end of a sentence.
    if (tokenStart === this.#start && DIGITS_ONLY.test(token)) return 'not-boundary';
    if (ENDS_BEFORE_CAPITAL.has(word.toLowerCase()) || word.includes('.')) return 'depends-on-next-word';
    return 'boundary';
  }

  #clauseBoundary(end: number): void {
    this.#lastClauseEnd = end;
    if (this.#clauseBreak && !this.#saidFirstChunk && this.#wordsInChunk >= this.#firstChunkMinWords) {
      this.#cut(end);
    }
  }

  /** Called before character p joins the chunk: keeps every chunk within maxChunkChars. */
  #splitIfOverlong(p: number): void {
    // A cut at an early clause mark can leave a rest that is itself too long, so cut until it fits.
    while (p + 1 - this.#start > this.#maxChunkChars) {
      const end = this.#lastClauseEnd > this.#start ? this.#lastClauseEnd
        : this.#lastSpace > this.#start ? this.#lastSpace
        : p;
      this.#cut(end);
      // The rest of the sentence starts at its first non-space character, so it gets the full length.
      while (this.#start < p && isSpace(this.#pending.charCodeAt(this.#start))) this.#start++;
    }
  }

  #cut(end: number): void {
    if (end > this.#start) {
      const chunk = this.#pending.slice(this.#start, end).trim();
      if (chunk.length > 0) {
        this.#out.push(chunk);
        this.#saidFirstChunk = true;
      }
      this.#start = end;
    }
    this.#wordsInChunk = 0;
  }

  /** Keeps only undecided text; positions before the new start are invalid from then on. */
  #dropDecidedText(): void {
    const shift = this.#start;
    if (shift === 0) return;
    this.#pending = this.#pending.slice(shift);
    this.#start = 0;
    this.#terminatorStart -= shift;
    this.#terminatorEnd -= shift;
    this.#clauseEnd -= shift;
    this.#wordStart -= shift;
    this.#lastSpace -= shift;
    this.#lastClauseEnd -= shift;
  }

  #reset(): void {
    this.#pending = '';
    this.#start = 0;
    this.#state = IN_TEXT;
    this.#inWord = false;
    this.#wordsInChunk = 0;
    this.#lastSpace = -1;
    this.#lastClauseEnd = -1;
    this.#saidFirstChunk = false;
  }
}
