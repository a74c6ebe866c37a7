import type { ChildHandle, ExitReason } from './child.js';

/**
 * What a child hands to the children after it: set when the child started, emptied as soon as it
 * stops or fails, so a later child started afterwards never gets a closed one.
 */
export interface Provided<T> {
  /** Publishes `value` and returns the child's handle; `exited` is a crash when `failed` settles first. */
  provide(value: T, close: () => Promise<void>, failed?: Promise<Error>): ChildHandle;
  /** The running value; throws when the child providing it is not running. */
  get(): T;
  current(): T | undefined;
}

export function provided<T>(name: string): Provided<T> {
  let value: T | undefined;
  return {
    provide(started, close, failed) {
      value = started;
      let settle!: (reason: ExitReason) => void;
      const exited = new Promise<ExitReason>((resolve) => (settle = resolve));
      let stopping = false;
      void failed?.then(async (error) => {
        if (stopping) return;
        stopping = true;
        if (value === started) value = undefined;
        // Release what still works (sockets, connections, the journal) before the restart opens it again.
        await close().catch(() => undefined);
        settle({ kind: 'crash', error });
      });
      return {
        exited,
        stop: async () => {
          if (stopping) return;
          stopping = true;
          if (value === started) value = undefined;
          await close();
          settle({ kind: 'shutdown' });
        },
      };
    },
    get() {
      if (value === undefined) throw new Error(`${name} is not running`);
      return value;
    },
    current: () => value,
  };
}

/** The same cell, calling `note` with each value it provides: for what must outlive a restart's gap (an endpoint). */
export function noting<T>(cell: Provided<T>, note: (value: T) => void): Provided<T> {
  return {
    ...cell,
    provide: (value, close, failed) => {
      note(value);
      return cell.provide(value, close, failed);
    },
  };
}
