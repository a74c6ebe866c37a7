import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';

/** The processes the benches start (serve, the emulator, a baseline) and what /proc says of them. */
export interface Launched { process: ChildProcess; ready: Record<string, unknown> }

/**
 * The `aybiza` CLI the benches start their children with: the sources through tsx, or with
 * `BENCH_SERVE_CLI=dist/src/cli.js` (after `npm run build`) the compiled build, as `npm start` runs it.
 */
export const benchCli = process.env.BENCH_SERVE_CLI ?? new URL('../src/cli.ts', import.meta.url).pathname;

/** Node's arguments for a script: tsx's loader for TypeScript sources, none for the compiled build. */
export function nodeArgs(args: string[]): string[] {
  // The compiled build runs as `npm start` runs it, without tsx's resolve hooks (they made every
  // `require` on the request path cost a filesystem resolution); TypeScript sources need tsx.
  return args.some((arg) => arg.endsWith('.ts')) ? ['--import', 'tsx', ...args] : args;
}

/** Starts a child and waits for its one JSON `….ready` line on stdout; its other lines go to stderr. */
export function launch(args: string[], env: Record<string, string>): Promise<Launched> {
  const child = spawn(process.execPath, nodeArgs(args), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const event = safeJson(line);
      if (typeof event?.event === 'string' && event.event.endsWith('.ready')) resolve({ process: child, ready: event });
      // The children log warnings and errors only: worth seeing.
      else process.stderr.write(`${line}\n`);
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code} before it was ready`)));
  });
}

/** `launch`, stopping `started` (the run's children so far) when this one fails to become ready, so none is left behind. */
export async function launchAfter(started: ChildProcess[], args: string[], env: Record<string, string>): Promise<Launched> {
  try {
    return await launch(args, env);
  } catch (error) {
    for (const child of started) await stop(child);
    throw error;
  }
}

/** SIGTERM (serve drains), then SIGKILL if it has not exited after `graceMs`. */
export async function stop(child: ChildProcess, graceMs = 60_000): Promise<void> {
  // Killed by a signal (serve aborting in the allocator at 5,000 calls), a process has no exit code but a signal code; either way its `exit` has passed and will not come again.
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** The end of a capacity run: sampling stops, serve drains, the emulator stops, the run's directory goes. */
export async function endRun(run: { sampler: { stop(): Promise<void> }; server: ChildProcess; emulator: ChildProcess; dir: string }): Promise<void> {
  await run.sampler.stop();
  await stop(run.server);
  await stop(run.emulator);
  rmSync(run.dir, { recursive: true, force: true });
}

/** User + system CPU time of a process so far, from /proc (clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export function rssKb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((entry) => entry.startsWith('VmRSS:'));
  return Number(line?.match(/\d+/)?.[0] ?? 0);
}

/** A loopback port nothing listens on now, for a child whose port another child's config must name before it starts. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function safeJson(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
