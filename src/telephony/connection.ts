import { WebSocket, type RawData } from 'ws';
import { epochMs } from '../clock.js';
import type { Logger } from '../log.js';
import { FrameError, parseInboundFrame, type ErrorCode, type InboundFrame, type OutboundFrame } from '../protocol/frames.js';
import type { CallPeer, CallsPort, OpenResult, StartRequest } from '../protocol/calls-port.js';
import { TokenBucket } from './rate-limit.js';
import type { SocketGuardLimits } from './socket-guard.js';

export interface ConnectionLimits extends SocketGuardLimits {
  maxFrameBytes: number;
  hardMaxFrameBytes: number;
  maxTranscriptChars: number;
  framesPerSecond: number;
  sendBufferBytes: number;
}

type State =
  | { kind: 'new' }
  | { kind: 'starting'; queued: InboundFrame[] }
  | { kind: 'started'; callId: string }
  | { kind: 'closed' };

/** Frames a client may pipeline behind `start` before `ready` arrives. */
const MAX_QUEUED_WHILE_STARTING = 32;
const WS_POLICY_VIOLATION = 1008;

/** One caller-side socket: limits, validation, the protocol's order rules, and back-pressure. */
export class CallerConnection implements CallPeer {
  private state: State = { kind: 'new' };
  private readonly bucket: TokenBucket;

  constructor(
    private readonly ws: WebSocket,
    private readonly limits: ConnectionLimits,
    private readonly calls: CallsPort,
    /** Who authenticated this socket (telephony/auth.ts keyPrincipal). */
    private readonly principal: string,
    private readonly log: Logger,
    private readonly onFrame?: (direction: 'in' | 'out') => void,
    private readonly onProtocolError?: (code: string) => void,
  ) {
    this.bucket = new TokenBucket(limits.framesPerSecond, limits.framesPerSecond * 2, Date.now());
  }

  /** True until the client has sent `start`. */
  awaitingStart(): boolean {
    return this.state.kind === 'new';
  }

  get callId(): string | undefined {
    return this.state.kind === 'started' ? this.state.callId : undefined;
  }

  receive(data: RawData, isBinary: boolean): void {
    this.onFrame?.('in');
    if (isBinary) return this.fail('bad_frame', 'binary frames are not accepted; send UTF-8 JSON text');
    const bytes = rawLength(data);
    if (bytes > this.limits.maxFrameBytes) {
      return this.fail('too_large', `frame is ${bytes} bytes; the limit is ${this.limits.maxFrameBytes}`);
    }
    if (!this.bucket.take(Date.now())) {
      return this.fail('rate_limited', `more than ${this.limits.framesPerSecond} frames per second; frame dropped`);
    }
    const text = decodeUtf8(data);
    if (text === undefined) return this.fail('bad_frame', 'frame is not valid UTF-8');
    let frame: InboundFrame;
    try {
      frame = parseInboundFrame(text, this.limits.maxTranscriptChars);
    } catch (error) {
      if (error instanceof FrameError) return this.fail(error.code, error.message);
      // A frame must never take the process down with it (test/reliability/protocol-fuzzing.test.ts).
      this.log.error({ event: 'telephony.frame_check_failed', callId: this.callId, error: (error as Error).message });
      return this.fail('internal', 'the frame could not be checked');
    }
    this.handle(frame);
  }

  send(frame: OutboundFrame): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (this.ws.bufferedAmount > this.limits.sendBufferBytes) {
      // The client stopped reading: ending its call bounds our memory and harms no one else.
      this.log.warn({ event: 'telephony.slow_consumer', callId: this.callId, bufferedBytes: this.ws.bufferedAmount });
      const callId = this.callId;
      this.state = { kind: 'closed' };
      this.ws.terminate();
      if (callId) this.calls.detach(callId, this, 'slow_consumer');
      return;
    }
    this.onFrame?.('out');
    this.ws.send(JSON.stringify(frame));
  }

  end(code: number, reason: string): void {
    this.state = { kind: 'closed' };
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
  }

  closed(): void {
    const callId = this.callId;
    this.state = { kind: 'closed' };
    if (callId) this.calls.detach(callId, this, 'closed');
  }

  private handle(frame: InboundFrame): void {
    switch (this.state.kind) {
      case 'closed':
        return;
      case 'new':
        if (frame.type !== 'start') return this.fail('not_started', `"${frame.type}" before "start"; send "start" first`);
        return void this.start(frame);
      case 'starting':
        if (frame.type === 'start') return this.fail('already_started', 'this connection already sent "start"');
        if (this.state.queued.length >= MAX_QUEUED_WHILE_STARTING) {
          return this.fail('rate_limited', 'too many frames before "ready"; frame dropped');
        }
        this.state.queued.push(frame);
        return;
      case 'started':
        if (frame.type === 'start') return this.fail('already_started', 'this connection already has a call');
        return this.deliver(this.state.callId, frame);
    }
  }

  private async start(frame: StartRequest): Promise<void> {
    this.state = { kind: 'starting', queued: [] };
    let result: OpenResult;
    try {
      result = await this.calls.open(frame, this, this.principal);
    } catch (error) {
      this.log.error({ event: 'telephony.open_failed', callId: frame.callId, error: (error as Error).message });
      result = { ok: false, code: 'internal', message: 'the call could not be started', fatal: true };
    }
    if (this.state.kind !== 'starting') {
      // The socket closed while the call was opening: the call must not wait for a peer that left.
      if (result.ok) this.calls.detach(result.callId, this, 'closed');
      return;
    }
    const queued = this.state.queued;
    if (!result.ok) {
      this.state = { kind: 'new' };
      this.sendError(result.code, result.message, result.fatal);
      if (!result.fatal) return;
      // A refused call is hung up like any other, so a gateway that only watches for hangup drops the line.
      this.send({ type: 'hangup', reason: result.code });
      this.end(WS_POLICY_VIOLATION, result.code);
      return;
    }
    this.state = { kind: 'started', callId: result.callId };
    for (const next of queued) this.handle(next);
  }

  private deliver(callId: string, frame: Exclude<InboundFrame, StartRequest>): void {
    const readAt = epochMs();
    switch (frame.type) {
      case 'transcript':
        return this.calls.deliver(callId, { type: 'caller.transcript', text: frame.text, final: frame.final, readAt });
      case 'speech_started':
        return this.calls.deliver(callId, { type: 'caller.speechStarted' });
      case 'played':
        return this.calls.deliver(callId, { type: 'caller.played', id: frame.id });
      case 'dtmf':
        return this.calls.deliver(callId, { type: 'caller.dtmf', digit: frame.digit, readAt });
      case 'hangup':
        return this.calls.deliver(callId, { type: 'caller.hangup', reason: frame.reason });
    }
  }

  private fail(code: ErrorCode, message: string): void {
    this.sendError(code, message, false);
  }

  /** Every error frame is counted by its code, refused starts (`overloaded`, `call_busy`) included. */
  private sendError(code: ErrorCode, message: string, fatal: boolean): void {
    this.onProtocolError?.(code);
    this.send({ type: 'error', code, message, fatal });
  }
}

function rawLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, part) => sum + part.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(data: RawData): string | undefined {
  const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}
