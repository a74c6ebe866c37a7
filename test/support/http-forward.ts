import { request, type IncomingHttpHeaders } from 'node:http';

/** Passes one buffered HTTP POST on to `upstream`, as the fault relays in front of dynalite do. */
export function forwardPost(upstream: URL, body: string, headers: IncomingHttpHeaders): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: upstream.hostname, port: upstream.port, method: 'POST', path: '/', headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (response) => {
      let text = '';
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 500, body: text }));
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
