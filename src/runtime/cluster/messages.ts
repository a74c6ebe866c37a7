import type { SharedServices } from '../embedded-services.js';

/**
 * What the primary of `serve --workers` and its workers say to each other over the cluster's IPC
 * channel. Every message carries `aybiza`, so prom-client's own metrics requests on the same
 * channel are told apart.
 */
export type ClusterMessage =
  /** Worker → primary, once: its node is up and listening on the shared port. */
  | { aybiza: 'worker.ready'; telephonyUrl: string }
  /** Worker → primary: its node failed to start; the one line `serve` prints. */
  | { aybiza: 'worker.failed'; message: string }
  /** Primary → worker: drain (no new calls, active ones finish up to `drainTimeoutMs`) and exit. */
  | { aybiza: 'worker.shutdown' }
  /** Worker → primary → every other worker: let go of `callId` if it is held there suspended. */
  | { aybiza: 'release'; id: number; callId: string }
  /** The answer to `release`: `busy` when a worker still has the call's caller connected. */
  | { aybiza: 'released'; id: number; busy: boolean }
  /** Primary → worker, for `/readyz`. */
  | { aybiza: 'readiness'; id: number }
  | { aybiza: 'ready'; id: number; ready: boolean };

/** What a worker learns from its primary at fork, in the {@link WORKER_ENV} variable. */
export interface WorkerSetup {
  /** 1-based, stable across restarts of the same slot: logs name it. */
  index: number;
  services: SharedServices;
  metricsUrl: string;
}

/** Set by the primary in each worker's environment; its presence makes `serve` a worker. */
export const WORKER_ENV = 'AYBIZA_CLUSTER_WORKER';

export function isClusterMessage(value: unknown): value is ClusterMessage {
  return typeof value === 'object' && value !== null && typeof (value as { aybiza?: unknown }).aybiza === 'string';
}

/** An answer that did not come within this counts as `busy` (release) or not ready: a worker that slow is not to be raced. */
export const ANSWER_TIMEOUT_MS = 2_000;

/**
 * Requests with numbered answers over one channel: `ask` sends and resolves with the answer to its
 * id, or with `fallback` after {@link ANSWER_TIMEOUT_MS}; `answered` is fed every incoming message.
 */
export function numberedRequests<A extends ClusterMessage & { id: number }>() {
  let next = 0;
  const waiting = new Map<number, (answer: A | undefined) => void>();
  return {
    ask(send: (id: number) => unknown): Promise<A | undefined> {
      const id = next++;
      return new Promise((resolve) => {
        const timer = setTimeout(() => settle(undefined), ANSWER_TIMEOUT_MS);
        const settle = (answer: A | undefined) => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve(answer);
        };
        waiting.set(id, settle);
        try {
          send(id);
        } catch {
          settle(undefined); // the channel closed: the worker is gone
        }
      });
    },
    answered(message: A): void {
      waiting.get(message.id)?.(message);
    },
  };
}
