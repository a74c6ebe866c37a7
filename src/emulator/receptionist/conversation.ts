import { CONTINUATION_NOTE } from '../continuation-note.js';
import { isObject, type Message } from '../converse-request.js';
import { intentOf, type Intent } from './intents.js';
import { choiceOf, mergeDate, slotsOf, type DateSpec, type TimeSpec } from './slots.js';

/** One tool use of the history with the result that came back for it. */
export interface ToolExchange {
  name: string;
  /** The tool use's id, drawn by the emulator's seeded generator: differs between calls. */
  toolUseId: string;
  input: Record<string, unknown>;
  /** The result's JSON object (empty when it came back as text). */
  result: Record<string, unknown>;
  /** The error text of a result with status `error`. */
  error?: string;
}

export type CallEvent = { kind: 'caller'; text: string } | { kind: 'tools'; exchanges: ToolExchange[] };

export interface Slot { date: string; time: string }

/** The booking being arranged: what the caller has said so far and what the calendar answered. */
export interface BookingTask {
  date?: DateSpec;
  time?: TimeSpec;
  reason?: string;
  name?: string;
  /** Free times the calendar offered that the caller has not yet taken or declined. */
  offered: Slot[];
  booked: boolean;
}

/** What the receptionist remembers of the call, rebuilt from the request's whole history every time. */
export interface CallMemory {
  today: string;
  booking?: BookingTask;
  /** The task the caller's latest words are about; `introduction`: they only said who they are. */
  focus?: Intent | 'introduction';
  phone?: string;
  email?: string;
  customerId?: string;
  /** The caller's own name, said or found by lookup_customer. */
  callerName?: string;
}


const textsOf = (message: Message): string[] =>
  message.content.flatMap((block) => (typeof block.text === 'string' && !CONTINUATION_NOTE.test(block.text) ? [block.text] : []));

/** The caller's words and the tool exchanges, in order; the agent's own words are not needed. */
export function eventsOf(messages: Message[]): CallEvent[] {
  const events: CallEvent[] = [];
  messages.forEach((message, index) => {
    if (message.role !== 'user') return;
    const previous = messages[index - 1];
    const uses = new Map((previous?.role === 'assistant' ? previous.content : []).flatMap((block) => (block.toolUse ? [[block.toolUse.toolUseId, block.toolUse] as const] : [])));
    const exchanges = message.content.flatMap((block): ToolExchange[] => {
      const result = block.toolResult;
      const use = result && uses.get(result.toolUseId);
      if (!result || !use) return [];
      const json = result.content.find((item): item is { json: unknown } => isObject(item) && 'json' in item)?.json;
      const text = result.content.flatMap((item) => (isObject(item) && typeof item.text === 'string' ? [item.text] : [])).join(' ');
      const body = isObject(json) ? json : {};
      return [{
        name: use.name,
        toolUseId: use.toolUseId,
        input: isObject(use.input) ? use.input : {},
        result: body,
        ...(result.status === 'error' ? { error: typeof body.error === 'string' ? body.error : text || 'the tool failed' } : {}),
      }];
    });
    if (exchanges.length > 0) events.push({ kind: 'tools', exchanges });
    const text = textsOf(message).join(' ').trim();
    if (text) events.push({ kind: 'caller', text });
  });
  return events;
}

const newBooking = (): BookingTask => ({ offered: [], booked: false });

function hearCaller(memory: CallMemory, text: string): void {
  const slots = slotsOf(text, memory.today);
  const asked = intentOf(text);
  // A question that names a time ("Is 10 a.m. on Tuesday free?") is about booking it.
  const intent = asked === 'question' && slots.time !== undefined ? 'book' : asked;
  if (slots.phone) memory.phone = slots.phone;
  if (slots.email) memory.email = slots.email;
  if (slots.customerId) memory.customerId = slots.customerId;

  const open = memory.booking && !memory.booking.booked ? memory.booking : undefined;
  const saysBookingDetails = slots.date !== undefined || slots.time !== undefined || slots.reason !== undefined;
  const choice = open && open.offered.length > 0 ? choiceOf(text, open.offered) : undefined;
  const continuesBooking = open !== undefined && intent === undefined && (saysBookingDetails || choice !== undefined || slots.name !== undefined);
  if (intent === 'book' || continuesBooking) {
    const booking = open ?? newBooking();
    memory.booking = booking;
    if (slots.date || slots.time) {
      booking.date = mergeDate(booking.date, slots.date);
      booking.time = slots.time ?? booking.time;
      booking.offered = [];
    } else if (typeof choice === 'number') {
      const slot = booking.offered[choice]!;
      booking.date = { date: slot.date };
      booking.time = { time: slot.time };
      booking.offered = [];
    } else if (choice === 'none') {
      // The caller wants none of the offered times: ask afresh for a day and a time.
      delete booking.date;
      delete booking.time;
      booking.offered = [];
    }
    if (slots.reason) booking.reason = slots.reason;
    if (slots.name) booking.name = slots.name;
    memory.focus = 'book';
    return;
  }
  if (slots.name) memory.callerName = slots.name;
  const givesIdentifier = slots.phone !== undefined || slots.email !== undefined || slots.customerId !== undefined;
  memory.focus = intent ?? (memory.focus === 'account' && givesIdentifier ? 'account' : slots.name ? 'introduction' : undefined);
}

function hearTools(memory: CallMemory, exchanges: ToolExchange[]): void {
  for (const exchange of exchanges) {
    const { result } = exchange;
    if (exchange.name === 'book_appointment' && memory.booking && exchange.error === undefined) {
      if (result.booked === true) {
        memory.booking.booked = true;
        memory.booking.offered = [];
      } else if (Array.isArray(result.alternatives)) {
        memory.booking.offered = result.alternatives.flatMap((slot): Slot[] =>
          (isObject(slot) && typeof slot.date === 'string' && typeof slot.time === 'string' ? [{ date: slot.date, time: slot.time }] : []));
      }
    }
    if (exchange.name === 'lookup_customer' && isObject(result.customer) && typeof result.customer.name === 'string') {
      memory.callerName = result.customer.name;
    }
  }
}

/** Replays the call's events into what the receptionist knows now. */
export function remember(events: CallEvent[], today: string): CallMemory {
  const memory: CallMemory = { today };
  for (const event of events) {
    if (event.kind === 'caller') hearCaller(memory, event.text);
    else hearTools(memory, event.exchanges);
  }
  return memory;
}
