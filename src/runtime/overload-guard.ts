import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** Decides whether a node can take one more call. */
export interface OverloadGuard {
  /** Why a new call should be refused now, or undefined when the node has room for it. */
  refusal(): string | undefined;
  stop(): void;
}

export interface EventLoopGuardOptions {
  /** Median event-loop delay over a window past which new calls are refused; 0 turns the guard off. */
  maxLagMs: number;
  /** How long each measured window is. Default 2,000 ms. */
  windowMs?: number;
  /** Where the loop's delays are sampled; the default samples this process every 10 ms. Tests pass recorded samples. */
  delays?: EventLoopDelays;
}

/** The part of `monitorEventLoopDelay`'s histogram the guard reads (nanoseconds). */
export type EventLoopDelays = Pick<IntervalHistogram, 'enable' | 'disable' | 'reset' | 'percentile' | 'count'>;

/** The sampling period of the default delay histogram; a sample this long is on time. */
export const SAMPLE_PERIOD_MS = 10;

/**
 * Refuses new calls while the event loop is saturated. `maxCalls` alone cannot tell: past what one
 * process can serve, every accepted call makes every held call's turns later (at 200 turns/s on
 * one core the bench's p99 went from tens of ms to seconds), so the node should say `overloaded`
 * to the next caller instead. The median of a window is the signal, not its maximum: one garbage
 * collection or lazy module load stalls the loop once, a saturated loop is late on most samples.
 * Two-second windows, because a cold node's first second of traffic (modules loading, code not yet
 * optimised) kept a 1 s window's median 161 ms late and refused 13 calls of a run it then served
 * at 76 % of a core (bench/capacity.ts, CAPACITY_HOLD=0 CAPACITY_OPEN_RATE=200, 4,000 calls).
 */
export function eventLoopGuard(options: EventLoopGuardOptions): OverloadGuard {
  if (!Number.isFinite(options.maxLagMs) || options.maxLagMs < 0) {
    throw new RangeError(`eventLoopGuard: maxLagMs must be 0 (off) or more, got ${options.maxLagMs}`);
  }
  if (options.maxLagMs === 0) return { refusal: () => undefined, stop: () => undefined };
  const windowMs = options.windowMs ?? 2_000;
  const delays = options.delays ?? monitorEventLoopDelay({ resolution: SAMPLE_PERIOD_MS });
  delays.enable();
  let lateMs = 0;
  const timer = setInterval(() => {
    // A sample is the time between two timer ticks; the tick period itself is not lateness.
    lateMs = delays.count > 0 ? Math.max(0, delays.percentile(50) / 1e6 - SAMPLE_PERIOD_MS) : 0;
    delays.reset();
  }, windowMs);
  timer.unref();
  return {
    refusal: () => lateMs > options.maxLagMs
      ? `the runtime is overloaded: its event loop ran ${Math.round(lateMs)} ms late (median of the last ${windowMs} ms; limit ${options.maxLagMs} ms); try again later`
      : undefined,
    stop: () => {
      clearInterval(timer);
      delays.disable();
    },
  };
}
