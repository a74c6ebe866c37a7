import { setImmediate as yieldToLoop } from 'node:timers/promises';

/** Blocks the event loop for `ms`, as a burst of synchronous work does. */
export function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy on purpose
  }
}

/**
 * Keeps the event loop saturated for `ms`: busy slices of `sliceMs`, with I/O and timers let through
 * between them, as a process with more work than one core can do behaves.
 */
export async function saturate(ms: number, sliceMs: number): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    spin(sliceMs);
    await yieldToLoop();
  }
}
