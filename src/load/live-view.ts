import type { GroupProgress } from './client-group.js';

export interface LiveStats {
  progress: GroupProgress;
  total: number;
  p50: number;
  p99: number;
}

/**
 * Progress while a run goes on: a single redrawn line on a terminal, at most 4 times a second;
 * plain periodic lines otherwise, so CI logs stay readable.
 */
export function startLiveView(out: NodeJS.WritableStream & { isTTY?: boolean }, read: () => LiveStats): { stop(): void } {
  const tty = out.isTTY === true;
  const startedAt = performance.now();
  let lastTurns = 0;
  let lastAt = startedAt;
  const render = () => {
    const { progress, total, p50, p99 } = read();
    const now = performance.now();
    const turnsPerSecond = ((progress.turns - lastTurns) * 1000) / Math.max(1, now - lastAt);
    lastTurns = progress.turns;
    lastAt = now;
    const active = progress.started - progress.completed - progress.failed;
    const line = `[${((now - startedAt) / 1000).toFixed(0).padStart(4)} s] calls ${progress.started}/${total} started, ${active} active, `
      + `${progress.completed} completed, ${progress.failed} failed | ${turnsPerSecond.toFixed(0)} turns/s | turn p50 ${p50.toFixed(0)} ms p99 ${p99.toFixed(0)} ms`;
    out.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
  };
  const timer = setInterval(render, tty ? 250 : 5_000);
  return {
    stop: () => {
      clearInterval(timer);
      render();
      if (tty) out.write('\n');
    },
  };
}
