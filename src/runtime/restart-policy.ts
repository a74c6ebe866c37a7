import type { ChildSpec, ExitReason, RestartType } from './child.js';

/** Restart times are measured on this clock (OTP: monotonic time), so a wall-clock step never forgives or adds a restart. */
export const monotonicMs = (): number => performance.now();

/** More than `intensity` restarts within `periodMs` and the supervisor gives up. */
export interface RestartIntensity {
  intensity: number;
  periodMs: number;
}

/** OTP's restart table: permanent always, transient only after a crash, temporary never. */
export function restartsAfter(restart: RestartType, reason: ExitReason): boolean {
  switch (restart) {
    case 'permanent': return true;
    case 'transient': return reason.kind === 'crash';
    case 'temporary': return false;
  }
}

/** Why a child is being restarted, as an error for listeners: a permanent child that ends on its own is a fault too. */
export function restartCause(id: string, reason: ExitReason): Error {
  return reason.kind === 'crash' ? reason.error : new Error(`permanent child "${id}" exited (${reason.kind})`);
}

/**
 * Adds a restart at `now` to those still inside the period (OTP's add_restart). `exceeded` means
 * this restart is one more than the intensity allows: exactly `intensity` restarts pass.
 */
export function recordRestart(
  restarts: readonly number[], now: number, limits: RestartIntensity,
): { restarts: number[]; exceeded: boolean } {
  const recent = restarts.filter((at) => now - at < limits.periodMs);
  recent.push(now);
  return { restarts: recent, exceeded: recent.length > limits.intensity };
}

/** The wait before a restart, given how many restarts of the same child came before it in the period. */
export function backoffDelayMs(spec: Pick<ChildSpec<never>, 'backoffMs'>, earlierRestarts: number): number {
  if (!spec.backoffMs) return 0;
  return Math.min(spec.backoffMs.max, spec.backoffMs.initial * 2 ** earlierRestarts);
}

/** A back-off wait that a stop can cancel: `elapsed` is true when the time passed, false when cancelled. */
export interface PendingRestart {
  readonly elapsed: Promise<boolean>;
  cancel(): void;
}

export function waitBeforeRestart(delayMs: number): PendingRestart {
  let finish!: (elapsed: boolean) => void;
  const elapsed = new Promise<boolean>((resolve) => (finish = resolve));
  const timer = setTimeout(() => finish(true), delayMs);
  return {
    elapsed,
    cancel: () => {
      clearTimeout(timer);
      finish(false);
    },
  };
}
