import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** What the voice webhook promised a media stream: which call, for which agent, new or resumed. */
export interface StreamClaims {
  callSid: string;
  agent: string;
  from?: string;
  to?: string;
  resume: boolean;
}

/** The `<Parameter>`s of a `<Stream>`, as they come back in `start.customParameters`. */
export type StreamParameters = Record<string, string>;

/**
 * One-time stream tokens: the webhook (whose request Twilio signed) puts the call's claims and an
 * HMAC over them in the `<Stream>`'s parameters; the media endpoint accepts a `start` only with a
 * valid, unexpired, unused token for the call it names. Stateless across nodes (any node holding
 * the auth token can check it: after a node dies the stream reaches another), single use per node.
 */
export class StreamTokens {
  private readonly used = new Map<string, number>();
  /** Tokens of new calls issued and not yet redeemed, by nonce → expiry: each holds a place on this node. */
  private readonly outstanding = new Map<string, number>();

  constructor(
    private readonly secret: string,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  issue(claims: StreamClaims): StreamParameters {
    const expires = String(this.now() + this.ttlMs);
    const nonce = randomBytes(16).toString('base64url');
    if (!claims.resume) this.outstanding.set(nonce, Number(expires));
    return { ...parametersOf(claims), expires, nonce, token: this.mac(claims, expires, nonce) };
  }

  /** The claims of a valid token, consuming it; otherwise why not. */
  redeem(parameters: StreamParameters, callSid: string): { ok: true; claims: StreamClaims } | { ok: false; reason: string } {
    const { token, expires, nonce, agent } = parameters;
    if (!token || !expires || !nonce || !agent || !parameters.callSid) return { ok: false, reason: 'no stream token' };
    const claims: StreamClaims = {
      callSid: parameters.callSid,
      agent,
      ...(parameters.from ? { from: parameters.from } : {}),
      ...(parameters.to ? { to: parameters.to } : {}),
      resume: parameters.resume === 'true',
    };
    const expected = Buffer.from(this.mac(claims, expires, nonce));
    const given = Buffer.from(token);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'bad stream token' };
    if (claims.callSid !== callSid) return { ok: false, reason: 'stream token is for another call' };
    const expiresAt = Number(expires);
    const now = this.now();
    if (!(expiresAt > now)) return { ok: false, reason: 'stream token expired' };
    this.prune(now);
    if (this.used.has(nonce)) return { ok: false, reason: 'stream token already used' };
    this.used.set(nonce, expiresAt);
    this.outstanding.delete(nonce);
    return { ok: true, claims };
  }

  /** New calls answered here whose stream has not started, and whose token has not expired (their stream may have gone to another node). */
  outstandingNewCalls(): number {
    const now = this.now();
    // Issued in expiry order (one TTL): the expired ones are at the front.
    for (const [nonce, expiresAt] of this.outstanding) {
      if (expiresAt > now) break;
      this.outstanding.delete(nonce);
    }
    return this.outstanding.size;
  }

  /**
   * The call's resume token (what `ready` carries to other transports): derived from the CallSid
   * under the auth token, so whichever node Twilio's `action` reaches after a node died can resume
   * the call, and nobody without the auth token can.
   */
  resumeToken(callSid: string): string {
    return createHmac('sha256', this.secret).update(`aybiza-resume-v1\n${callSid}`).digest('base64url');
  }

  private mac(claims: StreamClaims, expires: string, nonce: string): string {
    const fields = ['aybiza-stream-v1', claims.callSid, claims.agent, claims.from ?? '', claims.to ?? '', String(claims.resume), expires, nonce];
    return createHmac('sha256', this.secret).update(fields.join('\n')).digest('base64url');
  }

  private prune(now: number): void {
    for (const [nonce, expiresAt] of this.used) if (expiresAt <= now) this.used.delete(nonce);
  }
}

function parametersOf(claims: StreamClaims): StreamParameters {
  return {
    callSid: claims.callSid,
    agent: claims.agent,
    ...(claims.from ? { from: claims.from } : {}),
    ...(claims.to ? { to: claims.to } : {}),
    resume: String(claims.resume),
  };
}
