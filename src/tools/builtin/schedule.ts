import { WEEKDAYS, type AppointmentBook } from './fixtures.js';

export interface Slot { date: string; time: string }

export interface Booking extends Slot {
  id: string;
  reason: string;
  name?: string;
  customerId?: string;
}

export type SlotRefusal = 'past' | 'too_far_ahead' | 'closed' | 'outside_hours' | 'not_a_slot_start' | 'taken';

export interface Schedule {
  practice: string;
  /** Why the slot cannot be booked, or undefined when it can. */
  refusal(slot: Slot): SlotRefusal | undefined;
  book(booking: Omit<Booking, 'id'>): Booking;
  /** The first free slots at or after `from`, within the booking horizon. */
  freeSlotsFrom(from: Slot, count: number): Slot[];
  upcomingFor(customerId: string): Booking[];
}

export interface ScheduleOptions {
  now: () => number;
  horizonDays: number;
}

/**
 * The practice's calendar: opening hours and closed days from the fixture, bookings made during this
 * process's life kept in memory. Every check and booking is synchronous, so two calls asking for the
 * same slot at once cannot both get it.
 */
export function createSchedule(book: AppointmentBook, options: ScheduleOptions): Schedule {
  const bookings = new Map<string, Booking>();
  const closed = new Set(book.closedDates);
  let sequence = 0;
  const add = (booking: Omit<Booking, 'id'>): Booking => {
    sequence += 1;
    const made: Booking = { id: `A-${String(sequence).padStart(5, '0')}`, ...booking };
    bookings.set(slotKey(booking), made);
    return made;
  };
  for (const existing of book.booked) add(existing);

  const today = (): Slot => localNow(options.now(), book.timezone);

  function refusal(slot: Slot): SlotRefusal | undefined {
    const now = today();
    if (slot.date < now.date || (slot.date === now.date && slot.time <= now.time)) return 'past';
    if (daysBetween(now.date, slot.date) > options.horizonDays) return 'too_far_ahead';
    if (closed.has(slot.date)) return 'closed';
    const hours = book.openingHours[weekdayOf(slot.date)];
    if (hours.length === 0) return 'closed';
    const minute = minutesOf(slot.time);
    const open = hours.find((range) => minute >= minutesOf(range.from) && minute + book.slotMinutes <= minutesOf(range.to));
    if (!open) return 'outside_hours';
    if ((minute - minutesOf(open.from)) % book.slotMinutes !== 0) return 'not_a_slot_start';
    if (bookings.has(slotKey(slot))) return 'taken';
    return undefined;
  }

  function freeSlotsFrom(from: Slot, count: number): Slot[] {
    const found: Slot[] = [];
    for (let day = 0; day <= options.horizonDays && found.length < count; day += 1) {
      const date = addDays(from.date, day);
      for (const range of book.openingHours[weekdayOf(date)]) {
        for (let minute = minutesOf(range.from); minute + book.slotMinutes <= minutesOf(range.to); minute += book.slotMinutes) {
          const slot = { date, time: timeOf(minute) };
          if (day === 0 && slot.time < from.time) continue;
          if (found.length < count && refusal(slot) === undefined) found.push(slot);
        }
      }
    }
    return found;
  }

  return {
    practice: book.practice,
    refusal,
    book: add,
    freeSlotsFrom,
    upcomingFor(customerId) {
      const now = today();
      return [...bookings.values()]
        .filter((booking) => booking.customerId === customerId && slotKey(booking) > slotKey(now))
        .sort((a, b) => slotKey(a).localeCompare(slotKey(b)));
    },
  };
}

/** A real calendar date: `2026-02-30` has the right shape but is not one. */
export function isCalendarDate(date: string): boolean {
  const parsed = new Date(`${date}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === date;
}

export function weekdayOf(date: string): (typeof WEEKDAYS)[number] {
  return WEEKDAYS[new Date(`${date}T00:00:00Z`).getUTCDay()] ?? 'sunday';
}

/** "Thursday, December 3" is what a receptionist says; the model repeats what it reads. */
export function spokenDate(date: string): string {
  return new Date(`${date}T12:00:00Z`).toLocaleDateString('en-US', { weekday: 'long', month: 'long', day: 'numeric', timeZone: 'UTC' });
}

function localNow(epochMs: number, timeZone: string): Slot {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(new Date(epochMs));
  const part = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '00';
  return { date: `${part('year')}-${part('month')}-${part('day')}`, time: `${part('hour')}:${part('minute')}` };
}

const slotKey = (slot: Slot): string => `${slot.date} ${slot.time}`;
const minutesOf = (time: string): number => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));
const timeOf = (minutes: number): string => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
const DAY_MS = 86_400_000;
const addDays = (date: string, days: number): string => new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
const daysBetween = (from: string, to: string): number => Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
