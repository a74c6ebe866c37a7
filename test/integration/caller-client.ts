import WebSocket from 'ws';
import type { OutboundFrame } from '../../src/protocol/frames.js';

export type SayFrame = Extract<OutboundFrame, { type: 'say' }>;

/** A telephony gateway stand-in for tests: sends frames, keeps what it receives, waits for frames by predicate. */
export class CallerClient {
  readonly frames: OutboundFrame[] = [];
  private waiters: Array<{ match: (frame: OutboundFrame) => boolean; resolve: (frame: OutboundFrame) => void }> = [];
  closedWith: { code: number; reason: string } | undefined;
  private closedListeners: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as OutboundFrame;
      this.frames.push(frame);
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.match(frame)) return true;
        waiter.resolve(frame);
        return false;
      });
    });
    ws.on('close', (code, reason) => {
      this.closedWith = { code, reason: String(reason) };
      for (const listener of this.closedListeners) listener();
    });
  }

  /** `localAddress`: the address to connect from (another 127.x.y.z is another caller to the node's per-address cap). */
  static connect(url: string, options: { token?: string; headers?: Record<string, string>; localAddress?: string } = {}): Promise<CallerClient> {
    const ws = new WebSocket(url, ['aybiza.v1'], {
      headers: { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...options.headers },
      localAddress: options.localAddress,
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new CallerClient(ws)));
      ws.once('unexpected-response', (_request, response) => reject(new Error(`upgrade refused: ${response.statusCode}`)));
      ws.once('error', reject);
    });
  }

  send(frame: Record<string, unknown> | string): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  next<T extends OutboundFrame>(match: (frame: OutboundFrame) => frame is T, timeoutMs?: number): Promise<T>;
  next(match: (frame: OutboundFrame) => boolean, timeoutMs?: number): Promise<OutboundFrame>;
  next(match: (frame: OutboundFrame) => boolean, timeoutMs = 15_000): Promise<OutboundFrame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-5))}`)), timeoutMs);
      this.waiters.push({ match, resolve: (frame) => { clearTimeout(timer); resolve(frame); } });
    });
  }

  async start(fields: Record<string, unknown> = {}): Promise<Extract<OutboundFrame, { type: 'ready' }>> {
    this.send({ type: 'start', ...fields });
    const frame = await this.next((f) => f.type === 'ready' || f.type === 'error');
    if (frame.type !== 'ready') throw new Error(`start refused: ${JSON.stringify(frame)}`);
    return frame;
  }

  /** Says a final utterance and waits for the turn's last chunk, acknowledging each chunk as played. */
  async turn(text: string): Promise<SayFrame[]> {
    const from = this.frames.length;
    this.send({ type: 'speech_started' });
    this.send({ type: 'transcript', text, final: true });
    const last = await this.next((f) => (f.type === 'say' && f.last) || f.type === 'transfer' || f.type === 'hangup');
    const says = this.frames.slice(from).filter((f): f is SayFrame => f.type === 'say');
    for (const say of says) this.send({ type: 'played', id: say.id });
    if (last.type !== 'say') return says;
    return says;
  }

  closed(): Promise<void> {
    if (this.closedWith) return Promise.resolve();
    return new Promise((resolve) => this.closedListeners.push(resolve));
  }

  close(): void {
    this.ws.close();
  }
}
