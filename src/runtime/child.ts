/**
 * The contract between a supervisor and one of its children, after OTP's child specification:
 * a child is data (id, how to start it, when to restart it, how long to wait for it to stop), and a
 * running child is anything that can be asked to stop and says when it has exited.
 */

export type RestartType = 'permanent' | 'transient' | 'temporary';

export type ExitReason = { kind: 'normal' } | { kind: 'shutdown' } | { kind: 'crash'; error: Error };

/** A running child: the supervisor only needs to stop it and to hear when it exits. */
export interface ChildHandle {
  stop(reason: 'shutdown'): Promise<void>;
  readonly exited: Promise<ExitReason>;
}

export interface ChildSpec<A = void> {
  id: string;
  /** Called again with the same `arg` on every restart. */
  start: (arg: A) => Promise<ChildHandle> | ChildHandle;
  restart: RestartType;
  /** How long `stop` may take before the child is abandoned (OTP's shutdown timeout). */
  shutdownMs: number;
  /** Wait between restarts, doubling with each restart inside the intensity period, capped at `max`. */
  backoffMs?: { initial: number; max: number };
}

/** A service child's back-off: first restart after 100 ms, doubling within the period, so a crash loop does not spin the CPU. */
export const SERVICE_BACKOFF_MS = { initial: 100, max: 2_000 };

/** A child that would not stop within its `shutdownMs`: the supervisor stopped waiting and moved on. */
export class ShutdownTimeoutError extends Error {
  constructor(readonly childId: string, readonly shutdownMs: number) {
    super(`child "${childId}" did not stop within ${shutdownMs} ms and was abandoned`);
    this.name = 'ShutdownTimeoutError';
  }
}

export type ShutdownOutcome = { kind: 'stopped' } | { kind: 'failed'; error: Error };

export const NORMAL: ExitReason = { kind: 'normal' };
export const SHUTDOWN: ExitReason = { kind: 'shutdown' };

export function crash(error: unknown): ExitReason {
  return { kind: 'crash', error: toError(error) };
}

export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** Starts one incarnation of a child; a synchronous throw from `start` becomes a rejection like any other failure. */
export async function launch<A>(spec: ChildSpec<A>, arg: A): Promise<ChildHandle> {
  return spec.start(arg);
}

/** How a child exited; an `exited` promise that rejects is a crash, so no exit goes unheard. */
export function exitOf(handle: ChildHandle): Promise<ExitReason> {
  return Promise.resolve(handle.exited).then((reason) => reason, crash);
}

/**
 * Asks a child to stop and waits at most `shutdownMs`. There is no `kill` in a single process, so a
 * child that overruns is abandoned (OTP's brutal_kill after the timeout) and reported: shutdown of
 * the tree never hangs on one child.
 */
export async function shutdownChild(id: string, handle: ChildHandle, shutdownMs: number): Promise<ShutdownOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const overrun = new Promise<ShutdownOutcome>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'failed', error: new ShutdownTimeoutError(id, shutdownMs) }), shutdownMs);
  });
  const stopped = (async () => handle.stop('shutdown'))().then(
    (): ShutdownOutcome => ({ kind: 'stopped' }),
    (error: unknown): ShutdownOutcome => ({ kind: 'failed', error: toError(error) }),
  );
  try {
    return await Promise.race([stopped, overrun]);
  } finally {
    clearTimeout(timer);
  }
}
