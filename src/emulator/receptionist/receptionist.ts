import type { ConverseRequest } from '../converse-request.js';
import { spokenDate, spokenSlot, spokenTime, todayOf } from './calendar.js';
import { eventsOf, remember, type BookingTask, type CallMemory, type ToolExchange } from './conversation.js';
import { declaredTools, fitInput, type DeclaredTool } from './declared-tools.js';
import { ANYTHING_ELSE, listed, resultReply, sentence, visit } from './replies.js';
import { resolveDate } from './slots.js';

/**
 * The emulator's default receptionist: rules and templates over the request (no model). It reads
 * the whole history, so it remembers what the caller said; it asks for what a booking still lacks,
 * calls the tools the request declares with inputs their schemas take, and speaks from their results.
 */
export interface ReceptionistAnswer {
  text: string;
  toolUses: Array<{ name: string; input: Record<string, string> }>;
  thinking: string;
}

interface Context {
  memory: CallMemory;
  tools: Map<string, DeclaredTool>;
  practice?: string;
  from?: string;
}

const PRACTICE = /\b(?:receptionist|assistant) (?:of|at|for) (?:the )?([A-Z][\w'&-]*(?:\s+[A-Z][\w'&-]*)*)/;
const WEEKS = ['this week', 'next week', 'the week after next'];

export function receptionistAnswer(request: ConverseRequest, nowMs: number): ReceptionistAnswer {
  const system = (request.system ?? []).flatMap((block) => (typeof block.text === 'string' ? [block.text] : [])).join('\n');
  const events = eventsOf(request.messages);
  const context: Context = {
    memory: remember(events, todayOf(system, nowMs)),
    tools: declaredTools(request),
  };
  const practice = PRACTICE.exec(system)?.[1];
  if (practice) context.practice = practice;
  const from = request.requestMetadata?.from;
  if (from) context.from = from;
  const latest = events.at(-1);
  return latest?.kind === 'tools' ? afterTools(latest.exchanges, context) : answerCaller(latest?.text ?? '', context);
}

const say = (text: string, why: string): ReceptionistAnswer => ({ text, toolUses: [], thinking: `${why} I answer: "${text}"` });

const use = (name: string, input: Record<string, string>, why: string): ReceptionistAnswer =>
  ({ text: '', toolUses: [{ name, input }], thinking: `${why} I call ${name} with ${JSON.stringify(input)}.` });

function cannot(what: string, context: Context): ReceptionistAnswer {
  const offer = context.tools.has('transfer_call') ? ' I can put you through to the front desk if you like.' : '';
  return say(`I'm sorry, I can't ${what} on this line.${offer}`, `The caller wants me to ${what}, but no tool for it is declared.`);
}

function afterTools(exchanges: ToolExchange[], context: Context): ReceptionistAnswer {
  const booking = context.memory.booking;
  const refused = exchanges.find((exchange) => exchange.name === 'book_appointment' && exchange.error === undefined && exchange.result.booked === false);
  // A caller who asked for a part of the day ("Tuesday afternoon") takes the nearest free time in it.
  if (refused && booking?.time && 'window' in booking.time) {
    const { from, to } = booking.time.window;
    const free = booking.offered.filter((slot) => slot.date === refused.input.date && slot.time >= from && slot.time < to);
    // Callers racing for one part of the day would each try the same next time and lose again, one
    // winner per round (10 demo calls at once needed 10 rounds, past maxToolRoundsPerTurn): each call
    // takes its own pick of the free times, keyed on its tool use id.
    const next = free[spreadIndex(refused.toolUseId, free.length)];
    if (next) {
      const why = (typeof refused.result.message === 'string' ? refused.result.message : 'That time is not free.').replace(/[.!?]+$/, '');
      // Said aloud, so the caller hears why the wait goes on (and the tool's filler is not repeated).
      const trying = sentence(`${why}, so I'll try ${spokenTime(next.time)}`);
      return { ...use('book_appointment', { ...stringsOf(refused.input), date: next.date, time: next.time }, `The caller asked for the ${booking.time.window.label}.`), text: trying };
    }
  }
  const text = exchanges
    .map((exchange) => resultReply(exchange, { offered: booking?.offered ?? [], canTransfer: context.tools.has('transfer_call') }))
    .join(' ');
  const outcomes = exchanges.map((exchange) => `${exchange.name}: ${exchange.error === undefined ? 'answered' : `failed (${exchange.error})`}`).join('; ');
  return say(text, `The tools came back: ${outcomes}.`);
}

function spreadIndex(key: string, count: number): number {
  let hash = 0;
  for (let index = 0; index < key.length; index += 1) hash = (hash * 31 + key.charCodeAt(index)) >>> 0;
  return count === 0 ? 0 : hash % count;
}

