import { MONTH_NAMES, WEEKDAY_NAMES, addDays, mondayOf, nextDateOf, weekdayOf } from './calendar.js';

/**
 * What one utterance says about a booking and the caller, read by rules (no model): dates relative
 * to the practice's today, times and time windows, the visit's reason, a name, a phone number.
 */

/** A day as the caller put it: a date, or a weekday in this, next or no particular week. */
export interface DateSpec {
  date?: string;
  /** 0 this week, 1 next week, 2 the week after; weeks run Monday to Sunday. */
  week?: number;
  weekday?: number;
}

export interface TimeWindow {
  label: 'morning' | 'afternoon' | 'evening';
  from: string;
  to: string;
}

export type TimeSpec = { time: string } | { window: TimeWindow };

export interface Slots {
  date?: DateSpec;
  time?: TimeSpec;
  reason?: string;
  name?: string;
  phone?: string;
  email?: string;
  customerId?: string;
}

/** Opening hours run from eight; the windows a caller names ("Tuesday morning") by where they start and end. */
const WINDOWS: Record<TimeWindow['label'], TimeWindow> = {
  morning: { label: 'morning', from: '08:00', to: '12:00' },
  afternoon: { label: 'afternoon', from: '12:00', to: '18:00' },
  evening: { label: 'evening', from: '17:00', to: '20:00' },
};

const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve'];
const HOUR = `(\\d{1,2}|${NUMBER_WORDS.slice(1).join('|')})`;
const MINUTES_WORDS: Record<string, number> = { fifteen: 15, thirty: 30, 'forty-five': 45, 'forty five': 45 };
const MINUTES = '(\\d{2}|fifteen|thirty|forty[- ]five)';
const MERIDIEM = '(a\\.?m\\.?|p\\.?m\\.?)';
const MONTHS = MONTH_NAMES.map((month) => `${month.slice(0, 3).toLowerCase()}${month.length > 3 ? `(?:${month.slice(3).toLowerCase()})?` : ''}`).join('|');
const WEEKDAYS = WEEKDAY_NAMES.map((day) => day.toLowerCase()).join('|');

/** The reasons for a visit the receptionist knows, as the booking tool records them. */
const REASONS: Array<[string, RegExp]> = [
  ['root canal', /\broot canal/],
  ['cleaning', /\bclean(ing)?\b|\bhygien/],
  ['check-up', /\bcheck[- ]?up|\bexam(ination)?\b/],
  ['toothache', /\btooth ?ache|\btooth (hurts|is hurting)|\bpain\b|\baching\b/],
  ['filling', /\bfilling|\bcavity/],
  ['crown', /\bcrown\b/],
  ['whitening', /\bwhiten/],
  ['extraction', /\bextraction|\bwisdom tooth|\bpull(ed)? (a|my) tooth/],
  ['braces adjustment', /\bbraces\b|\baligners?\b/],
  ['consultation', /\bconsult/],
  ['emergency', /\bemergency|\bbroken tooth|\bchipped\b/],
];

/** Capitalised words after these are a name: "my name is Sam Carter", "this is Sam", "for my son Leo". */
const NAME_INTRO = /\b(?:my name is|my name's|name is|this is|i am|i'm|it's|under the name|under|for my (?:son|daughter|wife|husband|partner|mother|father|mom|dad|child|kid)|my (?:son|daughter|wife|husband|partner|mother|father|mom|dad|child|kid))\s+((?:[a-z][a-z'-]*\s*){1,3})/gi;
const NOT_NAMES = new Set([...WEEKDAY_NAMES, ...MONTH_NAMES, 'Harbor', 'Dental', 'Dr', 'Doctor', 'I', 'Hi', 'Hello', 'The', 'A', 'An', 'Next', 'This', 'Yes', 'No', 'Okay', 'Ok', 'Sorry', 'Please', 'Thanks']);

const hourOf = (word: string): number => (/^\d+$/.test(word) ? Number(word) : NUMBER_WORDS.indexOf(word));
const minutesOf = (word: string | undefined): number => (word === undefined ? 0 : /^\d+$/.test(word) ? Number(word) : MINUTES_WORDS[word.replace('-', ' ')] ?? MINUTES_WORDS[word] ?? 0);
const clock = (hours: number, minutes: number): string => `${String(hours).padStart(2, '0')}:${String(minutes).padStart(2, '0')}`;

