import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MachineDiagram } from '../call/machine-edges.js';
import { listing, type CallRecord } from '../records/call-record.js';
import { maskNumbers, type CallRecords } from '../records/call-records.js';
import { callIdSchema } from '../protocol/frames.js';
import { isAuthorized } from './auth.js';

export interface CallRecordsHttpOptions {
  records: CallRecords;
  /** The call machine's states and transitions, which the inspector draws. */
  diagram: MachineDiagram;
  apiKeys: readonly string[];
  /** Keys that see phone numbers in full (`server.unmaskedNumberKeys`); everyone else sees them masked. */
  unmaskedNumberKeys: readonly string[];
}

const LIST_PATH = '/v1/calls';
const MACHINE_PATH = '/v1/call-machine';
const CALL_PATH = /^\/v1\/calls\/([^/]+)(\/events)?$/;
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;
/** A comment line every so often keeps proxies from closing an idle event stream. */
const KEEPALIVE_MS = 15_000;

/**
 * The call records over HTTP (docs/call-records.md): `GET /v1/calls`, `GET /v1/calls/{id}`, its
 * server-sent events at `/v1/calls/{id}/events`, and the machine diagram at `/v1/call-machine`.
 * Behind the same keys as calls (bearer header or `?token=`, which an EventSource must use);
 * false for any other request, which the caller answers.
 */
export function serveCallRecords(request: IncomingMessage, response: ServerResponse, options: CallRecordsHttpOptions): boolean {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const call = url.pathname.match(CALL_PATH);
  if (request.method !== 'GET' || (url.pathname !== LIST_PATH && url.pathname !== MACHINE_PATH && !call)) return false;
  const token = url.searchParams.get('token');
  if (options.apiKeys.length > 0 && !isAuthorized(request.headers.authorization, token, options.apiKeys)) {
    json(response, 401, { error: 'unauthorized: send an API key as "Authorization: Bearer <key>" or ?token=' }, { 'www-authenticate': 'Bearer' });
    return true;
  }
  const unmasked = options.apiKeys.length > 0 && options.unmaskedNumberKeys.length > 0
    && isAuthorized(request.headers.authorization, token, options.unmaskedNumberKeys);
  const view = <T>(value: T, record: CallRecord): T => (unmasked ? value : maskNumbers(value, record));

  if (url.pathname === MACHINE_PATH) {
    json(response, 200, options.diagram);
    return true;
  }
  if (!call) {
    listCalls(url, response, options.records, view);
    return true;
  }
  const callId = callIdOf(call[1]!);
  if (callId === undefined) json(response, 400, { error: 'call id: 1 to 128 letters, digits or . _ : - (as in the ready frame)' });
  else if (call[2]) streamCall(callId, request, response, options, view);
  else void showCall(callId, response, options.records, view);
  return true;
}

/** The path segment as a call id, or undefined when it is not one (malformed %-escapes included). */
function callIdOf(segment: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    return undefined;
  }
  return callIdSchema.safeParse(decoded).success ? decoded : undefined;
}

type View = <T>(value: T, record: CallRecord) => T;

function listCalls(url: URL, response: ServerResponse, records: CallRecords, view: View): void {
  const limitParam = url.searchParams.get('limit');
  const limit = limitParam === null ? DEFAULT_LIMIT : Number(limitParam);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    json(response, 400, { error: `limit: expected an integer from 1 to ${MAX_LIMIT}, got ${JSON.stringify(limitParam)}` });
    return;
  }
  const cursorParam = url.searchParams.get('cursor');
  const after = cursorParam === null ? undefined : parseCursor(cursorParam);
  if (after === null) {
    json(response, 400, { error: 'cursor: not a cursor this server gave out (use nextCursor of the previous page)' });
    return;
  }
  const ordered = records.active().map((record) => ({ record, key: orderKey(record) })).sort((a, b) => compareKeys(a.key, b.key));
  const remaining = after ? ordered.filter(({ key }) => compareKeys(key, after) > 0) : ordered;
  const page = remaining.slice(0, limit);
  const last = page.at(-1);
  json(response, 200, {
    calls: page.map(({ record }) => view(listing(record), record)),
    nextCursor: remaining.length > limit && last ? Buffer.from(JSON.stringify(last.key)).toString('base64url') : null,
  });
}

async function showCall(callId: string, response: ServerResponse, records: CallRecords, view: View): Promise<void> {
  try {
    const record = await records.find(callId);
    if (!record) json(response, 404, { error: `no call "${callId}" is active or stored` });
    else json(response, 200, view(record, record));
  } catch (error) {
    json(response, 503, { error: `the call record could not be read: ${(error as Error).message}` });
  }
}

/**
 * The record now, then again after every observation until the call ends; an ended call's record
 * is sent once. Each `record` event carries the whole record and the observation that changed it.
 */
function streamCall(callId: string, request: IncomingMessage, response: ServerResponse, options: CallRecordsHttpOptions, view: View): void {
  const { records } = options;
  const record = records.live(callId);
  if (!record) {
    json(response, 404, { error: `no call "${callId}" is active on this node` });
    return;
  }
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
  const send = (current: CallRecord, observation?: string) =>
    response.write(`event: record\ndata: ${JSON.stringify({ observation: observation ?? null, record: view(current, current) })}\n\n`);
  send(record);
  if (record.status === 'ended') {
    response.end();
    return;
  }
  const keepalive = setInterval(() => response.write(': keepalive\n\n'), KEEPALIVE_MS);
  keepalive.unref();
  const unsubscribe = records.subscribe(callId, (observation, current) => {
    send(current, observation.type);
    if (observation.type === 'call.ended') stop();
  });
  function stop() {
    clearInterval(keepalive);
    unsubscribe();
    response.end();
  }
  request.on('close', stop);
}

type OrderKey = [startedAt: string, callId: string];
const orderKey = (record: CallRecord): OrderKey => [record.startedAt, record.callId];
const compareKeys = (a: OrderKey, b: OrderKey): number => (a[0] === b[0] ? (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) : a[0] < b[0] ? -1 : 1);

function parseCursor(cursor: string): OrderKey | null {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return Array.isArray(key) && key.length === 2 && key.every((part) => typeof part === 'string') ? (key as OrderKey) : null;
  } catch {
    return null;
  }
}

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }).end(JSON.stringify(body));
}
