import { createActor } from 'xstate';
import type { CallContext } from '../../call/context.js';
import type { CallMachine } from '../../call/machine.js';
import { epochMs } from '../../clock.js';
import type { CallObserver } from '../../records/observations.js';
import { crash, type ChildHandle, type ExitReason } from '../child.js';
import type { LiveCall } from './registry.js';
import { takeSnapshot } from './snapshots.js';


export interface CallChildHooks {
  /** The actor reached a turn boundary: `stored` is the form to persist. */
  boundary(call: LiveCall, stored: unknown): void;
  /** The actor reached its final state. */
  ended(call: LiveCall, context: CallContext): void;
  /** Told each `say` sent and each state the machine enters. */
  observe?: CallObserver;
}

/**
 * One incarnation of a call's actor as a supervised child: restored from the call's last boundary
 * snapshot (with the say counter its predecessor reached), its emitted frames written to the
 * caller, and the turn-starting events since that boundary replayed so the turn is answered.
 */
export function startCallChild(machine: CallMachine, call: LiveCall, hooks: CallChildHooks): ChildHandle {
  const restarting = call.actor !== undefined;
  const actor = createActor(machine, { input: call.identity, snapshot: call.snapshot?.restore(call.sayCounter) });
  call.actor = actor;
  let settle!: (reason: ExitReason) => void;
  const exited = new Promise<ExitReason>((resolve) => (settle = resolve));
  const { callId } = call.identity;
  actor.on('frame', ({ frame }) => {
    call.peer?.send(frame);
    if (frame.type === 'say') hooks.observe?.(callId, { type: 'say', at: epochMs(), turn: frame.turn, id: frame.id, text: frame.text, last: frame.last });
  });
  let stateName: string | undefined;
  actor.subscribe({
    next: (state) => {
      if (hooks.observe) {
        const name = statePath(state.value);
        if (name !== stateName) hooks.observe(callId, { type: 'state', at: epochMs(), state: name });
        stateName = name;
      }
      call.sayCounter = Math.max(call.sayCounter, state.context.sayCounter);
      if (state.status === 'done') {
        settle({ kind: 'normal' });
        hooks.ended(call, state.context);
        return;
      }
      if (state.value === 'listening' && state.context.turnsCompleted !== (call.snapshot?.turnsCompleted ?? -1)) {
        const { snapshot, stored } = takeSnapshot(actor);
        call.snapshot = snapshot;
        call.sinceBoundary = [];
        hooks.boundary(call, stored);
      }
    },
    error: (error) => settle(crash(error)),
  });
  actor.start();
  if (call.snapshot) actor.send({ type: 'runtime.restored' });
  if (restarting) for (const event of call.sinceBoundary) actor.send(event);
  return {
    exited,
    stop: async () => {
      actor.stop();
      settle({ kind: 'shutdown' });
    },
  };
}

/** A state value as the dotted path of its active leaf (`responding.generating.thinking`). */
export function statePath(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return String(value);
  const [key, child] = Object.entries(value)[0] ?? ['', ''];
  const rest = statePath(child);
  return rest ? `${key}.${rest}` : key;
}
