import type { IncomingMessage, ServerResponse } from 'node:http';
import twilio from 'twilio';
import { throttledLog, type Logger } from '../../log.js';
import { publicUrlOf, validTwilioSignature } from './signature.js';
import type { StreamClaims, StreamTokens } from './stream-token.js';

export const VOICE_PATH = '/twilio/voice';
export const ACTION_PATH = '/twilio/action';
export const MEDIA_PATH = '/twilio/media';

export interface VoiceWebhookOptions {
  accountSid: string;
  authToken: string;
  publicUrl: string;
  numbers: Record<string, string>;
  defaultAgent: string;
  tokens: StreamTokens;
  /** True while the call has state to go on from (a live or suspended call, or a stored snapshot). */
  resumable(callSid: string): Promise<boolean>;
  /** Why a new call would be refused now (calls answered whose streams have not started included), or undefined. */
  busy(): string | undefined;
  log: Logger;
  onRefused(reason: string): void;
}

const MAX_BODY_BYTES = 65_536;
/** A body over MAX_BODY_BYTES is read and dropped up to this many bytes, so that the client reads its 413 instead of a reset; beyond, the connection is cut. */
const MAX_DRAINED_BYTES = 1_048_576;
const CALL_SID = /^CA[0-9a-fA-F]{32}$/;
/** CallSids announced by this node, kept this long to refuse a replayed webhook. */
const ANNOUNCED_TTL_MS = 3_600_000;

/**
 * Twilio's HTTP requests: the incoming-call webhook (`POST /twilio/voice`) and the `<Connect
 * action>` Twilio requests when a stream ends (`POST /twilio/action`). Each must carry a valid
 * X-Twilio-Signature over the public URL, else 403 and no TwiML.
 */
