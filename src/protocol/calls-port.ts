import type { CallerEvent } from '../call/ports.js';
import type { ErrorCode, InboundFrame, OutboundFrame } from './frames.js';

/**
 * What a transport (aybiza.v1, the speech layer, Twilio Media Streams) needs of the call
 * supervisor, and what the supervisor needs of a transport: owned below both, so that every
 * transport and the runtime import it and none imports another.
 */

/** How a call talks back to whoever is connected to it now. */
export interface CallPeer {
  send(frame: OutboundFrame): void;
  end(code: number, reason: string): void;
}

export type StartRequest = Extract<InboundFrame, { type: 'start' }>;
export type OpenResult =
  | { ok: true; callId: string }
  | { ok: false; code: ErrorCode; message: string; fatal: boolean };

/** The principal of a transport without keys (loopback only): all its callers count as one key holder. */
export const LOOPBACK_PRINCIPAL = 'loopback';

/** What the telephony layer needs of the call supervisor, and nothing more. */
export interface CallsPort {
  /**
   * Starts or resumes a call bound to `peer`; the call sends `ready` itself. `principal` names who
   * authenticated the connection (a hash of its API key, or {@link LOOPBACK_PRINCIPAL}): a call is
   * resumed only by the principal that started it, and per-key call limits count by it.
   */
  open(request: StartRequest, peer: CallPeer, principal: string): Promise<OpenResult>;
  deliver(callId: string, event: CallerEvent): void;
  /** The socket went away (`reason` says why); the call is suspended or ended. */
  detach(callId: string, peer: CallPeer, reason: 'closed' | 'slow_consumer'): void;
}
