import {
  exitOf, launch, SHUTDOWN, shutdownChild, toError,
  type ChildHandle, type ChildSpec, type ExitReason,
} from './child.js';
import { listeners } from './listeners.js';
import { mailbox } from './mailbox.js';
import {
  backoffDelayMs, monotonicMs, recordRestart, restartCause, restartsAfter, waitBeforeRestart,
  type PendingRestart, type RestartIntensity,
} from './restart-policy.js';

export type { ChildHandle, ChildSpec, ExitReason, RestartType } from './child.js';
export { ShutdownTimeoutError } from './child.js';
export { dynamicSupervisor, type ChildTemplate, type DynamicSupervisor, type DynamicSupervisorEvents, type DynamicSupervisorOptions } from './dynamic-supervisor.js';

export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one';

export interface SupervisorFlags extends RestartIntensity {
  strategy: Strategy;
}

export type ChildStatus = 'running' | 'restarting' | 'stopped';

export type SupervisorEvents = {
  /** A child is about to be restarted; `attempt` counts this supervisor's restarts inside the period. */
  restart: [id: string, attempt: number, error: Error];
  /** A child exited on its own, before the supervisor decided what to do about it. */
  childExit: [id: string, reason: ExitReason];
  /** Restart intensity was exceeded: the supervisor stops every child and exits with `error`. */
  intensity: [error: RestartIntensityError];
  /** A child failed to stop cleanly: its stop threw, or it overran `shutdownMs` and was abandoned. */
  shutdownError: [id: string, error: Error];
};

/** A supervisor is itself a child, so trees nest: its parent sees it crash when it gives up. */
export interface Supervisor extends ChildHandle {
  /** Starts the children in list order; if one fails, stops those already started and rejects. */
  start(): Promise<void>;
  /** Stops the children in reverse list order, each within its `shutdownMs`. */
  stop(): Promise<void>;
  which(): Array<{ id: string; status: ChildStatus }>;
  /** `shutdown` after `stop()`; a crash when start failed or restart intensity was exceeded. */
  readonly exited: Promise<ExitReason>;
  on<K extends keyof SupervisorEvents>(event: K, listener: (...args: SupervisorEvents[K]) => void): () => void;
}

/** OTP's {shutdown, {failed_to_start_child, Id, Reason}}. */
export class ChildStartError extends Error {
  constructor(readonly childId: string, cause: Error) {
    super(`child "${childId}" failed to start: ${cause.message}`, { cause });
    this.name = 'ChildStartError';
  }
}

/** OTP's reached_max_restart_intensity; `cause` is the failure that tipped it over. */
export class RestartIntensityError extends Error {
  constructor(readonly childId: string, readonly limits: RestartIntensity, cause: Error) {
    super(`more than ${limits.intensity} restarts within ${limits.periodMs} ms (last: child "${childId}": ${cause.message})`, { cause });
    this.name = 'RestartIntensityError';
  }
}

interface Slot {
  readonly spec: ChildSpec;
  status: ChildStatus;
  handle: ChildHandle | undefined;
  /** Bumped whenever the supervisor takes a handle away, so the exit of a stopped incarnation is ignored. */
  incarnation: number;
  /** This child's own restarts inside the period, which set its back-off. */
  restarts: number[];
}

type Phase = 'idle' | 'starting' | 'running' | 'stopping' | 'exited';

/**
 * A supervisor of static children declared as data. Children start in list order and stop in
 * reverse order; a crash is answered by the strategy, bounded by the restart intensity.
 */
