import type { ToolDefinition } from '../types.js';
import { createBookAppointmentTool } from './book-appointment.js';
import { loadFixtures } from './fixtures.js';
import { createLookupCustomerTool } from './lookup-customer.js';
import { createSchedule } from './schedule.js';
import { createSearchKnowledgeTool } from './search-knowledge.js';
import { EmailOutbox, createSendEmailTool } from './send-email.js';
import { createTransferCallTool } from './transfer-call.js';

export interface BuiltinToolOptions {
  /** Folder holding customers.json, appointments.json and knowledge.json. */
  fixturesDir: string;
  /** Clock for "today" in the calendar; tests pin it. */
  now?: () => number;
  /** Receives what `send_email` would have sent; a fresh one per call of this function by default. */
  outbox?: EmailOutbox;
}

export { FixtureError } from './fixtures.js';
export { EmailOutbox } from './send-email.js';

/** How far ahead the demo calendar accepts bookings; also bounds the in-memory bookings. */
const BOOKING_HORIZON_DAYS = 183;

/**
 * The demo tools of the source design over local fixtures. State (bookings, outbox) belongs to the
 * returned set, so two registries never share it.
 */
export async function createBuiltinTools(options: BuiltinToolOptions): Promise<ToolDefinition[]> {
  const fixtures = await loadFixtures(options.fixturesDir);
  const now = options.now ?? Date.now;
  const schedule = createSchedule(fixtures.appointments, { now, horizonDays: BOOKING_HORIZON_DAYS });
  return [
    createLookupCustomerTool(fixtures.customers, schedule),
    createBookAppointmentTool(schedule, fixtures.customers),
    createSearchKnowledgeTool(fixtures.knowledge),
    createTransferCallTool(),
    createSendEmailTool(options.outbox ?? new EmailOutbox(), fixtures.customers, now),
  ];
}
