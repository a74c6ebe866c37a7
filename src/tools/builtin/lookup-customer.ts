import { ToolInputError, ToolPolicyError } from '../errors.js';
import type { ToolDefinition } from '../types.js';
import type { Customer } from './fixtures.js';
import type { Schedule } from './schedule.js';

export type Identifier =
  | { kind: 'phone'; value: string }
  | { kind: 'email'; value: string }
  | { kind: 'customerId'; value: string };

/**
 * What kind of identifier the model passed. Phone numbers are accepted with the usual punctuation
 * and, for ten digits, as North American numbers, because callers read them out that way.
 */
export function parseIdentifier(raw: string): Identifier {
  const value = raw.trim();
  if (/^C-\d{4,}$/i.test(value)) return { kind: 'customerId', value: value.toUpperCase() };
  if (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) return { kind: 'email', value: value.toLowerCase() };
  const digits = value.replace(/[\s().-]/g, '');
  if (/^\+[1-9]\d{6,14}$/.test(digits)) return { kind: 'phone', value: digits };
  if (/^\d{10}$/.test(digits)) return { kind: 'phone', value: `+1${digits}` };
  if (/^1\d{10}$/.test(digits)) return { kind: 'phone', value: `+${digits}` };
  throw new ToolInputError(
    `identifier ${JSON.stringify(raw)} is not a phone number (E.164, e.g. +15551000000), an email address or a customer id (e.g. C-1001)`,
  );
}

export function createLookupCustomerTool(customers: Customer[], schedule: Schedule): ToolDefinition {
  const byKey = new Map<string, Customer>();
  for (const customer of customers) {
    byKey.set(`customerId:${customer.id}`, customer);
    byKey.set(`email:${customer.email.toLowerCase()}`, customer);
    byKey.set(`phone:${customer.phone}`, customer);
  }

  return {
    name: 'lookup_customer',
    description:
      "Find a patient's record at Harbor Dental by phone number (E.164, e.g. +15551000000), email address or customer id (e.g. C-1001). "
      + "Use the caller's number first. Returns the record and upcoming appointments, or found=false.",
    inputSchema: {
      type: 'object',
      properties: {
        identifier: { type: 'string', minLength: 3, maxLength: 254, description: 'Phone number, email address or customer id.' },
      },
      required: ['identifier'],
      additionalProperties: false,
    },
    timeoutMs: 2_000,
    filler: 'One moment while I look that up.',
    async run(input, context) {
      const identifier = parseIdentifier(String(input.identifier));
      const customer = byKey.get(`${identifier.kind}:${identifier.value}`);
      // Bound to the verified caller: any identifier the caller (or an injected instruction) names
      // must lead to the record of the number the call came from.
      const ownNumber = identifier.kind === 'phone' && identifier.value === context.from;
      if (context.policy && !context.policy.lookupAnyCustomer && !ownNumber && (!context.from || customer?.phone !== context.from)) {
        throw new ToolPolicyError('this agent may only look up the record of the number the call comes from. '
          + 'Tell the caller you can only discuss the account registered to the phone they are calling from.');
      }
      if (!customer) {
        return {
          result: {
            found: false,
            message: `No patient record matches that ${identifier.kind === 'customerId' ? 'customer id' : identifier.kind}. `
              + 'Ask for the email address or customer id on the account, or offer to register them as a new patient.',
          },
        };
      }
      const upcoming = schedule.upcomingFor(customer.id).map(({ date, time, reason }) => ({ date, time, reason }));
      return { result: { found: true, customer: { ...customer, upcomingAppointments: upcoming } } };
    },
  };
}
