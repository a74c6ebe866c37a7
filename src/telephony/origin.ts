import type { IncomingMessage } from 'node:http';

/**
 * Whether a WebSocket upgrade may proceed as far as its `Origin` goes. A browser always sends
 * `Origin`, so without this check any page the user visits could place calls through a loopback
 * server (billed in `aws` mode). Clients that send no `Origin` (gateways, the load runner, `aybiza
 * call`) are not browsers and are unaffected; the page the server itself serves is same-origin.
 */
export function isAllowedOrigin(request: IncomingMessage, allowedOrigins: readonly string[]): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (allowedOrigins.includes(origin) || allowedOrigins.includes('*')) return true;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  return host !== '' && host === request.headers.host;
}
