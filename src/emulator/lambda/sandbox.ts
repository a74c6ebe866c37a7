import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface SandboxRun {
  handlerFile: string;
  event: unknown;
  context: Record<string, unknown>;
  /** Wall clock: the child is killed (SIGKILL) when it runs longer. */
  timeoutMs: number;
  /** V8 old-space limit; a handler that allocates more dies as Lambda's out-of-memory does. */
  memoryMb: number;
  /** Kills the child when it fires (the emulator closing). */
  signal?: AbortSignal;
}

/** What Lambda's Node runtime reports for an exception the handler throws. */
export interface HandlerError { errorType: string; errorMessage: string; trace: string[] }

type RunnerReply = { started: true } | { ok: true; result: unknown } | { ok: false; error: HandlerError };

/** How long a child may take to boot and load its handler, outside the function's own timeout (Lambda's init phase). */
const INIT_TIMEOUT_MS = 10_000;

export type SandboxOutcome =
  | { kind: 'returned'; result: unknown; log: string }
  | { kind: 'threw'; error: HandlerError; log: string }
  | { kind: 'timeout'; log: string }
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null; log: string };

/** Bytes of the handler's stdout and stderr kept, as Lambda's `LogType: Tail` returns the last 4 KB. */
const LOG_TAIL_BYTES = 4096;

/**
 * A file shipped beside this module. Plain `.mjs` files are not compiled, so a build in `dist/src/`
 * finds them in the source tree.
 */
export function shippedFile(name: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const local = join(here, name);
  if (existsSync(local)) return local;
  return join(here.replace(`${sep}dist${sep}src${sep}`, `${sep}src${sep}`), name);
}

const RUNNER = shippedFile('sandbox-runner.mjs');

/**
 * Runs one invocation in a fresh `node` child: the permission model allows reading only the runner
 * and the handler and writing only a scratch directory (its cwd, removed afterwards), and refuses
 * child processes, workers, addons and native bindings; the runner disables the network modules;
 * code generation from strings is off. Nothing of the handler runs in the emulator's process.
 */
export async function runInSandbox(run: SandboxRun): Promise<SandboxOutcome> {
  const scratch = await mkdtemp(join(tmpdir(), 'aybiza-lambda-'));
  try {
    return await new Promise<SandboxOutcome>((resolve) => {
      const child = fork(RUNNER, [], {
        cwd: scratch,
        // Nothing of the emulator's environment (credentials included) reaches the handler.
        env: { TMPDIR: scratch, HOME: scratch, TZ: 'UTC', LANG: 'C.UTF-8' },
        execArgv: [
          '--experimental-permission',
          // One flag per path: Node 20.20 no longer reads a comma-separated list.
          ...[RUNNER, run.handlerFile, scratch].map((path) => `--allow-fs-read=${path}`),
          `--allow-fs-write=${scratch}`,
          '--disallow-code-generation-from-strings',
          `--max-old-space-size=${run.memoryMb}`,
          '--no-warnings',
        ],
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        serialization: 'json',
      });
      let log = Buffer.alloc(0);
      const keep = (chunk: Buffer) => {
        log = Buffer.concat([log, chunk]);
        if (log.length > LOG_TAIL_BYTES * 2) log = log.subarray(log.length - LOG_TAIL_BYTES);
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      const tail = () => log.subarray(Math.max(0, log.length - LOG_TAIL_BYTES)).toString('utf8');
      let settled: SandboxOutcome | undefined;
      const timeOut = () => {
        settled ??= { kind: 'timeout', log: '' };
        child.kill('SIGKILL');
      };
      // The function's timeout runs from the handler's start, as Lambda's does; booting has its own bound.
      let timer = setTimeout(timeOut, INIT_TIMEOUT_MS);
      const kill = () => child.kill('SIGKILL');
      run.signal?.addEventListener('abort', kill, { once: true });
      child.on('message', (message: RunnerReply) => {
        if ('started' in message) {
          clearTimeout(timer);
          timer = setTimeout(timeOut, run.timeoutMs);
          return;
        }
        settled ??= message.ok ? { kind: 'returned', result: message.result, log: '' } : { kind: 'threw', error: message.error, log: '' };
      });
      child.on('error', () => undefined);
      // 'close', not 'exit': the log pipes are drained by then.
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        run.signal?.removeEventListener('abort', kill);
        resolve({ ...(settled ?? { kind: 'exited', code, signal }), log: tail() });
      });
      child.send({ handlerFile: run.handlerFile, event: run.event, context: run.context });
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
