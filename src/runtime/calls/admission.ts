import { randomUUID } from 'node:crypto';
import type { CallInput } from '../../call/context.js';
import type { OpenResult, StartRequest } from '../../protocol/calls-port.js';
import type { OverloadGuard } from '../overload-guard.js';

export type Refusal = Extract<OpenResult, { ok: false }>;

export interface AdmissionRules {
  knownAgents: ReadonlySet<string>;
  maxCalls: number;
  /** Calls one principal (API key, or all of loopback) may hold at once, suspended ones included. */
  maxCallsPerKey: number;
  /** Asked before each new call (not a resumed one: that caller is already in a conversation). */
  overload?: OverloadGuard;
}

/** Calls held now, on the node and by the principal asking, those still opening included. */
export interface Occupancy {
  total: number;
  byPrincipal: number;
}

/** Why a `start` names no agent this node serves, or `undefined`. */
export function unknownAgent(request: StartRequest, rules: AdmissionRules): Refusal | undefined {
  const agent = request.agent ?? 'default';
  if (rules.knownAgents.has(agent)) return undefined;
  return { ok: false, code: 'bad_message', message: `start: agent: unknown agent "${agent}" — this node serves ${[...rules.knownAgents].map((name) => `"${name}"`).join(', ')}`, fatal: false };
}

/** A node at its call limit, or a key at its own, refuses every new or restored call. */
export function atCapacity(occupancy: Occupancy, rules: AdmissionRules): Refusal | undefined {
  if (occupancy.total >= rules.maxCalls) {
    return { ok: false, code: 'overloaded', message: `the runtime is at its limit of ${rules.maxCalls} calls; try again later`, fatal: true };
  }
  if (occupancy.byPrincipal >= rules.maxCallsPerKey) {
    return { ok: false, code: 'too_many_calls', message: `this API key holds ${occupancy.byPrincipal} calls, its limit (server.maxCallsPerKey); end one first`, fatal: true };
  }
  return undefined;
}

/** Admits a new call (not a resume): its identity, or why it is refused. */
export function admitNewCall(request: StartRequest, occupancy: Occupancy, rules: AdmissionRules): CallInput | Refusal {
  const full = atCapacity(occupancy, rules);
  if (full) return full;
  const refusal = rules.overload?.refusal();
  if (refusal) return { ok: false, code: 'overloaded', message: refusal, fatal: true };
  const callId = request.callId ?? randomUUID();
  return { callId, agent: request.agent ?? 'default', from: request.from, to: request.to, metadata: request.metadata, startedAt: Date.now() };
}
