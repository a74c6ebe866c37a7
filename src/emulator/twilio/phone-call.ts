import { randomBytes } from 'node:crypto';
import { MediaLine } from './media-line.js';
import { twilioSignature } from './signing.js';
import { parseTwiml, TwimlError, type TwimlNode } from './twiml.js';

export interface CallEnvironment {
  accountSid: string;
  authToken: string;
  /** Where a public URL's requests actually go (a load balancer: in tests, whichever node is up). */
  resolve(url: URL): URL;
}

export type CallOutcome =
  | { kind: 'hangup'; by: 'twiml' | 'caller' | 'rest' }
  /** `<Reject>`: the caller heard a busy tone (`busy`) or a number-not-in-service message (`rejected`, the default). */
  | { kind: 'rejected'; reason: string }
  | { kind: 'dialed'; target: string }
  | { kind: 'finished' }
  | { kind: 'failed'; reason: string };

/** Each HTTP request the call made to the application, in order. */
export interface AppRequest {
  url: string;
  status: number;
  body: string;
}

/**
 * One inbound call as Twilio handles it: the signed voice webhook, then the TwiML it gets back,
 * verb by verb (`<Connect><Stream>` with `action`, `<Say>`, `<Dial>`, `<Hangup>`, `<Redirect>`);
 * a stream that drops without the call ending makes it request `action`; a REST update replaces
 * the TwiML being executed.
 */
export class PhoneCall {
  readonly callSid = `CA${randomBytes(16).toString('hex')}`;
  readonly requests: AppRequest[] = [];
  readonly said: string[] = [];
  /** Every media stream the call opened, in order. */
  readonly lines: MediaLine[] = [];
  status: 'ringing' | 'in-progress' | 'completed' = 'ringing';
  outcome: CallOutcome | undefined;
  readonly ended: Promise<CallOutcome>;
  private settle!: (outcome: CallOutcome) => void;
  /** Bumped by every REST update: an executor of older TwiML stops at its next step. */
  private generation = 0;
  private lineWaiters: Array<() => void> = [];

  constructor(
    private readonly env: CallEnvironment,
    readonly from: string,
    readonly to: string,
  ) {
    this.ended = new Promise((resolve) => (this.settle = resolve));
  }

  /** The stream open now, if any. */
  get line(): MediaLine | undefined {
    return this.current;
  }

  private current: MediaLine | undefined;

  /** Rings the application at `webhookUrl`. */
  start(webhookUrl: string): void {
    this.status = 'in-progress';
    void this.follow(webhookUrl, this.generation);
  }

