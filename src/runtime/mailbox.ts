/**
 * Runs a supervisor's operations one at a time in arrival order, as an OTP process handles its
 * mailbox: a child's exit can never interleave with a restart or a shutdown half-way through.
 */
export interface Mailbox {
  /** Runs `op` after every earlier one; its result or error goes back to the caller. */
  call<T>(op: () => Promise<T> | T): Promise<T>;
  /** Runs `op` after every earlier one; an error in it is a supervisor bug and surfaces as an uncaught exception. */
  cast(op: () => Promise<void> | void): void;
}

export function mailbox(): Mailbox {
  let tail: Promise<unknown> = Promise.resolve();
  const call = <T>(op: () => Promise<T> | T): Promise<T> => {
    const result = tail.then(op);
    tail = result.catch(() => undefined);
    return result;
  };
  return {
    call,
    cast: (op) => {
      call(op).catch(rethrowLater);
    },
  };
}

/** Surfaces an error outside the supervisor's own flow, so a bug is loud but never corrupts supervision. */
export function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}
