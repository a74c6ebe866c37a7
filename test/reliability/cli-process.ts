import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ModelScript } from '../../src/emulator/script.js';

export interface ChildService {
  child: ChildProcess;
  /** The first JSON line the child printed on stdout. */
  ready: Record<string, unknown>;
  stderr(): string;
  /** Resolves with the first JSON line on stdout (logs included) whose `event` is `event`. */
  waitFor(event: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const REPO = new URL('../..', import.meta.url).pathname;

/** Runs `tsx src/cli.ts ...args` (after `nodeFlags`, e.g. `--inspect`) and resolves with the child once it printed its ready line. */
export async function startCli(args: string[], env: Record<string, string> = {}, readyEvent?: string, nodeFlags: string[] = []): Promise<ChildService> {
  // tsx as a loader, not as a launcher: signals must reach the server itself, not a wrapper process.
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', join(REPO, 'src/cli.ts'), ...args], {
    cwd: REPO,
    // These tests count on every call being taken; refusals under load have their own test.
    env: { ...process.env, AYBIZA_LOG_LEVEL: 'warn', AYBIZA_MAX_EVENT_LOOP_LAG_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })));
  const seen: Array<Record<string, unknown>> = [];
  let waiters: Array<(value: Record<string, unknown>) => boolean> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // not a JSON line: the child's own output
    }
    seen.push(value);
    waiters = waiters.filter((waiter) => !waiter(value));
  });
  const waitFor = (event: string | undefined, timeoutMs = 60_000) => new Promise<Record<string, unknown>>((resolve, reject) => {
    const earlier = seen.find((value) => event === undefined || value.event === event);
    if (earlier) return resolve(earlier);
    const timer = setTimeout(() => reject(new Error(`${args[0]}: no "${event}" within ${timeoutMs} ms: ${stderr.slice(-2000)}`)), timeoutMs);
    waiters.push((value) => {
      if (event !== undefined && value.event !== event) return false;
      clearTimeout(timer);
      resolve(value);
      return true;
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${args[0]} exited (${code ?? signal}) before "${event}": ${stderr.slice(-2000)}`));
    });
  });
  const ready = await waitFor(readyEvent);
  return { child, ready, stderr: () => stderr, waitFor, exited };
}

/** A Bedrock emulator in a process of its own, so a test can kill it and start it again on the same port. */
export async function startEmulatorProcess(script: ModelScript, dir: string, port = 0): Promise<ChildService & { url: string; port: number }> {
  const file = join(dir, 'emulator-script.json');
  writeFileSync(file, JSON.stringify(script));
  const service = await startCli(['emulator', '--port', String(port), '--script', file], {}, 'emulator.ready');
  return { ...service, url: String(service.ready.url), port: Number(service.ready.port) };
}

export async function stopChild(service: ChildService, signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill(signal);
  return service.exited;
}

/** Runs `tsx src/cli.ts ...args` to its end, for commands expected to stop on their own. */
export function runCliToExit(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli.ts'), ...args], {
    cwd: REPO,
    env: { ...process.env, AYBIZA_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}