export function supervisor(flags: SupervisorFlags, specs: ReadonlyArray<ChildSpec>): Supervisor {
  const duplicate = specs.find((spec, index) => specs.findIndex((other) => other.id === spec.id) !== index);
  if (duplicate) throw new Error(`duplicate child id "${duplicate.id}"`);

  const slots: Slot[] = specs.map((spec) => ({ spec, status: 'stopped', handle: undefined, incarnation: 0, restarts: [] }));
  const events = listeners<SupervisorEvents>();
  const inbox = mailbox();
  let phase: Phase = 'idle';
  let restarts: number[] = [];
  let pendingRestart: PendingRestart | undefined;
  let stopping: Promise<void> | undefined;
  let settle!: (reason: ExitReason) => void;
  const exited = new Promise<ExitReason>((resolve) => (settle = resolve));

  function exit(reason: ExitReason): void {
    phase = 'exited';
    settle(reason);
  }

  function attach(slot: Slot, handle: ChildHandle): void {
    const incarnation = ++slot.incarnation;
    slot.handle = handle;
    slot.status = 'running';
    void exitOf(handle).then((reason) => inbox.cast(() => childExited(slot, incarnation, reason)));
  }

  async function childExited(slot: Slot, incarnation: number, reason: ExitReason): Promise<void> {
    if (phase !== 'running' || slot.incarnation !== incarnation) return;
    slot.handle = undefined;
    slot.status = 'stopped';
    events.emit('childExit', slot.spec.id, reason);
    if (restartsAfter(slot.spec.restart, reason)) {
      await restart(slot, restartCause(slot.spec.id, reason));
    } else if (slot.spec.restart === 'temporary') {
      remove(slot);
    }
  }

  /** Restarts `failed` and its group by the strategy; a start that fails during it is a crash of that attempt. */
  async function restart(failed: Slot, error: Error): Promise<void> {
    let slot = failed;
    let cause = error;
    for (;;) {
      const now = monotonicMs();
      const recorded = recordRestart(restarts, now, flags);
      restarts = recorded.restarts;
      if (recorded.exceeded) return giveUp(slot, cause);
      const own = recordRestart(slot.restarts, now, flags);
      slot.restarts = own.restarts;
      slot.status = 'restarting';
      events.emit('restart', slot.spec.id, restarts.length, cause);

      const group = groupOf(slot);
      await stopSlots(group.filter((member) => member !== slot).reverse(), 'restarting');
      // As in OTP, a temporary sibling stopped by the strategy is not restarted: it leaves the supervisor.
      for (const member of group) if (member.spec.restart === 'temporary' && member !== slot) remove(member);
      const restarting = group.filter((member) => slots.includes(member));
      for (const member of restarting) member.status = 'restarting';

      if (!(await backOff(backoffDelayMs(slot.spec, own.restarts.length - 1)))) return;
      const failure = await startSlots(restarting);
      if (!failure) return;
      slot = failure.slot;
      cause = failure.error;
    }
  }

  function groupOf(slot: Slot): Slot[] {
    switch (flags.strategy) {
      case 'one_for_one': return [slot];
      case 'one_for_all': return [...slots];
      case 'rest_for_one': return slots.slice(slots.indexOf(slot));
    }
  }

  async function backOff(delayMs: number): Promise<boolean> {
    // A stop() that came before the wait began has nothing to cancel: it is seen here instead.
    if (delayMs > 0 && phase === 'running') {
      pendingRestart = waitBeforeRestart(delayMs);
      const elapsed = await pendingRestart.elapsed;
      pendingRestart = undefined;
      if (!elapsed) return false;
    }
    return phase === 'running';
  }

  /** Starts slots in list order; returns the first that failed, leaving the rest for the retry. */
  async function startSlots(toStart: Slot[]): Promise<{ slot: Slot; error: Error } | undefined> {
    for (const slot of toStart) {
      // A stop() arrived: its turn in the mailbox comes next and stops whatever did start.
      if (phase !== 'running') return undefined;
      try {
        attach(slot, await launch(slot.spec, undefined));
      } catch (error) {
        slot.status = 'restarting';
        return { slot, error: toError(error) };
      }
    }
    return undefined;
  }

  /** Stops running slots one after the other, in the order given. */
  async function stopSlots(toStop: Slot[], then: ChildStatus): Promise<void> {
    for (const slot of toStop) {
      const handle = slot.handle;
      slot.status = then;
      if (!handle) continue;
      slot.handle = undefined;
      slot.incarnation++;
      const outcome = await shutdownChild(slot.spec.id, handle, slot.spec.shutdownMs);
      if (outcome.kind === 'failed') events.emit('shutdownError', slot.spec.id, outcome.error);
    }
  }

  async function giveUp(slot: Slot, cause: Error): Promise<void> {
    const error = new RestartIntensityError(slot.spec.id, flags, cause);
    phase = 'stopping';
    events.emit('intensity', error);
    await stopSlots([...slots].reverse(), 'stopped');
    exit({ kind: 'crash', error });
  }

  function remove(slot: Slot): void {
    const index = slots.indexOf(slot);
    if (index >= 0) slots.splice(index, 1);
  }

  async function start(): Promise<void> {
    if (phase !== 'idle') throw new Error(`supervisor cannot start: it is ${phase}`);
    phase = 'starting';
    await inbox.call(async () => {
      for (const slot of slots) {
        if (phase !== 'starting') return;
        try {
          attach(slot, await launch(slot.spec, undefined));
        } catch (failure) {
          const error = new ChildStartError(slot.spec.id, toError(failure));
          await stopSlots([...slots].reverse(), 'stopped');
          exit({ kind: 'crash', error });
          throw error;
        }
      }
      if (phase === 'starting') phase = 'running';
    });
  }

  function stop(): Promise<void> {
    stopping ??= (async () => {
      if (phase === 'exited') return;
      phase = 'stopping';
      pendingRestart?.cancel();
      await inbox.call(() => stopSlots([...slots].reverse(), 'stopped'));
      exit(SHUTDOWN);
    })();
    return stopping;
  }

  return {
    start,
    stop,
    exited,
    which: () => slots.map((slot) => ({ id: slot.spec.id, status: slot.status })),
    on: events.on,
  };
}
