import { createHmac, randomBytes } from 'node:crypto';

// Per process and never stored: a record id cannot be turned back into the call id, and one seen
// on /metrics names no call another process (or a restart of this one) would recognise.
const KEY = randomBytes(32);

/**
 * What exemplars carry instead of the call id, which is enough to address a call (resume it,
 * read it back): HMAC-SHA256 of the call id under a per-process random key, cut to 128 bits. The
 * call's `call.summary` log line carries the same value as `recordId`, so an operator joins a slow
 * exemplar to its call through the logs, which need access of their own.
 */
export function recordId(callId: string): string {
  return createHmac('sha256', KEY).update(callId).digest('hex').slice(0, 32);
}
