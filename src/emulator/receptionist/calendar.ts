/**
 * Calendar arithmetic for the receptionist: plain `YYYY-MM-DD` strings computed in UTC, so the
 * result never depends on the machine's time zone.
 */

/**
 * The demo practice's time zone (scenarios/fixtures/appointments.json): "today" is the practice's
 * today, as the booking tool sees it. The emulator reads no fixture, so it is stated here.
 */
export const PRACTICE_TIME_ZONE = 'America/New_York';

export const WEEKDAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
export const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'] as const;

const ISO_DATE = /\b(\d{4})-(\d{2})-(\d{2})\b/;
/** A date the agent's prompt states, e.g. "Today is 2026-12-03" or "The date is Thursday, 2026-12-03". */
const STATED_TODAY = /\b(?:today is|today's date is|the date is|current date:?)\s*(?:[a-z]+day,?\s*)?(\d{4}-\d{2}-\d{2})\b/i;

/** The date the prompt states, else the practice's date at `nowMs`. */
export function todayOf(systemText: string, nowMs: number): string {
  return STATED_TODAY.exec(systemText)?.[1] ?? localDate(nowMs, PRACTICE_TIME_ZONE);
}

export function localDate(epochMs: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(epochMs);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

const toUtc = (date: string): Date => new Date(`${date}T00:00:00Z`);

export function addDays(date: string, days: number): string {
  const day = toUtc(date);
  day.setUTCDate(day.getUTCDate() + days);
  return day.toISOString().slice(0, 10);
}

/** 0 = Sunday. */
export const weekdayOf = (date: string): number => toUtc(date).getUTCDay();

/** The Monday that starts the week of `date` (weeks run Monday to Sunday). */
export const mondayOf = (date: string): string => addDays(date, -((weekdayOf(date) + 6) % 7));

/**
 * `YYYY-MM-DD` for a month and day, in this year or, when that has passed, the next. Not checked
 * against the calendar: "February 30" becomes `2027-02-30`, and the booking tool decides.
 */
export function nextDateOf(today: string, month: number, day: number): string {
  const year = Number(today.slice(0, 4));
  const candidate = (y: number) => `${y}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  return candidate(year) >= today ? candidate(year) : candidate(year + 1);
}

/** "Tuesday, December 8"; a date that is not on the calendar is read as month and day only. */
export function spokenDate(date: string): string {
  const match = ISO_DATE.exec(date);
  if (!match) return date;
  const [, year, month, day] = match;
  const monthName = MONTH_NAMES[Number(month) - 1] ?? month;
  const real = toUtc(date);
  const valid = !Number.isNaN(real.getTime()) && real.toISOString().slice(0, 10) === date;
  return valid ? `${WEEKDAY_NAMES[real.getUTCDay()]}, ${monthName} ${Number(day)}` : `${monthName} ${Number(day)}, ${year}`;
}

/** Every ISO date in a message, read out: tool messages say `2027-02-30`, a caller hears "February 30, 2027". */
export const speakDates = (text: string): string => text.replace(new RegExp(ISO_DATE.source, 'g'), (date) => spokenDate(date));

/** "10 a.m.", "12:30 p.m." */
export function spokenTime(time: string): string {
  const [hours = 0, minutes = 0] = time.split(':').map(Number);
  const suffix = hours < 12 ? 'a.m.' : 'p.m.';
  const hour12 = hours % 12 === 0 ? 12 : hours % 12;
  return `${hour12}${minutes ? `:${String(minutes).padStart(2, '0')}` : ''} ${suffix}`;
}

export const spokenSlot = (slot: { date: string; time: string }): string => `${spokenDate(slot.date)} at ${spokenTime(slot.time)}`;