  /** Resolves with the next stream to open after `count` streams were opened. */
  async nextLine(count = this.lines.length + 1, timeoutMs = 20_000): Promise<MediaLine> {
    if (this.lines.length >= count) return this.lines[count - 1]!;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no media stream #${count} within ${timeoutMs} ms`)), timeoutMs);
      this.lineWaiters.push(() => {
        if (this.lines.length < count) return;
        clearTimeout(timer);
        resolve();
      });
    });
    return this.lines[count - 1]!;
  }

  /** The caller hangs up. */
  hangup(): void {
    if (this.outcome) return;
    this.current?.stop();
    this.finish({ kind: 'hangup', by: 'caller' });
  }

  /** REST: the call's TwiML is replaced; the stream (if any) is stopped first. */
  replaceTwiml(document: TwimlNode, baseUrl: string): void {
    this.generation += 1;
    this.current?.stop();
    void this.execute(document, baseUrl, this.generation);
  }

  /** REST: Status=completed. */
  complete(): void {
    this.generation += 1;
    this.current?.stop();
    this.finish({ kind: 'hangup', by: 'rest' });
  }

  private async follow(url: string, generation: number, method = 'POST'): Promise<void> {
    const document = await this.fetchTwiml(url, method);
    if (generation !== this.generation || this.outcome) return;
    if (typeof document === 'string') return this.finish({ kind: 'failed', reason: document });
    await this.execute(document, url, generation);
  }

  private async execute(document: TwimlNode, baseUrl: string, generation: number): Promise<void> {
    for (const verb of document.children) {
      if (generation !== this.generation || this.outcome) return;
      switch (verb.name) {
        case 'Say':
          this.said.push(verb.text.trim());
          continue;
        case 'Pause':
          continue;
        case 'Hangup':
          return this.finish({ kind: 'hangup', by: 'twiml' });
        case 'Reject':
          return this.finish({ kind: 'rejected', reason: verb.attributes.reason ?? 'rejected' });
        case 'Dial': {
          const target = verb.children.find((child) => child.name === 'Number' || child.name === 'Sip')?.text.trim() ?? verb.text.trim();
          return this.finish({ kind: 'dialed', target });
        }
        case 'Redirect':
          return this.follow(new URL(verb.text.trim(), baseUrl).toString(), generation, verb.attributes.method ?? 'POST');
        case 'Connect': {
          const action = await this.connect(verb, baseUrl, generation);
          if (generation !== this.generation || this.outcome) return;
          if (action) return this.follow(new URL(action.url, baseUrl).toString(), generation, action.method);
          continue;
        }
        default:
          // Twilio's error 12100: the document has a verb it does not know; the call ends.
          return this.finish({ kind: 'failed', reason: `unknown TwiML verb <${verb.name}>` });
      }
    }
    if (generation === this.generation) this.finish({ kind: 'finished' });
  }

  /** Runs `<Connect><Stream>` until the stream ends; answers the `action` to request, if any. */
  private async connect(verb: TwimlNode, baseUrl: string, generation: number): Promise<{ url: string; method: string } | undefined> {
    const stream = verb.children.find((child) => child.name === 'Stream');
    if (!stream?.attributes.url) {
      this.finish({ kind: 'failed', reason: '<Connect> without <Stream url>' });
      return undefined;
    }
    const streamUrl = new URL(stream.attributes.url, baseUrl.replace(/^http/, 'ws'));
    if (!['ws:', 'wss:'].includes(streamUrl.protocol) || streamUrl.search) {
      // 31922 / 31920: a Stream url must be wss:// (ws:// on loopback here) without a query string.
      this.finish({ kind: 'failed', reason: `stream url must be wss:// without a query: ${streamUrl}` });
      return undefined;
    }
    const parameters = Object.fromEntries(stream.children.filter((child) => child.name === 'Parameter').map((child) => [child.attributes.name ?? '', child.attributes.value ?? '']));
    const action = verb.attributes.action ? { url: verb.attributes.action, method: verb.attributes.method ?? 'POST' } : undefined;
    let line: MediaLine;
    try {
      line = await MediaLine.open({
        url: streamUrl.toString(),
        connectTo: this.env.resolve(streamUrl).toString(),
        accountSid: this.env.accountSid,
        authToken: this.env.authToken,
        callSid: this.callSid,
        parameters,
      });
    } catch {
      // 31920: the upgrade failed; Twilio goes on with `action` (or the next verb).
      return action;
    }
    this.current = line;
    this.lines.push(line);
    for (const waiter of [...this.lineWaiters]) waiter();
    await line.closed;
    if (this.current === line) this.current = undefined;
    // Stopped by a REST update or a hangup: the new TwiML (or nothing) goes on, not `action`.
    if (generation !== this.generation || this.outcome) return undefined;
    return action;
  }

  private async fetchTwiml(url: string, method: string): Promise<TwimlNode | string> {
    const params: Record<string, string> = {
      AccountSid: this.env.accountSid,
      ApiVersion: '2010-04-01',
      CallSid: this.callSid,
      CallStatus: this.status,
      Called: this.to,
      Caller: this.from,
      Direction: 'inbound',
      From: this.from,
      To: this.to,
    };
    const target = new URL(url);
    let requestUrl = url;
    let body: string | undefined = new URLSearchParams(params).toString();
    if (method === 'GET') {
      for (const [name, value] of Object.entries(params)) target.searchParams.append(name, value);
      requestUrl = target.toString();
      body = undefined;
    }
    const signature = twilioSignature(this.env.authToken, requestUrl, method === 'GET' ? {} : params);
    try {
      const response = await fetch(this.env.resolve(new URL(requestUrl)), {
        method,
        headers: { 'x-twilio-signature': signature, ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
        body,
      });
      const text = await response.text();
      this.requests.push({ url: requestUrl, status: response.status, body: text });
      if (response.status !== 200) return `the application answered ${response.status}`;
      return parseTwiml(text);
    } catch (error) {
      if (error instanceof TwimlError) return error.message;
      this.requests.push({ url: requestUrl, status: 0, body: (error as Error).message });
      return `the application could not be reached: ${(error as Error).message}`;
    }
  }

  private finish(outcome: CallOutcome): void {
    if (this.outcome) return;
    this.outcome = outcome;
    this.status = 'completed';
    this.generation += 1;
    this.current?.stop();
    this.settle(outcome);
  }
}