/** An hour said without a.m./p.m. falls within opening hours: 8–11 are mornings, 1–7 afternoons. */
const openingHour = (hour: number): number => (hour >= 1 && hour <= 7 ? hour + 12 : hour);

function timeOf(text: string): TimeSpec | undefined {
  if (/\b(noon|midday)\b/.test(text)) return { time: '12:00' };
  const halfPast = new RegExp(`\\bhalf past ${HOUR}\\b`).exec(text);
  if (halfPast) return { time: clock(openingHour(hourOf(halfPast[1]!)), 30) };
  const withMeridiem = new RegExp(`\\b${HOUR}(?:[: ]${MINUTES})?\\s*${MERIDIEM}(?=\\s|[,.!?]|$)`).exec(text);
  if (withMeridiem) {
    const hour = hourOf(withMeridiem[1]!) % 12 + (withMeridiem[3]!.startsWith('p') ? 12 : 0);
    return { time: clock(hour, minutesOf(withMeridiem[2])) };
  }
  const colon = /\b(\d{1,2}):(\d{2})\b/.exec(text);
  if (colon) return { time: clock(openingHour(Number(colon[1])), Number(colon[2])) };
  const spoken = new RegExp(`\\b(?:at|around|about|after|by|say)\\s+${HOUR}(?:[ ]${MINUTES})?(?:\\s*o'?clock)?\\b|\\b${HOUR}(?:[ ]${MINUTES})?\\s*o'?clock\\b`).exec(text);
  if (spoken) {
    const hour = spoken[1] ?? spoken[3];
    const minutes = spoken[1] !== undefined ? spoken[2] : spoken[4];
    if (hour !== undefined && hourOf(hour) >= 1 && hourOf(hour) <= 12) return { time: clock(openingHour(hourOf(hour)), minutesOf(minutes)) };
  }
  const window = /\b(morning|afternoon|evening)\b/.exec(text)?.[1] as TimeWindow['label'] | undefined;
  return window ? { window: WINDOWS[window] } : undefined;
}

function monthNumber(name: string): number {
  return MONTH_NAMES.findIndex((month) => month.toLowerCase().startsWith(name.slice(0, 3))) + 1;
}

function dateOf(text: string, today: string): DateSpec | undefined {
  if (/\bday after tomorrow\b/.test(text)) return { date: addDays(today, 2) };
  if (/\btomorrow\b/.test(text)) return { date: addDays(today, 1) };
  if (/\btoday\b|\bthis (morning|afternoon|evening)\b|\btonight\b/.test(text)) return { date: today };
  const monthFirst = new RegExp(`\\b(${MONTHS})\\.?\\s+(\\d{1,2})(?:st|nd|rd|th)?\\b`).exec(text);
  if (monthFirst) return { date: nextDateOf(today, monthNumber(monthFirst[1]!), Number(monthFirst[2])) };
  const dayFirst = new RegExp(`\\b(\\d{1,2})(?:st|nd|rd|th)?\\s+(?:of\\s+)?(${MONTHS})\\b`).exec(text);
  if (dayFirst) return { date: nextDateOf(today, monthNumber(dayFirst[2]!), Number(dayFirst[1])) };
  const ordinal = /\bthe (\d{1,2})(?:st|nd|rd|th)\b/.exec(text);
  if (ordinal) {
    const day = Number(ordinal[1]);
    const month = Number(today.slice(5, 7));
    return { date: day >= Number(today.slice(8, 10)) ? nextDateOf(today, month, day) : nextDateOf(today, month % 12 + 1, day) };
  }
  const week = /\bthe week after next\b/.test(text) ? 2 : /\bnext week\b/.test(text) ? 1 : /\bthis week\b/.test(text) ? 0 : undefined;
  const weekday = new RegExp(`\\b(next |this |on )?(${WEEKDAYS})s?\\b`).exec(text);
  if (weekday) {
    const day = WEEKDAY_NAMES.findIndex((name) => name.toLowerCase() === weekday[2]);
    // "next Tuesday" is the Tuesday of next week.
    const inWeek = weekday[1] === 'next ' ? 1 : week;
    return inWeek === undefined ? { weekday: day } : { week: inWeek, weekday: day };
  }
  return week === undefined ? undefined : { week };
}

/** Later words win: a weekday keeps the week said before ("next week" … "Tuesday"), a date replaces both. */
export function mergeDate(earlier: DateSpec | undefined, later: DateSpec | undefined): DateSpec | undefined {
  if (!later) return earlier;
  if (later.date || !earlier) return later;
  const week = later.week ?? earlier.week;
  const weekday = later.weekday ?? earlier.weekday;
  return { ...(week !== undefined ? { week } : {}), ...(weekday !== undefined ? { weekday } : {}) };
}