export function createVoiceWebhook(options: VoiceWebhookOptions): (request: IncomingMessage, response: ServerResponse) => boolean {
  const announced = new Map<string, number>();
  const { log } = options;

  // A forged or malformed webhook costs its sender nothing: a line per reason per window, each counted.
  const logRefusal = throttledLog(log);
  const refuse = (response: ServerResponse, status: number, reason: string, message: string, headers: Record<string, string> = {}) => {
    options.onRefused(reason);
    logRefusal('warn', reason, { event: 'twilio.webhook_refused', status, reason });
    response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers }).end(`${message}\n`);
  };

  const twiml = (response: ServerResponse, body: string) => {
    response.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' }).end(body);
  };

  const connectStream = (claims: StreamClaims): string => {
    const answer = new twilio.twiml.VoiceResponse();
    const connect = answer.connect({ action: publicUrlOf(options.publicUrl, ACTION_PATH), method: 'POST' });
    const stream = connect.stream({ url: publicUrlOf(options.publicUrl, MEDIA_PATH, 'wss') });
    for (const [name, value] of Object.entries(options.tokens.issue(claims))) stream.parameter({ name, value });
    return answer.toString();
  };

  const handle = async (request: IncomingMessage, response: ServerResponse, path: string) => {
    const body = await readBody(request);
    if (body.cut === 'aborted') {
      // The client went away mid-body: nobody to answer, and no failure of ours (an error line per attempt would let anyone flood the log).
      options.onRefused('webhook_aborted');
      log.debug({ event: 'twilio.webhook_aborted' });
      return;
    }
    // Too large: the rest of the body is still being read and dropped (readBody), and the connection closes after it.
    if (body.cut !== undefined) return refuse(response, 413, 'body_too_large', `request body over ${MAX_BODY_BYTES} bytes`, { connection: 'close' });
    const params = Object.fromEntries(new URLSearchParams(body.text));
    const signedUrl = publicUrlOf(options.publicUrl, request.url ?? path);
    if (!validTwilioSignature(options.authToken, request.headers['x-twilio-signature'], signedUrl, params)) {
      return refuse(response, 403, 'bad_signature', 'missing or invalid X-Twilio-Signature');
    }
    if (params.AccountSid !== options.accountSid) return refuse(response, 403, 'other_account', 'request is for another Twilio account');
    const callSid = params.CallSid ?? '';
    if (!CALL_SID.test(callSid)) return refuse(response, 400, 'bad_call_sid', 'CallSid is missing or not CA and 32 hex digits');
    // An own key only: `To` is whatever the request says, and `constructor` or `__proto__` is no agent.
    const agent = params.To !== undefined && Object.hasOwn(options.numbers, params.To) ? options.numbers[params.To]! : options.defaultAgent;
    const claims = { callSid, agent, from: params.From, to: params.To };
    if (path === VOICE_PATH) {
      prune(announced);
      if (announced.has(callSid)) return refuse(response, 409, 'replayed_webhook', `call ${callSid} was already answered`);
      // Claimed before the store is asked: a copy of this request arriving meanwhile is the replay, not a second answer.
      announced.set(callSid, Date.now() + ANNOUNCED_TTL_MS);
      let stored: boolean;
      try {
        stored = await options.resumable(callSid);
      } catch (error) {
        announced.delete(callSid);
        throw error;
      }
      if (stored) return refuse(response, 409, 'replayed_webhook', `call ${callSid} was already answered`);
      const busy = options.busy();
      if (busy) {
        // Not answered: Twilio may ring again with the same CallSid once the node has room.
        announced.delete(callSid);
        // A stream opened now would be refused, and the caller would hear the line drop after it
        // connected; `<Reject reason="busy">` gives them a busy tone instead, and Twilio bills nothing.
        options.onRefused('busy');
        log.warn({ event: 'twilio.call_rejected', callId: callSid, reason: busy });
        const reject = new twilio.twiml.VoiceResponse();
        reject.reject({ reason: 'busy' });
        return twiml(response, reject.toString());
      }
      log.info({ event: 'twilio.call_answered', callId: callSid, agent });
      return twiml(response, connectStream({ ...claims, resume: false }));
    }
    // The stream ended without the call ending: its node died or was deployed, or the socket broke.
    if (await options.resumable(callSid)) {
      log.info({ event: 'twilio.call_reconnected', callId: callSid });
      return twiml(response, connectStream({ ...claims, resume: true }));
    }
    log.info({ event: 'twilio.call_over', callId: callSid });
    const hangup = new twilio.twiml.VoiceResponse();
    hangup.hangup();
    return twiml(response, hangup.toString());
  };

  return (request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path !== VOICE_PATH && path !== ACTION_PATH) return false;
    if (request.method !== 'POST') {
      response.writeHead(405, { allow: 'POST', 'content-type': 'text/plain' }).end('POST only\n');
      return true;
    }
    handle(request, response, path).catch((error: Error) => {
      log.error({ event: 'twilio.webhook_failed', error: error.message });
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' }).end('internal error\n');
    });
    return true;
  };
}

/** A request's body, or why there is none: over MAX_BODY_BYTES, or the client went away before it ended. */
function readBody(request: IncomingMessage): Promise<{ cut?: undefined; text: string } | { cut: 'too_large' | 'aborted' }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk);
      chunks.length = 0;
      resolve({ cut: 'too_large' });
      if (size > MAX_DRAINED_BYTES) request.destroy();
    });
    request.on('end', () => resolve({ text: Buffer.concat(chunks).toString('utf8') }));
    // Settled already when the body ended; otherwise the connection closed under it (Node also emits `error`: `aborted`).
    request.on('close', () => resolve({ cut: 'aborted' }));
    request.on('error', (error) => (request.complete ? reject(error) : resolve({ cut: 'aborted' })));
  });
}

function prune(announced: Map<string, number>): void {
  const now = Date.now();
  for (const [callSid, expiresAt] of announced) {
    if (expiresAt > now) break;
    announced.delete(callSid);
  }
}