const stringsOf = (input: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(Object.entries(input).flatMap(([key, value]) => (typeof value === 'string' ? [[key, value]] : [])));

function answerCaller(text: string, context: Context): ReceptionistAnswer {
  const { memory } = context;
  switch (memory.focus) {
    case 'book':
      return bookingAnswer(memory.booking!, context);
    case 'transfer':
      return transferAnswer(text, context);
    case 'goodbye':
      return say(`Thanks for calling${context.practice ? ` ${context.practice}` : ''}. Goodbye!`, 'The caller is done.');
    case 'account':
      return accountAnswer(context);
    case 'question': {
      const tool = context.tools.get('search_knowledge');
      if (!tool) return cannot('look that up', context);
      return use(tool.name, fitInput(tool, { query: text }).input, 'The caller asks a question about the practice.');
    }
    case 'greeting':
      return say(`Hello, you've reached ${context.practice ?? 'us'}. How can I help?`, 'The caller said hello.');
    case 'thanks':
      return say(`You're welcome. ${ANYTHING_ELSE}`, 'The caller thanked me.');
    case 'introduction':
      return say(`Thank you, ${memory.callerName}. ${ANYTHING_ELSE}`, 'The caller told me their name.');
    default:
      return notUnderstood(context);
  }
}

const CAPABILITIES: Array<[string, string]> = [
  ['book_appointment', 'book an appointment'],
  ['lookup_customer', 'look up your account'],
  ['search_knowledge', 'answer questions about the practice'],
  ['transfer_call', 'put you through to the front desk'],
];

function notUnderstood(context: Context): ReceptionistAnswer {
  const can = CAPABILITIES.filter(([tool]) => context.tools.has(tool)).map(([, what]) => what);
  const text = can.length > 0
    ? `Sorry, I didn't understand that. I can ${listed(can, 'or')}. What would you like to do?`
    : "Sorry, I didn't understand that. Could you put it another way?";
  return say(text, 'No rule understood the caller.');
}

function bookingAnswer(booking: BookingTask, context: Context): ReceptionistAnswer {
  const tool = context.tools.get('book_appointment');
  if (!tool) return cannot('book appointments', context);
  const { today } = context.memory;
  if (booking.offered.length > 0) {
    return say(`Which of these would suit you: ${listed(booking.offered.map(spokenSlot), 'or')}?`, 'The caller has not yet chosen one of the free times.');
  }
  const date = resolveDate(booking.date, today);
  const time = booking.time && ('time' in booking.time ? booking.time.time : booking.time.window.from);
  const { input, missing } = fitInput(tool, { date, time, reason: booking.reason, name: booking.name });
  if (missing.length === 0) return use(tool.name, input, 'The caller wants to book, and I know everything the booking needs.');

  const week = booking.date?.week !== undefined ? WEEKS[booking.date.week] : undefined;
  const when = date ? ` on ${spokenDate(date)}` : week ? ` ${week}` : '';
  const at = !booking.time ? '' : 'time' in booking.time ? ` at ${spokenTime(booking.time.time)}` : ` in the ${booking.time.window.label}`;
  const questions: string[] = [];
  if (missing.includes('date')) questions.push(`Which day suits you${missing.includes('time') ? ', and would you prefer morning or afternoon' : ''}?`);
  else if (missing.includes('time')) questions.push('What time would suit you? Mornings and afternoons are both possible.');
  if (missing.includes('reason')) questions.push('What is the visit for?');
  for (const key of missing.filter((key) => !['date', 'time', 'reason'].includes(key))) questions.push(`What ${key} should I put down?`);
  return say(`${sentence(`I can book ${visit(booking.reason)}${when}${at}`)} ${questions.join(' ')}`, `The booking still needs: ${missing.join(', ')}.`);
}

function transferAnswer(text: string, context: Context): ReceptionistAnswer {
  const tool = context.tools.get('transfer_call');
  if (!tool) return cannot('transfer calls', context);
  const lower = text.toLowerCase();
  const to = /\b(bill|billing|payment|balance|invoice)\b/.test(lower) ? 'billing'
    : /\b(emergency|urgent|severe|on-call|on call)\b/.test(lower) ? 'on-call-dentist' : 'front-desk';
  return use(tool.name, fitInput(tool, { to, reason: 'the caller asked for a person' }).input, 'The caller wants a person.');
}

function accountAnswer(context: Context): ReceptionistAnswer {
  const tool = context.tools.get('lookup_customer');
  if (!tool) return cannot('look up accounts', context);
  const { memory } = context;
  const identifier = memory.customerId ?? memory.email ?? memory.phone ?? context.from;
  if (!identifier) return say('What phone number or email address is the account under?', 'I have nothing to look the caller up by.');
  return use(tool.name, fitInput(tool, { identifier }).input, 'The caller asks about their account.');
}
