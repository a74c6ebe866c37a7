import {
  crash, exitOf, launch, SHUTDOWN, shutdownChild, toError,
  type ChildHandle, type ChildSpec, type ExitReason,
} from './child.js';
import { listeners } from './listeners.js';
import { mailbox, type Mailbox } from './mailbox.js';
import {
  backoffDelayMs, recordRestart, restartCause, restartsAfter, waitBeforeRestart,
  monotonicMs, type PendingRestart, type RestartIntensity,
} from './restart-policy.js';

/** The one child spec of a dynamic supervisor: every child is started from it, with its own id and argument. */
export interface ChildTemplate<A> extends Omit<ChildSpec<A>, 'id' | 'start'> {
  /** Called with the argument `startChild` was given, again on every restart, and the child's id. */
  start: (arg: A, id: string) => Promise<ChildHandle> | ChildHandle;
}

/**
 * Intensity is counted per child id: a child over it is given up alone (it exits with `shutdown`,
 * OTP's reason for a child the supervisor ended) and its siblings never notice. One supervisor per
 * call would count the same; a call supervisor uses that to give each call its own intensity.
 */
export interface DynamicSupervisorOptions<A> extends RestartIntensity {
  child: ChildTemplate<A>;
  /** `startChild` answers `undefined` at this many live children. */
  maxChildren?: number;
}

export type DynamicSupervisorEvents = {
  /** A child is about to be restarted; `attempt` counts its restarts inside the period. */
  restart: [id: string, attempt: number, error: Error];
  /** A child exceeded its restart intensity and was removed (exiting with `shutdown`); its own code owes the graceful end. */
  giveUp: [id: string, error: Error];
  /** A child exited on its own, before the supervisor decided what to do about it. */
  childExit: [id: string, reason: ExitReason];
  /** A child failed to stop cleanly: its stop threw, or it overran `shutdownMs` and was abandoned. */
  shutdownError: [id: string, error: Error];
};

/** OTP's simple_one_for_one (Elixir's DynamicSupervisor): children added and removed at run time. */
export interface DynamicSupervisor<A> extends ChildHandle {
  /**
   * Starts a child and supervises it. The handle returned outlives restarts: `stop` terminates the
   * child, `exited` resolves once it is gone for good. Answers `undefined` when the supervisor is at
   * `maxChildren` or stopping; rejects when the id is live or the start itself fails (nothing is kept).
   */
  startChild(id: string, arg: A): Promise<ChildHandle | undefined>;
  /** Stops a child without restarting it; an unknown id is already terminated. */
  terminateChild(id: string): Promise<void>;
  count(): number;
  children(): string[];
  /** Stops every child at once, each within its own `shutdownMs`. */
  stop(): Promise<void>;
  readonly exited: Promise<ExitReason>;
  on<K extends keyof DynamicSupervisorEvents>(event: K, listener: (...args: DynamicSupervisorEvents[K]) => void): () => void;
}

interface Supervised<A> {
  readonly spec: ChildSpec<A>;
  readonly arg: A;
  /** Each child has its own mailbox, so one child's slow restart or shutdown never delays another's. */
  readonly inbox: Mailbox;
  handle: ChildHandle | undefined;
  incarnation: number;
  /** Monotonic times (ms) of the restarts inside the period. */
  restarts: number[];
  pendingRestart: PendingRestart | undefined;
  /** Terminated, given up or ended for good: no longer the live child of its id. */
  gone: boolean;
  settle: (reason: ExitReason) => void;
  readonly exited: Promise<ExitReason>;
}

