import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAuthorized } from './auth.js';

const AGENTS_PATH = '/v1/agents';

/**
 * `GET /v1/agents`: the names a `start` may ask for, so the softphone can offer them. Behind the
 * same keys as calls; false for any other request, which the caller answers.
 */
export function serveAgentList(request: IncomingMessage, response: ServerResponse, agents: readonly string[], apiKeys: readonly string[]): boolean {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (request.method !== 'GET' || url.pathname !== AGENTS_PATH) return false;
  if (apiKeys.length > 0 && !isAuthorized(request.headers.authorization, url.searchParams.get('token'), apiKeys)) {
    response.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'unauthorized' }));
    return true;
  }
  response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ agents }));
  return true;
}
