import { ToolPolicyError } from '../errors.js';
import { allowedBy } from '../policy.js';
import type { ToolDefinition } from '../types.js';
import type { Customer } from './fixtures.js';

export interface OutboxEmail {
  id: string;
  to: string;
  subject: string;
  body: string;
  callId: string;
  queuedAtMs: number;
}

/**
 * Emails the demo tool would have sent. Nothing leaves the process; the outbox keeps only the
 * latest `capacity` so a long load test cannot grow memory without bound.
 */
export class EmailOutbox {
  private readonly emails: OutboxEmail[] = [];
  private sequence = 0;

  constructor(private readonly capacity = 1_000) {}

  record(email: Omit<OutboxEmail, 'id'>): OutboxEmail {
    this.sequence += 1;
    const queued = { id: `E-${String(this.sequence).padStart(6, '0')}`, ...email };
    this.emails.push(queued);
    if (this.emails.length > this.capacity) this.emails.shift();
    return queued;
  }

  list(): readonly OutboxEmail[] {
    return this.emails;
  }
}

export function createSendEmailTool(outbox: EmailOutbox, customers: Customer[], now: () => number = Date.now): ToolDefinition {
  const emailByPhone = new Map(customers.map((customer) => [customer.phone, customer.email.toLowerCase()]));
  return {
    name: 'send_email',
    description:
      'Send the caller an email, e.g. an appointment confirmation or directions. Confirm the address with the caller first.',
    inputSchema: {
      type: 'object',
      properties: {
        to: { type: 'string', pattern: '^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$', maxLength: 254, description: 'Email address.' },
        subject: { type: 'string', minLength: 1, maxLength: 200 },
        body: { type: 'string', minLength: 1, maxLength: 10_000, description: 'Plain text.' },
      },
      required: ['to', 'subject', 'body'],
      additionalProperties: false,
    },
    timeoutMs: 2_000,
    async run(input, context) {
      const to = String(input.to).toLowerCase();
      const own = context.from ? emailByPhone.get(context.from) : undefined;
      if (context.policy && to !== own && !allowedBy(context.policy.emailRecipients, to)) {
        throw new ToolPolicyError(`this agent may only email the address on the caller's own record${own ? '' : ' (the calling number has none)'}. `
          + 'Do not ask for another address; offer to note the request for the practice instead.');
      }
      const email = outbox.record({
        to: String(input.to), subject: String(input.subject), body: String(input.body), callId: context.callId, queuedAtMs: now(),
      });
      return { result: { sent: true, id: email.id, to: email.to, message: `The email is on its way to ${email.to}.` } };
    },
  };
}
