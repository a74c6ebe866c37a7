import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isolation } from '../memory/memory-fixtures.js';
import { startCli, stopChild, type ChildService } from './cli-process.js';
import { tempDir } from './reliability-node.js';

/** A `serve` on embedded defaults (its own emulator and dynalite process) with a data dir and Redis prefix of its own. */
export interface EmbeddedServe {
  configFile: string;
  dataDir: string;
  start(env?: Record<string, string>, nodeFlags?: string[]): Promise<ChildService & { url: string; metricsUrl: string }>;
  close(): Promise<void>;
}

export function embeddedServe(name: string, server: Record<string, unknown> = {}): EmbeddedServe {
  const dir = tempDir(name);
  const isolated = isolation(name);
  const configFile = join(dir.dir, 'aybiza.json');
  writeFileSync(configFile, JSON.stringify({
    server: { port: 0, metricsPort: 0, resumeGraceMs: 60_000, drainTimeoutMs: 1_000, ...server },
    bedrock: { mode: 'emulator' },
    agents: { default: { systemPrompt: 'You answer.', tools: [], model: 'sonnet' } },
    memory: { hot: 'redis', keyPrefix: isolated.keyPrefix, durable: 'embedded', dataDir: isolated.dataDir },
    accounting: { poolSize: 1 },
    log: { level: 'info' },
  }));
  const started: ChildService[] = [];
  return {
    configFile,
    dataDir: isolated.dataDir,
    start: async (env = {}, nodeFlags = []) => {
      const serve = await startCli(['serve', '--config', configFile], { AYBIZA_LOG_LEVEL: 'info', ...env }, 'serve.ready', nodeFlags);
      started.push(serve);
      return { ...serve, url: String(serve.ready.telephony), metricsUrl: String(serve.ready.metrics) };
    },
    close: async () => {
      for (const serve of started) await stopChild(serve, 'SIGKILL');
      await isolated.cleanup();
      dir.remove();
    },
  };
}

/** The pids of the embedded dynalite processes a `serve` started (tsx adds an esbuild process beside them). */
export function dynalitePids(pid: number): number[] {
  let lines: string[];
  try {
    lines = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n');
  } catch {
    return []; // ps exits 1 when there are none
  }
  return lines.filter((line) => line.includes('dynalite-process')).map((line) => Number.parseInt(line, 10));
}

/** Polls until `check` holds; returns whether it did within `timeoutMs`. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await Promise.resolve().then(check).catch(() => false)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
