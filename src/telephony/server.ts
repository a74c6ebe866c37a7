import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { throttledLog, type Logger } from '../log.js';
import { serveAgentList } from './agent-list.js';
import { isAuthorized, keyPrincipal } from './auth.js';
import { isAllowedOrigin } from './origin.js';
import type { CallsPort } from '../protocol/calls-port.js';
import { CallerConnection, type ConnectionLimits } from './connection.js';
import { PROTOCOL } from '../protocol/frames.js';
import { SocketGuard } from './socket-guard.js';
import { serveSoftphone } from './static-files.js';
import { serveSpeech, type SpeechHttpOptions } from './speech-http.js';
import { serveCallRecords, type CallRecordsHttpOptions } from './call-records-http.js';
import type { TwilioEndpoint } from './twilio/twilio-endpoint.js';

export interface TelephonyOptions {
  host: string;
  port: number;
  backlog: number;
  apiKeys: readonly string[];
  /** Browser origins besides the server's own that may open calls (`server.allowedOrigins`). */
  allowedOrigins?: readonly string[];
  /** Agent names listed at `GET /v1/agents` for the softphone. */
  agents?: readonly string[];
  limits: ConnectionLimits;
  calls: CallsPort;
  /** Call records and the inspector's data over HTTP, behind `apiKeys` (docs/call-records.md). */
  records?: Omit<CallRecordsHttpOptions, 'apiKeys'>;
  log: Logger;
  onFrame?: (direction: 'in' | 'out') => void;
  onProtocolError?: (code: string) => void;
  /** `POST /v1/speech` for the softphone's server voice (`speech.browserAudio.enabled`), behind `apiKeys` and the Origin check. */
  speech?: Pick<SpeechHttpOptions, 'voiceOf' | 'maxChars'>;
  /** Twilio Media Streams beside `aybiza.v1` (`twilio.enabled`). */
  twilio?: TwilioEndpoint;
}

export interface TelephonyServer {
  readonly port: number;
  readonly url: string;
  /** Refuses new upgrades; calls already connected go on. */
  stopAccepting(): void;
  /** Settles when the listener fails after it started (an `error` event); never after `close`. */
  failed: Promise<Error>;
  /** Closes every socket and the listener. */
  close(): Promise<void>;
  connections(): number;
  /** Sockets closed by a handshake, start, keepalive or message-assembly bound. */
  reaped(): number;
}

const CALLS_PATH = '/v1/calls';

/** What the server needs of the thing that speaks a transport on one socket. */
interface SocketPeer {
  readonly callId: string | undefined;
  awaitingStart(): boolean;
  receive(data: RawData, isBinary: boolean): void;
  closed(): void;
}

/**
 * The `aybiza.v1` endpoint. Paths and keys are checked on the HTTP upgrade, so a refused client
 * never gets a WebSocket; everything after that is the connection's business.
 */
