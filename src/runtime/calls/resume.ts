import type { CallInput } from '../../call/context.js';
import type { ConversationStore } from '../../memory/store.js';
import type { StartRequest } from '../../protocol/calls-port.js';
import { readStoredCall, type CallSnapshot } from './snapshots.js';

/**
 * Where a `resume` of a call that is not live on this node continues from, in order: its last
 * turn-boundary snapshot is stored; only its history is stored (a new actor that knows memory
 * holds earlier turns); or nothing is known of it.
 */
export type ResumePoint =
  | { kind: 'snapshot'; snapshot: CallSnapshot }
  | { kind: 'history'; identity: CallInput }
  | { kind: 'unknown' };

export async function storedResume(callId: string, request: StartRequest, store: ConversationStore): Promise<ResumePoint> {
  const snapshot = readStoredCall(await store.loadSnapshot(callId));
  if (snapshot) return { kind: 'snapshot', snapshot };
  const history = await store.context(callId, 1);
  if (history.length === 0) return { kind: 'unknown' };
  return {
    kind: 'history',
    identity: {
      callId, agent: request.agent ?? 'default', from: request.from, to: request.to, metadata: request.metadata, startedAt: Date.now(), resumed: true,
    },
  };
}
