/**
 * Text as a listener should hear it, for a text-to-speech engine: the abbreviations a phone
 * conversation puts before numbers and in ranges are said in full and do not end a sentence;
 * money, times, phone numbers, extensions, percentages, long numbers, codes and emails are said as a
 * receptionist says them; markdown, emoji and characters a synthesizer refuses are dropped.
 *
 * Plain text reads right in Polly's text mode for everything but digit strings, which it reads as
 * one large number: a phone number and a run of digits also come as SSML `say-as` (`telephone`,
 * `digits`, both spoken by neural voices). `characters` is never used: on a neural voice Polly says
 * that sentence in the standard voice, so a code is spelled with spaces in plain text instead.
 */
import { toSpeakable } from '../stream/speech.js';

/** Abbreviations that never end a sentence, with what is said. `null`: decided by context below. */
const ABBREVIATIONS: Record<string, string | null> = {
  ext: 'extension', apt: 'apartment', ste: 'suite', no: null, st: null, dr: null, ave: 'avenue', blvd: 'boulevard', rd: 'road',
  mr: 'mister', mrs: 'missus', ms: 'miz', jr: 'junior', sr: 'senior', approx: 'approximately', vs: 'versus', 'e.g': 'for example', 'i.e': 'that is',
  mon: 'Monday', tue: 'Tuesday', tues: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', thur: 'Thursday', thurs: 'Thursday', fri: 'Friday', sat: 'Saturday', sun: 'Sunday',
  jan: 'January', feb: 'February', mar: 'March', apr: 'April', jun: 'June', jul: 'July', aug: 'August', sep: 'September', sept: 'September', oct: 'October', nov: 'November', dec: 'December',
};

const ABBREVIATION = /\b(e\.g|i\.e|[A-Za-z]{2,6})\.(?=\s|$|[-–,])/g;

/** Whether the `.` ending `word` (e.g. "ext.", "Tue.") belongs to an abbreviation rather than ending a sentence. */
export const isNonTerminalAbbreviation = (word: string): boolean => {
  const last = /(e\.g|i\.e|[A-Za-z]+)\.$/.exec(word);
  return last !== null && last[1]!.toLowerCase() in ABBREVIATIONS;
};

/** Sentences as a listener hears them: `.`, `?`, `!` end one unless the `.` closes an abbreviation or sits inside a number. */
export function spokenSentences(text: string): string[] {
  const sentences: string[] = [];
  let start = 0;
  const words = text.split(/(\s+)/);
  let at = 0;
  for (const word of words) {
    at += word.length;
    if (/[.?!]["')\]]?$/.test(word) && !isNonTerminalAbbreviation(word)) {
      sentences.push(text.slice(start, at).trim());
      start = at;
    }
  }
  const rest = text.slice(start).trim();
  if (rest) sentences.push(rest);
  return sentences.filter((sentence) => sentence.length > 0);
}

const digitsApart = (digits: string) => digits.split('').join(' ');

function expandAbbreviation(match: string, word: string, offset: number, text: string): string {
  const lower = word.toLowerCase();
  const fixed = ABBREVIATIONS[lower];
  if (fixed === undefined) return match;
  if (fixed !== null) return fixed;
  const after = text.slice(offset + match.length);
  const before = text.slice(0, offset);
  if (lower === 'no') return /^\s*\d/.test(after) ? 'number' : match;
  if (lower === 'dr') return /^\s+[A-Z]/.test(after) ? 'doctor' : 'drive';
  // "St.": after a house number or a street name it is "street"; before a name it is "saint".
  return /\d\s+\w+\s*$|\w\s*$/.test(before) && !/^\s+[A-Z]/.test(after) ? 'street' : 'saint';
}

/** The "m" of "pm" and its dot, unless the dot also ends the sentence ("until 5 p.m." keeps its full stop). */
const MERIDIEM_END = '[mM](?:\\.(?!\\s*(?:$|[A-Z])))?';
const CLOCK_TIME = new RegExp(`\\b(\\d{1,2}):(\\d{2})\\s*([aApP]\\.?${MERIDIEM_END})?(?=\\W|$)`, 'g');
const HOUR_TIME = new RegExp(`\\b(\\d{1,2})\\s*([aApP])\\.?${MERIDIEM_END}(?=\\W|$)`, 'g');

function sayTime(hours: string, minutes: string, meridiem: string | undefined): string {
  const suffix = meridiem ? ` ${meridiem.replace(/\./g, '').toUpperCase()}` : '';
  if (minutes === '00') return meridiem ? `${Number(hours)}${suffix}` : `${Number(hours)} o'clock`;
  const spokenMinutes = minutes.startsWith('0') ? `oh ${minutes[1]}` : minutes;
  return `${Number(hours)} ${spokenMinutes}${suffix}`;
}

function sayMoney(whole: string, cents: string | undefined): string {
  const amount = whole.replace(/,/g, '');
  const dollars = `${whole} ${amount === '1' ? 'dollar' : 'dollars'}`;
  if (!cents || cents === '00') return dollars;
  return `${dollars} and ${Number(cents)} ${cents === '01' ? 'cent' : 'cents'}`;
}

/** What a synthesizer is given: plain text always; SSML as well when a `say-as` says it better. */
export interface SpeakableText {
  /** Empty when nothing is left to say (a chunk of emoji or markdown only). */
  text: string;
  ssml?: string;
}

type SayAs = 'telephone' | 'digits';

/** A say-as span while the rules run: its plain reading, and the text Polly's say-as reads. */
interface Span {
  interpretAs: SayAs;
  plain: string;
  marked: string;
}

/**
 * What `toSpeakable` (markdown, emoji) leaves that a synthesizer refuses: control characters,
 * unpaired surrogates (invalid UTF-8 on the wire), private-use characters (which also mark spans
 * below) and angle brackets Polly would take for markup.
 */
const UNSPEAKABLE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f<>\p{Co}]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/gu;

