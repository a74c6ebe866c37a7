import { rethrowLater } from './mailbox.js';

/** Event names mapped to the arguments their listeners receive. */
export type EventMap<E> = { [K in keyof E]: unknown[] };

type Listener<A extends unknown[]> = (...args: A) => void;

export interface Listeners<E extends EventMap<E>> {
  /** Returns a function that removes the listener. */
  on<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void;
  emit<K extends keyof E>(event: K, ...args: E[K]): void;
}

/**
 * Typed listeners for a supervisor's events. A listener that throws does not stop the others nor
 * the supervisor emitting: its error is rethrown outside the supervisor's flow.
 */
export function listeners<E extends EventMap<E>>(): Listeners<E> {
  const registry: { [K in keyof E]?: Set<Listener<E[K]>> } = {};
  return {
    on: (event, listener) => {
      const set = registry[event] ?? new Set();
      registry[event] = set;
      set.add(listener);
      return () => set.delete(listener);
    },
    emit: (event, ...args) => {
      for (const listener of registry[event] ?? []) {
        try {
          listener(...args);
        } catch (error) {
          rethrowLater(error);
        }
      }
    },
  };
}
