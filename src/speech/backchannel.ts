/**
 * Short acknowledgements a caller makes while the agent speaks ("uh-huh", "mhm", "okay"): not a
 * barge-in and not a turn. Anything longer, or any other word, is.
 */

export const DEFAULT_BACKCHANNELS: readonly string[] = ['uh-huh', 'uh huh', 'mhm', 'mm-hmm', 'mm hmm', 'hmm', 'mm', 'okay', 'ok', 'right', 'yeah', 'yep', 'yes', 'sure', 'i see', 'got it', 'alright', 'all right'];

/** Longest backchannel in words: "okay, right" is an acknowledgement, "okay right so what about Tuesday" is not. */
const MAX_WORDS = 3;

const normalized = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s'-]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();

export class BackchannelFilter {
  private readonly phrases: string[];

  constructor(phrases: readonly string[] = DEFAULT_BACKCHANNELS) {
    // Longest first, so "uh huh" is taken whole before "uh" could be tried.
    this.phrases = phrases.map(normalized).sort((a, b) => b.length - a.length);
  }

  /** True when `transcript` (partial or final) is nothing but acknowledgements, at most three words. */
  isBackchannel(transcript: string): boolean {
    let rest = normalized(transcript);
    if (rest.length === 0 || rest.split(' ').length > MAX_WORDS) return false;
    while (rest.length > 0) {
      const phrase = this.phrases.find((candidate) => rest === candidate || rest.startsWith(`${candidate} `));
      if (!phrase) return false;
      rest = rest.slice(phrase.length).trim();
    }
    return true;
  }
}
