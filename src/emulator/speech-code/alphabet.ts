/**
 * The emulated speech code's alphabet (docs/speech.md): each symbol is a pair of tones, one from
 * a low and one from a high group of eight, like DTMF on an 8 × 8 grid. Every tone lies inside the
 * telephone band (300–3,400 Hz), 150 Hz or more from its neighbours, so G.711, 8 ↔ 16 kHz
 * resampling and framing leave each symbol recognisable.
 */

export const LOW_TONES_HZ = [350, 500, 650, 800, 950, 1_100, 1_250, 1_400] as const;
export const HIGH_TONES_HZ = [1_700, 1_900, 2_100, 2_300, 2_500, 2_700, 2_900, 3_100] as const;

/** Repeats the previous symbol: the code never sends one symbol twice in a row, so a decoder never has to count durations. */
export const REPEAT = 62;
/** Makes the next letter a capital. */
export const SHIFT = 63;

const CHARACTERS = 'abcdefghijklmnopqrstuvwxyz0123456789\'-.,?!:;$%&@/+=#*()"_<>~^|';

export const symbolOf = (character: string): number | undefined => {
  const index = CHARACTERS.indexOf(character);
  return index < 0 ? undefined : index;
};

export const characterOf = (symbol: number): string => CHARACTERS[symbol] ?? '';

export const tonesOf = (symbol: number): [number, number] => [LOW_TONES_HZ[symbol >> 3]!, HIGH_TONES_HZ[symbol & 7]!];

/** A word as the symbols that say it: capitals behind SHIFT, a symbol equal to the one before it as REPEAT, other characters dropped. */
export function symbolsOfWord(word: string): number[] {
  const symbols: number[] = [];
  const push = (symbol: number) => symbols.push(symbols.at(-1) === symbol ? REPEAT : symbol);
  for (const character of word) {
    const lower = character.toLowerCase();
    const symbol = symbolOf(lower);
    if (symbol === undefined) continue;
    if (lower !== character) push(SHIFT);
    push(symbol);
  }
  return symbols;
}

/** The inverse of `symbolsOfWord`. */
export function wordOfSymbols(symbols: readonly number[]): string {
  let word = '';
  let shifted = false;
  let previous: number | undefined;
  for (const symbol of symbols) {
    const actual = symbol === REPEAT ? previous : symbol;
    previous = actual;
    if (actual === undefined) continue;
    if (actual === SHIFT) {
      shifted = true;
      continue;
    }
    const character = characterOf(actual);
    word += shifted ? character.toUpperCase() : character;
    shifted = false;
  }
  return word;
}
