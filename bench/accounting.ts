import { monitorEventLoopDelay } from 'node:perf_hooks';
import { availableParallelism } from 'node:os';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { createAccounting } from '../src/accounting/accounting.js';
import estimateOnThisThread from '../src/accounting/token-worker.js';
import { trimToBudget } from '../src/accounting/trim.js';
import type { ChatMessage } from '../src/llm/messages.js';
import { createMetrics } from '../src/metrics/metrics.js';
import { longHistory } from '../test/accounting/history-fixture.js';

/**
 * Accounting on the main thread (the tokenizer in the event loop) against the piscina pool, at a
 * steady request rate: event-loop lag p99 (what audio frames feel) and the time a turn waits for
 * its trim (turn overhead). Every request carries a distinct history so no cache flatters a side.
 */
interface Row { mode: string; contextTokens: number; trims: number; lagP99Ms: number; waitP50Ms: number; waitP99Ms: number; fallbacks: number }

type Trim = (history: ChatMessage[]) => Promise<unknown>;

const REQUEST = { modelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0', contextTokens: 200_000, maxOutputTokens: 4_000, system: 'You answer phone calls for a dental clinic.', toolsJson: '[]' };

function distinctHistories(tokens: number, count: number): ChatMessage[][] {
  const base = longHistory(tokens);
  return Array.from({ length: count }, (_, i) => base.map((m) => ({
    role: m.role,
    content: m.content.map((b) => ('text' in b ? { text: `${b.text} [${i}]` } : b)),
  })));
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

async function drive(mode: string, trim: Trim, histories: ChatMessage[][], contextTokens: number, ratePerSecond: number, seconds: number, fallbacks: () => Promise<number>): Promise<Row> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const waits: number[] = [];
  const pending: Promise<void>[] = [];
  const total = ratePerSecond * seconds;
  const before = await fallbacks();
  delay.enable();
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / ratePerSecond;
    const idle = due - performance.now();
    await (idle > 0 ? sleep(idle) : nextTurn());
    const sent = performance.now();
    pending.push(trim(histories[i % histories.length] as ChatMessage[]).then(() => { waits.push(performance.now() - sent); }));
  }
  await Promise.all(pending);
  delay.disable();
  waits.sort((a, b) => a - b);
  return {
    mode, contextTokens, trims: total,
    lagP99Ms: delay.percentile(99) / 1e6,
    waitP50Ms: percentile(waits, 50), waitP99Ms: percentile(waits, 99),
    fallbacks: (await fallbacks()) - before,
  };
}

export async function run(): Promise<void> {
  const rate = 50;
  // One core stays with the event loop; more workers than cores would preempt it.
  const poolSize = Math.max(1, availableParallelism() - 1);
  const rows: Row[] = [];
  for (const [contextTokens, seconds] of [[20_000, 2], [150_000, 1]] as const) {
    const histories = distinctHistories(contextTokens, rate * seconds);
    const input = (history: ChatMessage[]) => ({ ...REQUEST, history });

    // Baseline: the same tokenizer and trim, run in the event loop.
    // Each trim runs in its own macrotask, as it would in a call's turn, so timers get their turn between trims.
    const mainThread: Trim = async (history) => {
      await nextTurn();
      return trimToBudget(history, estimateOnThisThread({ system: REQUEST.system, toolsJson: REQUEST.toolsJson, history }), REQUEST);
    };
    rows.push(await drive('main thread', mainThread, histories, contextTokens, rate, seconds, async () => 0));

    for (const [mode, trimTimeoutMs, queueMax] of [['pool, waits for estimate', 600_000, 10_000], ['pool, 250 ms timeout', 250, 16]] as const) {
      const metrics = createMetrics();
      const accounting = createAccounting({ poolSize, queueMax, trimTimeoutMs, metrics });
      await accounting.ready();
      const fallbacks = async () => (await metrics.trimFallbacks.get()).values.reduce((sum, v) => sum + v.value, 0);
      rows.push(await drive(mode, (history) => accounting.trimHistory(input(history)), histories, contextTokens, rate, seconds, fallbacks));
      await accounting.close();
    }
  }

  const fmt = (n: number) => n.toFixed(1).padStart(9);
  const ratio = (n: number) => n.toFixed(2).padStart(9);
  console.log(`accounting: ${rate} trims/s, pool of ${poolSize}; lag = event-loop delay p99, wait = trimHistory latency`);
  console.log(`${'mode'.padEnd(26)}${'context'.padStart(9)}${'trims'.padStart(7)}${'lag p99'.padStart(9)}${'× base'.padStart(9)}${'wait p50'.padStart(9)}${'wait p99'.padStart(9)}${'× base'.padStart(9)}${'fallbk'.padStart(8)}`);
  for (const row of rows) {
    const base = rows.find((r) => r.contextTokens === row.contextTokens && r.mode === 'main thread') as Row;
    console.log(`${row.mode.padEnd(26)}${String(row.contextTokens).padStart(9)}${String(row.trims).padStart(7)}${fmt(row.lagP99Ms)}${ratio(row.lagP99Ms / base.lagP99Ms)}${fmt(row.waitP50Ms)}${fmt(row.waitP99Ms)}${ratio(row.waitP99Ms / base.waitP99Ms)}${String(row.fallbacks).padStart(8)}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
