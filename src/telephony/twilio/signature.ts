import twilio from 'twilio';

/**
 * X-Twilio-Signature, checked with Twilio's own helper: HMAC-SHA1 of the URL Twilio requested
 * (the public one, not what a proxy forwards) followed by the sorted POST parameters.
 */
export function validTwilioSignature(authToken: string, header: string | string[] | undefined, url: string, params: Record<string, string>): boolean {
  if (typeof header !== 'string' || header.length === 0) return false;
  return twilio.validateRequest(authToken, header, url, params);
}

/** The URL Twilio signs for a request to `path`, given the public base URL (`https://host[/prefix]`). */
export function publicUrlOf(publicUrl: string, path: string, scheme: 'https' | 'wss' = 'https'): string {
  const base = new URL(publicUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  const protocol = scheme === 'wss' ? (base.protocol === 'http:' ? 'ws:' : 'wss:') : base.protocol;
  return `${protocol}//${base.host}${prefix}${path}`;
}
