import { ToolInputError } from '../errors.js';
import type { ToolDefinition } from '../types.js';
import type { Customer } from './fixtures.js';
import { isCalendarDate, spokenDate, type Schedule, type SlotRefusal } from './schedule.js';

const REFUSALS: Record<SlotRefusal, string> = {
  past: 'That time has already passed.',
  too_far_ahead: 'We only book up to six months ahead.',
  closed: 'The practice is closed that day.',
  outside_hours: 'That time is outside our opening hours.',
  not_a_slot_start: 'Appointments start on the hour or half hour.',
  taken: 'That time is already taken.',
};

/**
 * Books a slot if it is free. A slot that cannot be had is a normal answer (booked=false with the
 * nearest free slots), not a tool error: the model should offer alternatives, not apologise for a fault.
 */
export function createBookAppointmentTool(schedule: Schedule, customers: Customer[]): ToolDefinition {
  const byPhone = new Map(customers.map((customer) => [customer.phone, customer]));
  return {
    name: 'book_appointment',
    description:
      'Book an appointment at Harbor Dental. Checks the calendar; if the slot is not available, returns booked=false '
      + 'with the reason and the nearest free slots to offer the caller.',
    inputSchema: {
      type: 'object',
      properties: {
        date: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'Date, YYYY-MM-DD.' },
        time: { type: 'string', pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'Local start time, HH:MM (24-hour).' },
        reason: { type: 'string', minLength: 1, maxLength: 200, description: 'Reason for the visit, e.g. cleaning, toothache.' },
        name: { type: 'string', minLength: 1, maxLength: 100, description: "Patient's name, if not the identified caller." },
      },
      required: ['date', 'time', 'reason'],
      additionalProperties: false,
    },
    timeoutMs: 3_000,
    filler: 'Let me check the calendar for you.',
    async run(input, context) {
      const date = String(input.date);
      const time = String(input.time);
      if (!isCalendarDate(date)) throw new ToolInputError(`date "${date}" is not a calendar date`);
      const slot = { date, time };
      const refusal = schedule.refusal(slot);
      if (refusal) {
        return {
          result: {
            booked: false,
            reason: refusal,
            message: REFUSALS[refusal],
            alternatives: schedule.freeSlotsFrom(slot, 3).map((free) => ({ ...free, spoken: `${spokenDate(free.date)} at ${free.time}` })),
          },
        };
      }
      const caller = context.from ? byPhone.get(context.from) : undefined;
      const name = typeof input.name === 'string' ? input.name : caller?.name;
      const booking = schedule.book({
        date, time, reason: String(input.reason),
        ...(name ? { name } : {}),
        ...(caller && !input.name ? { customerId: caller.id } : {}),
      });
      return {
        result: {
          booked: true,
          appointment: { id: booking.id, date, time, reason: booking.reason, name: booking.name ?? null, practice: schedule.practice },
          message: `Booked for ${spokenDate(date)} at ${time}.`,
        },
      };
    },
  };
}
