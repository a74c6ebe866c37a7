import { randomUUID } from 'node:crypto';
import type { CallInput } from '../../call/context.js';
import type { OpenResult, StartRequest } from '../../protocol/calls-port.js';
import type { OverloadGuard } from '../overload-guard.js';
import type { CallRegistry } from './registry.js';

export type Refusal = Extract<OpenResult, { ok: false }>;

export interface AdmissionRules {
  knownAgents: ReadonlySet<string>;
  maxCalls: number;
  /** Asked before each new call (not a resumed one: that caller is already in a conversation). */
  overload?: OverloadGuard;
}

/** Why a `start` names no agent this node serves, or `undefined`. */
export function unknownAgent(request: StartRequest, rules: AdmissionRules): Refusal | undefined {
  const agent = request.agent ?? 'default';
  if (rules.knownAgents.has(agent)) return undefined;
  return { ok: false, code: 'bad_message', message: `start: agent: unknown agent "${agent}" — this node serves ${[...rules.knownAgents].map((name) => `"${name}"`).join(', ')}`, fatal: false };
}

/** A node at its call limit refuses every new or restored call. */
export function atCapacity(calls: CallRegistry, rules: AdmissionRules): Refusal | undefined {
  if (calls.size() < rules.maxCalls) return undefined;
  return { ok: false, code: 'overloaded', message: `the runtime is at its limit of ${rules.maxCalls} calls; try again later`, fatal: true };
}

/** Admits a new call (not a resume): its identity, or why it is refused. */
export function admitNewCall(request: StartRequest, calls: CallRegistry, rules: AdmissionRules): CallInput | Refusal {
  const full = atCapacity(calls, rules);
  if (full) return full;
  const refusal = rules.overload?.refusal();
  if (refusal) return { ok: false, code: 'overloaded', message: refusal, fatal: true };
  const callId = request.callId ?? randomUUID();
  if (calls.has(callId)) return { ok: false, code: 'call_busy', message: `call "${callId}" is already active`, fatal: false };
  return { callId, agent: request.agent ?? 'default', from: request.from, to: request.to, metadata: request.metadata, startedAt: Date.now() };
}
