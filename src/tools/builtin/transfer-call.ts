import { requireAllowed } from '../policy.js';
import type { ToolDefinition } from '../types.js';

/** A phone number, a SIP address, or the name of a team such as `front-desk`. */
const DESTINATION = '^(\\+[1-9]\\d{6,14}|sips?:[^\\s]{3,200}|[a-z][a-z0-9-]{1,63})$';

/** Hands the call to a person: the executor passes `transfer` on and the call ends in a `transfer` frame. */
export function createTransferCallTool(): ToolDefinition {
  return {
    name: 'transfer_call',
    description:
      'Transfer the caller to a person. `to` is a team (front-desk, billing, on-call-dentist), a phone number in E.164 form or a SIP address. '
      + 'Tell the caller you are transferring them; the call is handed over after your answer.',
    inputSchema: {
      type: 'object',
      properties: {
        to: { type: 'string', pattern: DESTINATION, description: 'Team name, E.164 phone number or SIP address.' },
        reason: { type: 'string', maxLength: 200, description: 'Why the caller is transferred, for the person who answers.' },
      },
      required: ['to'],
      additionalProperties: false,
    },
    timeoutMs: 1_000,
    async run(input, context) {
      const to = String(input.to);
      if (context.policy) requireAllowed(context.policy.transferTargets, to, 'Transfer target');
      const reason = typeof input.reason === 'string' && input.reason !== '' ? input.reason : undefined;
      return {
        result: { transferring: true, to, message: 'The call will be transferred after your answer.' },
        transfer: reason ? { to, reason } : { to },
      };
    },
  };
}
