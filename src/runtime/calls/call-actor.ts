import type { Actor } from 'xstate';
import type { CallMachine } from '../../call/machine.js';

/** One incarnation of a call: the registry holds it, snapshots read it, the call child starts it. */
export type CallActor = Actor<CallMachine>;