export function dynamicSupervisor<A>(options: DynamicSupervisorOptions<A>): DynamicSupervisor<A> {
  const live = new Map<string, Supervised<A>>();
  const terminating = new Set<Promise<void>>();
  const events = listeners<DynamicSupervisorEvents>();
  let stopping: Promise<void> | undefined;
  let settle!: (reason: ExitReason) => void;
  const exited = new Promise<ExitReason>((resolve) => (settle = resolve));

  function attach(child: Supervised<A>, handle: ChildHandle): void {
    const incarnation = ++child.incarnation;
    child.handle = handle;
    void exitOf(handle).then((reason) => child.inbox.cast(() => childExited(child, incarnation, reason)));
  }

  function release(child: Supervised<A>, reason: ExitReason): void {
    child.gone = true;
    if (live.get(child.spec.id) === child) live.delete(child.spec.id);
    child.settle(reason);
  }

  async function childExited(child: Supervised<A>, incarnation: number, reason: ExitReason): Promise<void> {
    if (child.gone || child.incarnation !== incarnation) return;
    child.handle = undefined;
    events.emit('childExit', child.spec.id, reason);
    if (restartsAfter(child.spec.restart, reason)) await restart(child, restartCause(child.spec.id, reason));
    else release(child, reason);
  }

  async function restart(child: Supervised<A>, error: Error): Promise<void> {
    let cause = error;
    for (;;) {
      const recorded = recordRestart(child.restarts, monotonicMs(), options);
      child.restarts = recorded.restarts;
      if (recorded.exceeded) {
        // Released before the event, so a listener that terminates the child finds it already gone.
        release(child, SHUTDOWN);
        events.emit('giveUp', child.spec.id, cause);
        return;
      }
      events.emit('restart', child.spec.id, recorded.restarts.length, cause);
      const delayMs = backoffDelayMs(child.spec, recorded.restarts.length - 1);
      // A terminate from inside a listener came before the wait began: nothing to cancel, just stop here.
      if (delayMs > 0 && !child.gone) {
        child.pendingRestart = waitBeforeRestart(delayMs);
        const elapsed = await child.pendingRestart.elapsed;
        child.pendingRestart = undefined;
        if (!elapsed) return;
      }
      if (child.gone) return;
      try {
        // Same argument every time: the caller's way to hand a restart what it resumes from.
        attach(child, await launch(child.spec, child.arg));
        return;
      } catch (failure) {
        cause = toError(failure);
        if (child.gone) return;
      }
    }
  }

  function terminate(child: Supervised<A>): Promise<void> {
    child.gone = true;
    if (live.get(child.spec.id) === child) live.delete(child.spec.id);
    child.pendingRestart?.cancel();
    const done = child.inbox.call(async () => {
      const handle = child.handle;
      if (handle) {
        child.handle = undefined;
        child.incarnation++;
        const outcome = await shutdownChild(child.spec.id, handle, child.spec.shutdownMs);
        if (outcome.kind === 'failed') events.emit('shutdownError', child.spec.id, outcome.error);
      }
      child.settle(SHUTDOWN);
    });
    terminating.add(done);
    const forget = () => terminating.delete(done);
    done.then(forget, forget);
    return done;
  }

  async function startChild(id: string, arg: A): Promise<ChildHandle | undefined> {
    if (stopping) return undefined;
    const { start, ...template } = options.child;
    const spec: ChildSpec<A> = { ...template, id, start: (child) => start(child, id) };
    if (live.has(id)) throw new Error(`child "${id}" is already running`);
    if (options.maxChildren !== undefined && live.size >= options.maxChildren) return undefined;
    let settleChild!: (reason: ExitReason) => void;
    const child: Supervised<A> = {
      spec, arg, inbox: mailbox(), handle: undefined, incarnation: 0, restarts: [], pendingRestart: undefined, gone: false,
      settle: (reason) => settleChild(reason),
      exited: new Promise<ExitReason>((resolve) => (settleChild = resolve)),
    };
    // Registered before the start completes, so the id is taken and a terminate during the start is queued behind it.
    live.set(spec.id, child);
    await child.inbox.call(async () => {
      try {
        attach(child, await launch(spec, arg));
      } catch (failure) {
        release(child, crash(failure));
        throw failure;
      }
    });
    return { exited: child.exited, stop: () => terminate(child) };
  }

  function stop(): Promise<void> {
    stopping ??= (async () => {
      for (const child of [...live.values()]) void terminate(child);
      await Promise.allSettled([...terminating]);
      settle(SHUTDOWN);
    })();
    return stopping;
  }

  return {
    startChild,
    terminateChild: async (id) => {
      const child = live.get(id);
      if (child) await terminate(child);
    },
    count: () => live.size,
    children: () => [...live.keys()],
    stop,
    exited,
    on: events.on,
  };
}
