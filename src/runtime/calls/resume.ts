import type { CallInput } from '../../call/context.js';
import type { ConversationStore } from '../../memory/store.js';
import type { StartRequest } from '../../protocol/calls-port.js';
import { readStoredCall, type CallSnapshot } from './snapshots.js';

/**
 * Where a granted `resume` of a call that is not live on this node continues from: its last
 * turn-boundary snapshot is stored; or only its history (a new actor that knows memory holds
 * earlier turns, if any: a node killed before the call's first boundary stored none).
 */
export type ResumePoint =
  | { kind: 'snapshot'; snapshot: CallSnapshot }
  | { kind: 'history'; identity: CallInput };

export async function storedResume(callId: string, request: StartRequest, store: ConversationStore): Promise<ResumePoint> {
  const snapshot = readStoredCall(await store.loadSnapshot(callId));
  if (snapshot) return { kind: 'snapshot', snapshot };
  return {
    kind: 'history',
    identity: {
      callId, agent: request.agent ?? 'default', from: request.from, to: request.to, metadata: request.metadata, startedAt: Date.now(), resumed: true,
    },
  };
}
