import type { CallContext, CallInput, EndReason } from '../../call/context.js';
import type { CallSummary } from '../../memory/store.js';

export type CallOutcome = CallSummary['outcome'];

/** What a call's end reason means for its summary; a call stopped before it ended is `completed`. */
export function outcomeOf(reason: EndReason | undefined): CallOutcome {
  switch (reason) {
    case undefined: return 'completed';
    case 'transferred': return 'transferred';
    case 'dropped':
    case 'slow_consumer': return 'dropped';
    case 'budget': return 'budget';
    case 'idle': return 'idle';
    case 'shutdown': return 'shutdown';
    case 'error': return 'error';
    // What remains is `caller:<reason>`: the caller hung up.
    default: return 'hangup';
  }
}

/** The stored summary of an ended call: its identity, how it ended, and what its context counted. */
export function summarize(identity: CallInput, context: CallContext | undefined, reason: EndReason | undefined): CallSummary {
  return {
    callId: identity.callId,
    agent: identity.agent,
    from: identity.from,
    to: identity.to,
    startedAt: identity.startedAt,
    endedAt: Date.now(),
    outcome: outcomeOf(reason),
    turns: context?.turnsCompleted ?? 0,
    inputTokens: context?.usage.inputTokens ?? 0,
    outputTokens: context?.usage.outputTokens ?? 0,
    costUsd: context?.costUsd ?? 0,
  };
}
