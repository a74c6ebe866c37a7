import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import WebSocket, { WebSocketServer } from 'ws';
import { LatencyHistogram } from '../src/load/latency.js';

/**
 * Turn overhead of `serve` at N concurrent three-turn calls against a zero-latency emulator, beside
 * a raw `ws` echo server answering the same frames (the baseline: what any WebSocket server costs).
 * Server, emulator and echo run as their own processes so RSS is the server's alone.
 *
 *   npx tsx bench/calls.ts [N...]        (default 100 1000 5000)
 */
const TURNS = 3;
const REPLY = 'Thanks for calling. We are open from nine to five.';
const cli = new URL('../src/cli.ts', import.meta.url).pathname;

interface Measured { turnP50: number; turnP99: number; failed: number; rssPerIdleCallKb?: number }

export async function run(counts = [100, 1_000, 5_000]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'aybiza-bench-calls-'));
  const script = join(dir, 'zero.json');
  writeFileSync(script, JSON.stringify({ ttftMs: 0, tokensPerSecond: 1_000_000, rules: [{ reply: REPLY }] }));
  const emulator = await launch([cli, 'emulator', '--port', '0', '--script', script], {});
  // BENCH_CPU_PROF=DIR writes serve's CPU profile there when it exits (node --cpu-prof).
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  const server = await launch([...profile, cli, 'serve', '--port', '0', '--metrics-port', '0'], {
    AYBIZA_BEDROCK_MODE: 'emulator',
    AYBIZA_BEDROCK_ENDPOINT: emulator.ready.url as string,
    AYBIZA_MAX_CALLS: String(Math.max(...counts) * 2),
    AYBIZA_DATA_DIR: join(dir, 'data'),
    AYBIZA_LOG_LEVEL: 'warn',
  });
  const echo = await launch([new URL(import.meta.url).pathname, '--echo'], {});
  try {
    process.stdout.write('calls   server p50/p99 ms   echo p50/p99 ms   overhead p99 ratio   server RSS/idle call\n');
    for (const count of counts) {
      const idle = await idleRss(server, server.ready.telephony as string, count);
      const served = await drive(server.ready.telephony as string, count);
      const echoed = await drive(echo.ready.telephony as string, count);
      process.stdout.write(
        `${String(count).padStart(5)}   ${fmt(served.turnP50)} / ${fmt(served.turnP99)}      ${fmt(echoed.turnP50)} / ${fmt(echoed.turnP99)}    `
        + `${(served.turnP99 / Math.max(echoed.turnP99, 0.001)).toFixed(1).padStart(6)}x           ${idle} KB`
        + `${served.failed + echoed.failed ? `   (${served.failed + echoed.failed} failed)` : ''}\n`,
      );
    }
  } finally {
    for (const child of [echo, server, emulator]) await stop(child.process);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Opens `count` calls, waits for all to be ready, and reads how much the server grew per call. */
async function idleRss(server: Launched, url: string, count: number): Promise<number> {
  const before = rssKb(server.process.pid!);
  const sockets = await Promise.all(Array.from({ length: count }, async (_, index) => {
    const socket = await open(url);
    socket.send(JSON.stringify({ type: 'start', callId: `idle-${count}-${index}`, from: '+15550100000' }));
    await nextFrame(socket, (frame) => frame.type === 'ready');
    return socket;
  }));
  await new Promise((resolve) => setTimeout(resolve, 500));
  const after = rssKb(server.process.pid!);
  for (const socket of sockets) socket.send(JSON.stringify({ type: 'hangup' }));
  await Promise.all(sockets.map((socket) => new Promise((resolve) => {
    socket.once('close', resolve);
    setTimeout(() => socket.terminate(), 2_000);
  })));
  return Math.round((after - before) / count);
}

async function drive(url: string, count: number): Promise<Measured> {
  const histogram = new LatencyHistogram();
  let failed = 0;
  await Promise.all(Array.from({ length: count }, async (_, index) => {
    const socket = await open(url);
    try {
      socket.send(JSON.stringify({ type: 'start', callId: `bench-${Date.now()}-${index}`, from: '+15550100000' }));
      await nextFrame(socket, (frame) => frame.type === 'ready');
      for (let turn = 0; turn < TURNS; turn += 1) {
        const sentAt = performance.now();
        socket.send(JSON.stringify({ type: 'transcript', text: 'When are you open?', final: true }));
        const says: Array<{ id: string }> = [];
        await nextFrame(socket, (frame) => {
          if (frame.type !== 'say') return false;
          if (says.length === 0) histogram.record(performance.now() - sentAt);
          says.push(frame as unknown as { id: string });
          return frame.last === true;
        });
        for (const say of says) socket.send(JSON.stringify({ type: 'played', id: say.id }));
      }
      socket.send(JSON.stringify({ type: 'hangup' }));
    } catch {
      failed += 1;
    } finally {
      socket.close();
    }
  }));
  return { turnP50: histogram.percentile(50), turnP99: histogram.percentile(99), failed };
}

function open(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url, ['aybiza.v1']);
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

function nextFrame(socket: WebSocket, done: (frame: Record<string, unknown>) => boolean, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error('timeout')), timeoutMs);
    const onMessage = (data: WebSocket.RawData) => {
      if (done(JSON.parse(String(data)) as Record<string, unknown>)) finish();
    };
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.off('message', onMessage);
      if (error) reject(error);
      else resolve();
    };
    socket.on('message', onMessage);
  });
}

interface Launched { process: ChildProcess; ready: Record<string, unknown> }

/** Starts a child and waits for its one JSON `ready` line on stdout. */
function launch(args: string[], env: Record<string, string>): Promise<Launched> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const event = safeJson(line);
      if (typeof event?.event === 'string' && event.event.endsWith('.ready')) resolve({ process: child, ready: event });
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code} before it was ready`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

function rssKb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((entry) => entry.startsWith('VmRSS:'));
  return Number(line?.match(/\d+/)?.[0] ?? 0);
}

function safeJson(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const fmt = (ms: number) => ms.toFixed(2).padStart(6);

/** The baseline: a bare `ws` server that answers each final transcript with one `say` of the same reply. */
function serveEcho(): void {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/v1/calls' });
  let says = 0;
  server.on('connection', (socket) => {
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { type: string; callId?: string };
      if (frame.type === 'start') socket.send(JSON.stringify({ type: 'ready', callId: frame.callId, protocol: 'aybiza.v1', resumed: false }));
      else if (frame.type === 'transcript') socket.send(JSON.stringify({ type: 'say', id: `s${(says += 1)}`, turn: says, text: REPLY, last: true }));
      else if (frame.type === 'hangup') socket.close(1000, 'hangup');
    });
  });
  server.on('listening', () => {
    const { port } = server.address() as { port: number };
    process.stdout.write(`${JSON.stringify({ event: 'echo.ready', telephony: `ws://127.0.0.1:${port}/v1/calls` })}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

if (process.argv.includes('--echo')) serveEcho();
else if (import.meta.url === `file://${process.argv[1]}`) {
  const counts = process.argv.slice(2).map(Number).filter((n) => n > 0);
  await run(counts.length ? counts : undefined);
}
