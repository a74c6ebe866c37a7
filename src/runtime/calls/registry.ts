import type { CallInput } from '../../call/context.js';
import type { CallerEvent } from '../../call/ports.js';
import type { CallPeer } from '../../protocol/calls-port.js';
import type { CallActor } from './call-actor.js';
import type { OpenGrant } from './grants.js';
import type { CallSnapshot } from './snapshots.js';

/** A call as the supervisor keeps it between incarnations of its actor. */
export interface LiveCall {
  readonly identity: CallInput;
  /** Who may resume it: its resume token's hash and the principal that started it. */
  readonly grant: OpenGrant;
  actor: CallActor | undefined;
  peer: CallPeer | undefined;
  suspendTimer: NodeJS.Timeout | undefined;
  /** The last turn-boundary snapshot: what a crashed actor restarts from. */
  snapshot: CallSnapshot | undefined;
  /** Turn-starting events since the last boundary, replayed into a restarted actor so the turn is answered. */
  sinceBoundary: CallerEvent[];
  /** The say counter of the latest context any incarnation reached: a restart never reuses a `say` id. */
  sayCounter: number;
  finished: boolean;
}

export function liveCall(identity: CallInput, grant: OpenGrant, snapshot: CallSnapshot | undefined, peer: CallPeer): LiveCall {
  return {
    identity, grant, actor: undefined, peer, suspendTimer: undefined, snapshot,
    sinceBoundary: [], sayCounter: snapshot?.sayCounter ?? 0, finished: false,
  };
}

/** The one registry of live calls of a node, and a way to wait until it is empty. */
export interface CallRegistry {
  get(callId: string): LiveCall | undefined;
  has(callId: string): boolean;
  add(call: LiveCall): void;
  remove(callId: string): void;
  size(): number;
  /** Live calls started by `principal`. */
  countFor(principal: string): number;
  all(): LiveCall[];
  /** Resolves true when no call is live, false after `timeoutMs`. */
  idle(timeoutMs: number): Promise<boolean>;
}

export function callRegistry(): CallRegistry {
  const calls = new Map<string, LiveCall>();
  const byPrincipal = new Map<string, number>();
  const emptied = new Set<() => void>();
  return {
    get: (callId) => calls.get(callId),
    has: (callId) => calls.has(callId),
    add: (call) => {
      const { principal } = call.grant;
      if (!calls.has(call.identity.callId)) byPrincipal.set(principal, (byPrincipal.get(principal) ?? 0) + 1);
      calls.set(call.identity.callId, call);
    },
    remove: (callId) => {
      const call = calls.get(callId);
      if (!call || !calls.delete(callId)) return;
      const left = (byPrincipal.get(call.grant.principal) ?? 1) - 1;
      if (left <= 0) byPrincipal.delete(call.grant.principal);
      else byPrincipal.set(call.grant.principal, left);
      if (calls.size === 0) for (const notify of [...emptied]) notify();
    },
    size: () => calls.size,
    countFor: (principal) => byPrincipal.get(principal) ?? 0,
    all: () => [...calls.values()],
    idle: (timeoutMs) => {
      if (calls.size === 0) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => done(false), timeoutMs);
        function done(result: boolean) {
          clearTimeout(timer);
          emptied.delete(check);
          resolve(result);
        }
        const check = () => done(true);
        emptied.add(check);
      });
    },
  };
}