export async function startTelephonyServer(options: TelephonyOptions): Promise<TelephonyServer> {
  const { log } = options;
  // Anyone who can reach the port can be refused at will: a line per status per window, not one each.
  const logUpgradeRefusal = throttledLog(log);
  // Without keys anyone who can reach the port could place calls that cost money: stay on loopback.
  const host = options.apiKeys.length === 0 ? '127.0.0.1' : options.host;
  if (options.apiKeys.length === 0 && options.host !== '127.0.0.1') {
    log.warn({ event: 'telephony.loopback_only', requestedHost: options.host }, 'no API keys configured: listening on 127.0.0.1 only');
  }
  let accepting = true;
  const sockets = new Set<WebSocket>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.limits.hardMaxFrameBytes,
    perMessageDeflate: false,
    // Checked per frame instead, so invalid UTF-8 costs the caller an error frame, not the call.
    skipUTF8Validation: true,
    handleProtocols: (protocols) => (protocols.has(PROTOCOL) ? PROTOCOL : false),
  });

  const guard = new SocketGuard(options.limits, log);
  const speech: SpeechHttpOptions | undefined = options.speech && {
    ...options.speech,
    apiKeys: options.apiKeys,
    allowedOrigins: options.allowedOrigins ?? [],
    onError: (error) => log.warn({ event: 'telephony.speech_failed', error: error.message }, 'text-to-speech for the browser failed'),
  };
  const route = (request: IncomingMessage, response: ServerResponse): void => {
    if (options.twilio?.request(request, response)) return;
    if (serveSoftphone(request, response) || serveAgentList(request, response, options.agents ?? [], options.apiKeys)) return;
    if (serveSpeech(request, response, speech)) return;
    if (options.records && serveCallRecords(request, response, { ...options.records, apiKeys: options.apiKeys })) return;
    response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
  };
  const http: Server = createServer((request, response) => {
    guard.requested(request.socket as Socket, response);
    // `GET //` or an absolute-form target with a bad host is not a URL: it once took the process down.
    if (!hasValidTarget(request)) {
      response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'bad request target: not a URL path' }));
      return;
    }
    try {
      route(request, response);
    } catch (error) {
      // One request's bug answers that request with a 500; the calls on this node go on.
      log.error({ event: 'telephony.request_failed', path: request.url?.slice(0, 200), error: (error as Error).message });
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'internal error' }));
      else response.destroy();
    }
  });

  // Caps and the handshake deadline apply from accept, before a byte is read.
  http.prependListener('connection', (socket: Socket) => guard.accept(socket));

  /** One upgraded socket, whichever transport speaks on it: bounds, messages, close. */
  const serve = (ws: WebSocket, socket: Duplex, peer: SocketPeer) => {
    sockets.add(ws);
    guard.upgraded(socket as Socket, ws, () => peer.awaitingStart());
    ws.on('message', (data: RawData, isBinary: boolean) => peer.receive(data, isBinary));
    ws.on('close', () => {
      sockets.delete(ws);
      peer.closed();
    });
    ws.on('error', (error) => log.warn({ event: 'telephony.socket_error', callId: peer.callId, error: error.message }));
  };
  const twilio = options.twilio;
  // Twilio authenticates with its signature and stream token, not with our API keys or an Origin.
  const twilioWss = twilio ? new WebSocketServer({ noServer: true, maxPayload: options.limits.maxFrameBytes, perMessageDeflate: false }) : undefined;
  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!hasValidTarget(request)) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (twilio && twilioWss && new URL(request.url ?? '/', 'http://localhost').pathname === twilio.upgradePath) {
      const refusal = accepting ? twilio.refuseUpgrade(request) : '503 Service Unavailable';
      if (refusal) {
        socket.end(`HTTP/1.1 ${refusal}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
        return;
      }
      twilioWss.handleUpgrade(request, socket, head, (ws) => serve(ws, socket, twilio.connected(ws, socket)));
      return;
    }
    const refusal = refuseUpgrade(request, accepting, options.apiKeys, options.allowedOrigins ?? []);
    if (refusal) {
      socket.end(`HTTP/1.1 ${refusal}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      logUpgradeRefusal('info', refusal, { event: 'telephony.upgrade_refused', status: refusal });
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const token = new URL(request.url ?? '/', 'http://localhost').searchParams.get('token');
      const principal = keyPrincipal(request.headers.authorization, token, options.apiKeys);
      serve(ws, socket, new CallerConnection(ws, options.limits, options.calls, principal, log, options.onFrame, options.onProtocolError));
    });
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen({ host, port: options.port, backlog: options.backlog }, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  let closing = false;
  const failed = new Promise<Error>((resolve) => http.on('error', (error) => !closing && resolve(error)));
  log.info({ event: 'telephony.listening', url: `ws://${host}:${port}${CALLS_PATH}`, authenticated: options.apiKeys.length > 0 });

  return {
    port,
    url: `ws://${host}:${port}${CALLS_PATH}`,
    stopAccepting: () => {
      accepting = false;
    },
    connections: () => sockets.size,
    failed,
    reaped: () => guard.reaped(),
    close: async () => {
      closing = true;
      accepting = false;
      guard.close();
      for (const ws of sockets) ws.terminate();
      wss.close();
      twilioWss?.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** Whether the request target parses as a URL the handlers can route (they all parse it the same way). */
function hasValidTarget(request: IncomingMessage): boolean {
  try {
    new URL(request.url ?? '/', 'http://localhost');
    return true;
  } catch {
    return false;
  }
}

/** The HTTP status line for a refused upgrade, or undefined to accept it. */
function refuseUpgrade(request: IncomingMessage, accepting: boolean, apiKeys: readonly string[], allowedOrigins: readonly string[]): string | undefined {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (url.pathname !== CALLS_PATH) return '404 Not Found';
  if (!isAllowedOrigin(request, allowedOrigins)) return '403 Forbidden';
  if (!accepting) return '503 Service Unavailable';
  if (apiKeys.length > 0 && !isAuthorized(request.headers.authorization, url.searchParams.get('token'), apiKeys)) {
    return '401 Unauthorized';
  }
  return undefined;
}
