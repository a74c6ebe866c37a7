import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The browser softphone's and the call inspector's files under `web/`, by URL path; read once, they are a few kilobytes. */
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'softphone/index.html', type: 'text/html; charset=utf-8' },
  '/softphone.js': { file: 'softphone/softphone.js', type: 'text/javascript; charset=utf-8' },
  '/softphone.css': { file: 'softphone/softphone.css', type: 'text/css; charset=utf-8' },
  '/inspector': { file: 'inspector/index.html', type: 'text/html; charset=utf-8' },
  '/inspector.js': { file: 'inspector/inspector.js', type: 'text/javascript; charset=utf-8' },
  '/inspector.css': { file: 'inspector/inspector.css', type: 'text/css; charset=utf-8' },
};

/** `<repo>/web`, found from this file whether it runs from `src/` (tsx) or `dist/src/` (npm start). */
function webDir(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, 'web');
    if (existsSync(join(candidate, 'softphone', 'index.html'))) return candidate;
    if (dirname(dir) === dir) throw new Error('web/softphone/index.html not found above the telephony module');
  }
}

let cache: Map<string, Buffer> | undefined;

/**
 * Answers GET/HEAD for the softphone's and the inspector's files; false for any other request, which the caller answers.
 * The page has no secrets in it: the key is typed by the user and kept in the page's session.
 */
export function serveSoftphone(request: IncomingMessage, response: ServerResponse): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const entry = FILES[new URL(request.url ?? '/', 'http://localhost').pathname];
  if (!entry) return false;
  cache ??= new Map();
  let body = cache.get(entry.file);
  if (!body) {
    body = readFileSync(join(webDir(), entry.file));
    cache.set(entry.file, body);
  }
  response.writeHead(200, {
    'content-type': entry.type,
    'content-length': body.length,
    // Nothing may load from elsewhere; the page talks only to this server.
    'content-security-policy': "default-src 'self'; connect-src 'self'; style-src 'self'; script-src 'self'",
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-cache',
  });
  response.end(request.method === 'HEAD' ? undefined : body);
  return true;
}
