import { createHmac } from 'node:crypto';

/**
 * X-Twilio-Signature as Twilio computes it: HMAC-SHA1, keyed by the auth token, of the URL it
 * requests followed by each POST parameter sorted by name, name then value, no separators; base64.
 * Written here from Twilio's description, not taken from the `twilio` package the runtime checks
 * signatures with, so a mistake on either side shows.
 */
export function twilioSignature(authToken: string, url: string, params: Record<string, string> = {}): string {
  const data = Object.keys(params).sort().reduce((text, name) => text + name + params[name], url);
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}
