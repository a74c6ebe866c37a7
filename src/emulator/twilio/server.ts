import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PhoneCall } from './phone-call.js';
import { parseTwiml, TwimlError } from './twiml.js';

export interface TwilioEmulatorOptions {
  host?: string;
  /** 0: any free one. */
  port?: number;
  accountSid?: string;
  authToken?: string;
  /** Where a public URL's requests go; default: where it says. */
  resolve?: (url: URL) => URL;
}

/** One request to the REST API, as received. */
export interface RestRecord {
  method: string;
  path: string;
  callSid?: string;
  params: Record<string, string>;
  status: number;
}

export interface RunningTwilioEmulator {
  /** The REST API's base URL (what `twilio.apiBaseUrl` points at). */
  url: string;
  accountSid: string;
  authToken: string;
  /** Places an inbound call from `from` to `to` whose number's voice webhook is `webhookUrl`. */
  placeCall(options: { webhookUrl: string; from: string; to: string }): PhoneCall;
  /** Changes where public URLs go (a node died: the balancer sends to another). */
  setResolve(resolve: (url: URL) => URL): void;
  restRequests(): RestRecord[];
  close(): Promise<void>;
}

const CALL_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Calls\/([^/]+)\.json$/;

/**
 * Twilio as the runtime meets it: inbound calls that ring a webhook and run its TwiML over Media
 * Streams (src/emulator/twilio/phone-call.ts), and the REST API's call update
 * (`POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json` with `Twiml`, `Url` or `Status`),
 * checked with Basic auth and recorded. Errors are Twilio's JSON: `{code, message, more_info, status}`.
 */
export async function startTwilioEmulator(options: TwilioEmulatorOptions = {}): Promise<RunningTwilioEmulator> {
  const accountSid = options.accountSid ?? `AC${'0'.repeat(31)}1`;
  const authToken = options.authToken ?? 'emulator-auth-token-0123456789ab';
  let resolve = options.resolve ?? ((url: URL) => url);
  const calls = new Map<string, PhoneCall>();
  const records: RestRecord[] = [];
  const env = { accountSid, authToken, resolve: (url: URL) => resolve(url) };

  const http = createServer((request, response) => {
    void handle(request, response).catch(() => {
      if (!response.headersSent) fail(response, 500, 20500, 'Internal server error');
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const body = await readBody(request);
    const params = Object.fromEntries(new URLSearchParams(body));
    const record: RestRecord = { method: request.method ?? '', path, params, status: 0 };
    records.push(record);
    const answer = (status: number, code: number, message: string) => {
      record.status = status;
      fail(response, status, code, message);
    };
    const expected = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
    if (request.headers.authorization !== expected) return answer(401, 20003, 'Authenticate');
    const match = CALL_PATH.exec(path);
    if (!match || request.method !== 'POST') return answer(404, 20404, `The requested resource ${path} was not found`);
    const [, sid, callSid] = match;
    record.callSid = callSid;
    const call = calls.get(callSid!);
    if (sid !== accountSid || !call) return answer(404, 20404, `The requested resource ${path} was not found`);
    // 21220: a call that is no longer in progress cannot be redirected.
    if (call.status === 'completed') return answer(400, 21220, 'Call is not in-progress. Cannot redirect.');
    if (params.Twiml !== undefined && params.Url !== undefined) return answer(400, 21205, 'Twiml and Url are mutually exclusive');
    if (params.Status !== undefined) {
      if (params.Status !== 'completed' && params.Status !== 'canceled') return answer(400, 21218, `Invalid Status: ${params.Status}`);
      call.complete();
    } else if (params.Twiml !== undefined) {
      try {
        call.replaceTwiml(parseTwiml(params.Twiml), `http://${request.headers.host}/`);
      } catch (error) {
        if (error instanceof TwimlError) return answer(400, 12100, `Document parse failure: ${error.message}`);
        throw error;
      }
    } else if (params.Url !== undefined) {
      call.replaceTwiml(parseTwiml(`<Response><Redirect method="${params.Method ?? 'POST'}">${escapeXml(params.Url)}</Redirect></Response>`), params.Url);
    } else {
      return answer(400, 20001, 'One of Twiml, Url or Status is required');
    }
    record.status = 200;
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(callJson(call, accountSid)));
  }

  await new Promise<void>((ready) => http.listen(options.port ?? 0, options.host ?? '127.0.0.1', ready));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    accountSid,
    authToken,
    placeCall: ({ webhookUrl, from, to }) => {
      const call = new PhoneCall(env, from, to);
      calls.set(call.callSid, call);
      call.start(webhookUrl);
      return call;
    },
    setResolve: (next) => {
      resolve = next;
    },
    restRequests: () => [...records],
    close: async () => {
      for (const call of calls.values()) call.hangup();
      http.closeAllConnections();
      await new Promise<void>((done) => http.close(() => done()));
    },
  };
}

function fail(response: ServerResponse, status: number, code: number, message: string): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }));
}

function callJson(call: PhoneCall, accountSid: string): Record<string, unknown> {
  return {
    sid: call.callSid,
    account_sid: accountSid,
    status: call.status,
    direction: 'inbound',
    from: call.from,
    to: call.to,
    api_version: '2010-04-01',
    uri: `/2010-04-01/Accounts/${accountSid}/Calls/${call.callSid}.json`,
  };
}

const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((done, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}
