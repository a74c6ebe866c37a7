import { isObject } from '../converse-request.js';
import { speakDates, spokenDate, spokenSlot, spokenTime } from './calendar.js';
import type { Slot, ToolExchange } from './conversation.js';

/** The words the receptionist says about a tool's result: each from the result's own fields. */

export const ANYTHING_ELSE = 'Is there anything else I can help with?';


const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** "a cleaning", "an extraction", "an appointment". */
export const visit = (reason: string | undefined): string => {
  const what = reason ?? 'appointment';
  return `${/^[aeiou]/i.test(what) ? 'an' : 'a'} ${what}`;
};

/** "A, B and C", or with `or`: "A, B or C". */
export const listed = (items: string[], conjunction: 'and' | 'or' = 'and'): string =>
  items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} ${conjunction} ${items.at(-1)}`;

/** Ends a sentence once: after "10 a.m." no second full stop. */
export const sentence = (text: string): string => (/[.!?]$/.test(text) ? text : `${text}.`);

const firstSentences = (text: string, count: number): string =>
  (text.match(/[^.!?]+[.!?]+/g) ?? [text]).slice(0, count).join('').trim();

/** What a failed tool said, as a person can hear it: no tool prefixes, no quotes, dates read out. */
export function failureDetail(exchange: ToolExchange): string {
  const error = exchange.error ?? '';
  if (/did not answer within/.test(error)) return 'it did not answer in time';
  const detail = error
    .replace(/^Invalid input for [\w-]+: /, '')
    .replace(/^Refused by policy: /, '')
    .replace(new RegExp(`^${exchange.name} failed: `), '')
    .replace(/["“”]/g, '');
  return speakDates(firstSentences(detail, 1).replace(/[.!?]+$/, ''));
}

const ACTIONS: Record<string, string> = {
  book_appointment: 'book that',
  lookup_customer: 'look up the account',
  search_knowledge: 'look that up',
  transfer_call: 'transfer you',
};

function failed(exchange: ToolExchange): string {
  const action = ACTIONS[exchange.name] ?? 'do that';
  const system = exchange.name === 'book_appointment' ? 'The booking system' : 'The system';
  const followUp = exchange.name === 'book_appointment'
    ? (/\bdate\b/.test(exchange.error ?? '') ? 'Which date did you mean?' : /\btime\b/.test(exchange.error ?? '') ? 'What time did you mean?' : 'Shall I try a different day or time?')
    : ANYTHING_ELSE;
  return `I'm sorry, I couldn't ${action}. ${system} said: ${failureDetail(exchange)}. ${followUp}`;
}

export function bookedReply(result: Record<string, unknown>): string {
  const appointment = isObject(result.appointment) ? result.appointment : {};
  const date = str(appointment.date);
  const time = str(appointment.time);
  const when = date && time ? ` on ${spokenSlot({ date, time })}` : '';
  const name = str(appointment.name);
  return `${sentence(`You're booked for ${visit(str(appointment.reason))}${when}${name ? ` under the name ${name}` : ''}`)} ${ANYTHING_ELSE}`;
}

/** A slot the calendar refused: its reason, then the free times it offered. */
export function notBookedReply(result: Record<string, unknown>, offered: Slot[]): string {
  const why = str(result.message) ?? 'That time is not available.';
  if (offered.length === 0) return `${why} I couldn't find a free time after it. Would another day suit you?`;
  const times = offered.map(spokenSlot);
  return offered.length === 1
    ? `${why} ${sentence(`The nearest free time is ${times[0]}`)} Would that suit you?`
    : `${why} ${sentence(`The nearest free times are ${listed(times)}`)} Would one of those suit you?`;
}

const ACCOUNT_STATUS: Record<string, (balance: number) => string> = {
  good_standing: () => 'in good standing',
  balance_due: (balance) => `open with a balance of ${balance} dollars due`,
  on_hold: () => 'on hold; the front desk can tell you why',
};

function customerReply(customer: Record<string, unknown>): string {
  const first = str(customer.name)?.split(' ')[0];
  const status = ACCOUNT_STATUS[str(customer.accountStatus) ?? '']?.(typeof customer.balanceUsd === 'number' ? customer.balanceUsd : 0);
  const next = Array.isArray(customer.upcomingAppointments) && isObject(customer.upcomingAppointments[0]) ? customer.upcomingAppointments[0] : undefined;
  const nextDate = str(next?.date);
  const nextTime = str(next?.time);
  const appointment = next && nextDate && nextTime
    ? ` ${sentence(`Your next appointment is ${visit(str(next.reason))} on ${spokenDate(nextDate)} at ${spokenTime(nextTime)}`)}`
    : ' You have no upcoming appointments.';
  return `Thanks${first ? `, ${first}` : ''}. I have your record${status ? `: your account is ${status}` : ''}.${appointment} What can I do for you?`;
}

function identifierKind(identifier: unknown): string {
  const value = str(identifier) ?? '';
  return /@/.test(value) ? 'email address' : /^C-\d+$/i.test(value) ? 'customer id' : 'phone number';
}

function knowledgeReply(result: Record<string, unknown>, canTransfer: boolean): string {
  const best = Array.isArray(result.results) && isObject(result.results[0]) ? str(result.results[0].answer) : undefined;
  if (best) return `${firstSentences(best, 2)} ${ANYTHING_ELSE}`;
  return `I'm sorry, I don't have anything on that.${canTransfer ? ' I can put you through to the front desk if you like.' : ''}`;
}

const TEAMS: Record<string, string> = { 'front-desk': 'the front desk', billing: 'billing', 'on-call-dentist': 'the on-call dentist' };

/** The reply to one tool's result; `offered` are the free times a refused booking came back with. */
export function resultReply(exchange: ToolExchange, options: { offered: Slot[]; canTransfer: boolean }): string {
  if (exchange.error !== undefined) return failed(exchange);
  const { result } = exchange;
  switch (exchange.name) {
    case 'book_appointment':
      return result.booked === true ? bookedReply(result) : notBookedReply(result, options.offered);
    case 'lookup_customer':
      return isObject(result.customer)
        ? customerReply(result.customer)
        : `I couldn't find a patient record under that ${identifierKind(exchange.input.identifier)}. Could you give me the email address or customer id on the account?`;
    case 'search_knowledge':
      return knowledgeReply(result, options.canTransfer);
    case 'transfer_call':
      return `Of course. I'm transferring you to ${TEAMS[str(result.to) ?? ''] ?? str(result.to) ?? 'a colleague'} now.`;
    default:
      return `That's done. ${ANYTHING_ELSE}`;
  }
}
