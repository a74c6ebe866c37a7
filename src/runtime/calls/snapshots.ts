import { z } from 'zod';
import type { Snapshot } from 'xstate';
import type { CallInput } from '../../call/context.js';
import type { CallActor } from './call-actor.js';

/**
 * A call's turn-boundary snapshot as it is stored: a version, the fields the supervisor reads
 * (identity and counters), and the actor's persisted snapshot. Anything else is refused on load,
 * so a stored form from another version starts nothing instead of a broken call.
 */
export const STORED_CALL_VERSION = 1;

const persistedContext = z.looseObject({
  callId: z.string(),
  agent: z.string(),
  from: z.string().optional(),
  to: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  startedAt: z.number(),
  turn: z.number().int().nonnegative(),
  sayCounter: z.number().int().nonnegative(),
  turnsCompleted: z.number().int().nonnegative(),
});

const persistedActor = z.looseObject({
  status: z.literal('active'),
  value: z.unknown(),
  context: persistedContext,
});

const storedCall = z.object({
  version: z.literal(STORED_CALL_VERSION),
  actor: persistedActor,
});

/** A snapshot an actor restores from, with the counters the supervisor needs read out of it. */
export interface CallSnapshot {
  readonly identity: CallInput;
  readonly turn: number;
  readonly sayCounter: number;
  readonly turnsCompleted: number;
  /** The snapshot with `sayCounter` raised to at least `sayCounter`, as `createActor` takes it. */
  restore(sayCounter: number): Snapshot<unknown>;
}

function callSnapshot(actor: z.infer<typeof persistedActor>): CallSnapshot {
  const { context } = actor;
  const { callId, agent, from, to, metadata, startedAt } = context;
  return {
    identity: { callId, agent, from, to, metadata, startedAt },
    turn: context.turn,
    sayCounter: context.sayCounter,
    turnsCompleted: context.turnsCompleted,
    restore: (sayCounter) => ({
      ...actor,
      context: { ...context, sayCounter: Math.max(context.sayCounter, sayCounter) },
      status: 'active',
      output: undefined,
      error: undefined,
    }),
  };
}

/** The actor's snapshot at a turn boundary, and the form it is stored in. */
export function takeSnapshot(actor: CallActor): { snapshot: CallSnapshot; stored: unknown } {
  const persisted = persistedActor.parse(actor.getPersistedSnapshot());
  return { snapshot: callSnapshot(persisted), stored: { version: STORED_CALL_VERSION, actor: persisted } };
}

/** A stored form read back; `undefined` when nothing is stored or it is not this version's form. */
export function readStoredCall(stored: unknown): CallSnapshot | undefined {
  const parsed = storedCall.safeParse(stored);
  return parsed.success ? callSnapshot(parsed.data.actor) : undefined;
}