const SPAN_START = '\uE000';
/** A span in the text: its start mark, then its index as one private-use character (no digits for later rules to read). */
const SPAN = /\uE000([\uE100-\uF8FF])/g;

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

export function textForSpeech(input: string): SpeakableText {
  const spans: Span[] = [];
  const span = (interpretAs: SayAs, plain: string, marked: string) => {
    spans.push({ interpretAs, plain, marked });
    return SPAN_START + String.fromCharCode(0xe100 + spans.length - 1);
  };
  // The model's chunks arrive through toSpeakable already; canned phrases and prompts may not.
  const text = toSpeakable(input.replace(UNSPEAKABLE, ' '))
    // Account, confirmation and ZIP numbers; shorter ones (years, house numbers) and amounts are numbers.
    .replace(/(?<![\d,.$])\b\d{5,}\b(?![,.]\d|\s?%)/g, (digits) => span('digits', digitsApart(digits), digits))
    .replace(/\b([\w.+-]+)@([\w-]+(?:\.[\w-]+)+)\b/g, (_, user: string, domain: string) => `${user.replace(/\./g, ' dot ')} at ${domain.replace(/\./g, ' dot ')}`)
    .replace(/\$(\d{1,3}(?:,\d{3})*|\d+)(?:\.(\d{2}))?\b/g, (_, whole: string, cents: string | undefined) => sayMoney(whole, cents))
    .replace(CLOCK_TIME, (_, h: string, m: string, meridiem: string | undefined) => sayTime(h, m, meridiem))
    .replace(HOUR_TIME, (_, h: string, meridiem: string) => `${Number(h)} ${meridiem.toUpperCase()}M`)
    .replace(/\bext\.?\s*(\d+)/gi, (_, digits: string) => `extension ${span('digits', digitsApart(digits), digits)}`)
    .replace(/(?:\+?1[\s.-]?)?\(?\b(\d{3})\)?[\s.-]?(\d{3})[\s.-](\d{4})\b/g, (_, a: string, b: string, c: string) =>
      span('telephone', `${digitsApart(a)}, ${digitsApart(b)}, ${digitsApart(c)}`, `${a}-${b}-${c}`),
    )
    .replace(/\b(\d{3})-(\d{4})\b/g, (_, a: string, b: string) => span('telephone', `${digitsApart(a)}, ${digitsApart(b)}`, `${a}-${b}`))
    // A code of capitals and digits is spelled, one character at a time.
    .replace(/\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{4,}\b/g, (code) => code.split('').join(' '))
    .replace(/(\d+(?:\.\d+)?)\s?%/g, '$1 percent')
    .replace(ABBREVIATION, expandAbbreviation)
    .replace(/(\w)\s*[–—]\s*(\w)/g, '$1 to $2')
    .replace(/\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)-(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b/g, '$1 to $2')
    .replace(/\b(\d{1,2}(?: [AP]M)?)-(\d{1,2}(?: [AP]M)?)\b/g, '$1 to $2')
    .replace(/\s+/g, ' ')
    // Where a dropped character stood before punctuation.
    .replace(/ ([,.?!;:])/g, '$1')
    .trim();
  const plain = text.replace(SPAN, (_, index: string) => spans[index.charCodeAt(0) - 0xe100]!.plain);
  if (spans.length === 0) return { text: plain };
  const marked = escapeXml(text).replace(SPAN, (_, index: string) => {
    const { interpretAs, marked } = spans[index.charCodeAt(0) - 0xe100]!;
    return `<say-as interpret-as="${interpretAs}">${marked}</say-as>`;
  });
  return { text: plain, ssml: `<speak>${marked}</speak>` };
}