/** The date a spec names, or undefined while only the week is known. */
export function resolveDate(spec: DateSpec | undefined, today: string): string | undefined {
  if (!spec) return undefined;
  if (spec.date) return spec.date;
  if (spec.weekday === undefined) return undefined;
  if (spec.week !== undefined) return addDays(mondayOf(today), spec.week * 7 + ((spec.weekday + 6) % 7));
  const ahead = (spec.weekday - weekdayOf(today) + 7) % 7 || 7;
  return addDays(today, ahead);
}

const DIGIT_WORDS: Record<string, string> = { zero: '0', oh: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9' };
/** Ten or eleven digits read out as words, as a transcript of "five five five, one zero zero…" has them. */
const SPOKEN_NUMBER = new RegExp(`\\b(?:(?:${Object.keys(DIGIT_WORDS).join('|')})\\b[\\s,.-]*){10,11}`, 'gi');

function phoneOf(said: string): string | undefined {
  const text = said.replace(SPOKEN_NUMBER, (words) => `${words.toLowerCase().split(/[^a-z]+/).map((word) => DIGIT_WORDS[word] ?? '').join('')} `);
  const e164 = /\+[1-9][\d\s().-]{6,18}\d/.exec(text)?.[0].replace(/[\s().-]/g, '');
  if (e164 && /^\+[1-9]\d{6,14}$/.test(e164)) return e164;
  const national = /(?:\b1[\s.-]?)?\(?\b\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}\b/.exec(text)?.[0].replace(/\D/g, '');
  if (national?.length === 10) return `+1${national}`;
  if (national?.length === 11) return `+${national}`;
  return undefined;
}

function nameOf(text: string): string | undefined {
  let found: string | undefined;
  for (const match of text.matchAll(NAME_INTRO)) {
    const words: string[] = [];
    for (const word of match[1]!.trim().split(/\s+/)) {
      const clean = word.replace(/[^A-Za-z'-]/g, '');
      if (!/^[A-Z]/.test(clean) || NOT_NAMES.has(clean)) break;
      words.push(clean);
    }
    if (words.length > 0) found = words.join(' ');
  }
  return found;
}

/** Everything one utterance says; `today` (YYYY-MM-DD) anchors relative dates. */
export function slotsOf(text: string, today: string): Slots {
  const lower = text.toLowerCase();
  const date = dateOf(lower, today);
  const time = timeOf(lower);
  const reason = REASONS.find(([, pattern]) => pattern.test(lower))?.[0];
  const name = nameOf(text);
  const phone = phoneOf(text);
  const email = /[^\s@,;:]+@[^\s@,;:]+\.[a-z]{2,}/i.exec(text)?.[0].toLowerCase();
  const customerId = /\bC-\d{4,}\b/i.exec(text)?.[0].toUpperCase();
  return {
    ...(date ? { date } : {}), ...(time ? { time } : {}), ...(reason ? { reason } : {}), ...(name ? { name } : {}),
    ...(phone ? { phone } : {}), ...(email ? { email } : {}), ...(customerId ? { customerId } : {}),
  };
}

/** Which of the offered times the caller takes: an ordinal, a yes (the first), or the time itself. */
export function choiceOf(text: string, offered: Array<{ date: string; time: string }>): number | 'none' | undefined {
  const lower = text.toLowerCase();
  if (/\b(none|neither|nope|no)\b/.test(lower) && !/\bno problem\b/.test(lower)) return 'none';
  const ordinals: Array<[RegExp, number]> = [[/\b(first|1st|earliest)\b/, 0], [/\b(second|2nd|middle)\b/, 1], [/\b(third|3rd)\b/, 2], [/\b(last|latest)\b/, offered.length - 1]];
  const ordinal = ordinals.find(([pattern, index]) => pattern.test(lower) && index < offered.length);
  if (ordinal) return ordinal[1];
  const time = timeOf(lower);
  if (time && 'time' in time) {
    const index = offered.findIndex((slot) => slot.time === time.time);
    if (index >= 0) return index;
  }
  if (/\b(yes|yeah|yep|sure|ok|okay|fine|great|perfect|sounds good|that works|works for me)\b/.test(lower)) return 0;
  return undefined;
}
