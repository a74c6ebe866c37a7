import { ToolPolicyError } from './errors.js';

/**
 * What an agent's tools may do on a caller's behalf, whatever the model asks: a model that follows
 * a prompt injection must not dial a premium-rate number, read another caller's record or mail it out.
 */
export interface ToolPolicy {
  /** Where `transfer_call` may send a call: team names, E.164 numbers or SIP URIs; `*` matches any run of characters. */
  transferTargets: string[];
  /** `lookup_customer` may read any record, not only the one of the verified caller (`from`). */
  lookupAnyCustomer: boolean;
  /** Addresses `send_email` may write to besides the caller's own record's; `*` matches any run of characters. */
  emailRecipients: string[];
}

/** True when `value` equals one of `patterns` or matches one with `*` wildcards (case-insensitive). */
export function allowedBy(patterns: readonly string[], value: string): boolean {
  const wanted = value.toLowerCase();
  return patterns.some((pattern) => {
    const source = pattern.toLowerCase().split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
    return new RegExp(`^${source}$`, 's').test(wanted);
  });
}

/** Throws the refusal the model reads when `value` is not on the allow-list. */
export function requireAllowed(patterns: readonly string[], value: string, what: string): void {
  if (!allowedBy(patterns, value)) throw new ToolPolicyError(`${what} ${JSON.stringify(value)} is not allowed for this agent. Do not retry with another value; offer the caller what you can do instead.`);
}
