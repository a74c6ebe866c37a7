/**
 * Text as a listener should hear it, for a text-to-speech engine: the abbreviations a phone
 * conversation puts before numbers and in ranges are said in full and do not end a sentence;
 * money, times, phone numbers, extensions, percentages and emails are said as a receptionist says
 * them. Plain text out (no SSML): every form below reads right in Polly's text mode.
 */

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

export function textForSpeech(text: string): string {
  return text
    .replace(/\b([\w.+-]+)@([\w-]+(?:\.[\w-]+)+)\b/g, (_, user: string, domain: string) => `${user.replace(/\./g, ' dot ')} at ${domain.replace(/\./g, ' dot ')}`)
    .replace(/\$(\d{1,3}(?:,\d{3})*|\d+)(?:\.(\d{2}))?\b/g, (_, whole: string, cents: string | undefined) => sayMoney(whole, cents))
    .replace(/\b(\d{1,2}):(\d{2})\s*([ap]\.?m\.?)?(?=\W|$)/gi, (_, h: string, m: string, meridiem: string | undefined) => sayTime(h, m, meridiem))
    .replace(/\b(\d{1,2})\s*([ap])\.?m\.?(?=\W|$)/gi, (_, h: string, meridiem: string) => `${Number(h)} ${meridiem.toUpperCase()}M`)
    .replace(/\bext\.?\s*(\d+)/gi, (_, digits: string) => `extension ${digitsApart(digits)}`)
    .replace(/(?:\+?1[\s.-]?)?\(?\b(\d{3})\)?[\s.-]?(\d{3})[\s.-](\d{4})\b/g, (_, a: string, b: string, c: string) => `${digitsApart(a)}, ${digitsApart(b)}, ${digitsApart(c)}`)
    .replace(/\b(\d{3})-(\d{4})\b/g, (_, a: string, b: string) => `${digitsApart(a)}, ${digitsApart(b)}`)
    .replace(/(\d+(?:\.\d+)?)\s?%/g, '$1 percent')
    .replace(ABBREVIATION, expandAbbreviation)
    .replace(/(\w)\s*[–—]\s*(\w)/g, '$1 to $2')
    .replace(/\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)-(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b/g, '$1 to $2')
    .replace(/\b(\d{1,2}(?: [AP]M)?)-(\d{1,2}(?: [AP]M)?)\b/g, '$1 to $2')
    .replace(/\s+/g, ' ')
    .trim();
}
