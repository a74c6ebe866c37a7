import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { LatencyHistogram } from '../src/load/latency.js';
import { benchCli, cpuMs, launch, rssKb, stop, type Launched } from './child-processes.js';

/**
 * Turn overhead of `serve` with N calls held at once, each doing a three-turn script against a
 * zero-latency emulator, beside a raw `ws` echo server answering the same frames on the same schedule
 * (the baseline: what any WebSocket server costs). All N calls are opened and held first (that is
 * where RSS per idle call is read); then every call takes a turn every BENCH_TURN_INTERVAL_MS
 * (default 5,000: a caller speaks every few seconds), first turns spread evenly over one interval,
 * so the offered load is N / interval turns per second. Server, emulator and echo run as their own
 * processes so RSS and CPU are the server's alone.
 *
 *   npx tsx bench/calls.ts [N...]        (default 100 1000 5000)
 *   BENCH_CPU_PROF=DIR                    also writes serve's CPU profile to DIR when it exits
 *   BENCH_SERVE_CLI=dist/src/cli.js       runs the compiled build (npm run build) instead of tsx
 */
const TURNS = 3;
const REPLY = 'Thanks for calling. We are open from nine to five.';
const OPEN_CONCURRENCY = 200;
const cli = benchCli;

interface Measured { turnP50: number; turnP99: number; failed: number; cpuMsPerTurn: number }

export async function run(counts = [100, 1_000, 5_000]): Promise<void> {
  const intervalMs = Number(process.env.BENCH_TURN_INTERVAL_MS ?? 5_000);
  const dir = mkdtempSync(join(tmpdir(), 'aybiza-bench-calls-'));
  const script = join(dir, 'zero.json');
  writeFileSync(script, JSON.stringify({ ttftMs: 0, tokensPerSecond: 1_000_000, rules: [{ reply: REPLY }] }));
  const emulator = await launch([cli, 'emulator', '--port', '0', '--script', script], {});
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  const server = await launch([...profile, cli, 'serve', '--port', '0', '--metrics-port', '0'], {
    AYBIZA_BEDROCK_MODE: 'emulator',
    AYBIZA_BEDROCK_ENDPOINT: emulator.ready.url as string,
    AYBIZA_MAX_CALLS: String(Math.max(...counts) * 2),
    // The bench measures N held calls, so it takes them all even while opening them loads the loop.
    AYBIZA_MAX_EVENT_LOOP_LAG_MS: '0',
    AYBIZA_DATA_DIR: join(dir, 'data'),
    AYBIZA_LOG_LEVEL: 'warn',
  });
  const echo = await launch([new URL(import.meta.url).pathname, '--echo'], {});
  try {
    process.stdout.write(`turn every ${intervalMs} ms per call; overhead = serve turn latency with a 0 ms model; echo = bare ws server\n`);
    process.stdout.write('calls  turns/s   serve p50/p99 ms     echo p50/p99 ms   p99 above echo  p99 ratio  serve CPU/turn  serve RSS/idle call\n');
    // Unmeasured first calls: JIT, lazily loaded SDK modules and the first model connection would
    // otherwise be the slowest turns of the smallest run.
    await drive(server, 50, 1_000);
    await drive(echo, 50, 1_000);
    for (const count of counts) {
      const served = await drive(server, count, intervalMs);
      const echoed = await drive(echo, count, intervalMs);
      const failed = served.failed + echoed.failed;
      process.stdout.write(
        `${String(count).padStart(5)}  ${String(Math.round((count * 1000) / intervalMs)).padStart(7)}   ${fmt(served.turnP50)} / ${fmt(served.turnP99)}   `
        + `${fmt(echoed.turnP50)} / ${fmt(echoed.turnP99)}   ${fmt(served.turnP99 - echoed.turnP99)} ms   `
        + `${(served.turnP99 / Math.max(echoed.turnP99, 0.001)).toFixed(1).padStart(7)}x   ${served.cpuMsPerTurn.toFixed(2).padStart(8)} ms   `
        + `${String(served.rssPerIdleCallKb).padStart(10)} KB${failed ? `   (${failed} failed)` : ''}\n`,
      );
    }
  } finally {
    for (const child of [echo, server, emulator]) await stop(child.process, 30_000);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Opens `count` calls and holds them (reading RSS growth per idle call), then runs the paced turns. */
async function drive(target: Launched, count: number, intervalMs: number): Promise<Measured & { rssPerIdleCallKb: number }> {
  const pid = target.process.pid!;
  const url = target.ready.telephony as string;
  const rssBefore = rssKb(pid);
  const sockets = await openCalls(url, count, `bench-${Date.now().toString(36)}`);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const rssPerIdleCallKb = Math.round((rssKb(pid) - rssBefore) / count);
  const histogram = new LatencyHistogram();
  let failed = count - sockets.length;
  const cpuBefore = cpuMs(pid);
  let turns = 0;
  await Promise.all(sockets.map(async (socket, index) => {
    try {
      let due = performance.now() + (index * intervalMs) / sockets.length;
      for (let turn = 0; turn < TURNS; turn += 1) {
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
        due += intervalMs;
        const sentAt = performance.now();
        socket.send(JSON.stringify({ type: 'transcript', text: 'When are you open?', final: true }));
        const says: Array<{ id: string }> = [];
        await nextFrame(socket, (frame) => {
          if (frame.type !== 'say') return false;
          if (says.length === 0) histogram.record(performance.now() - sentAt);
          says.push(frame as unknown as { id: string });
          return frame.last === true;
        });
        turns += 1;
        for (const say of says) socket.send(JSON.stringify({ type: 'played', id: say.id }));
      }
    } catch {
      failed += 1;
    }
  }));
  const cpuMsPerTurn = (cpuMs(pid) - cpuBefore) / Math.max(turns, 1);
  await closeCalls(sockets);
  return { turnP50: histogram.percentile(50), turnP99: histogram.percentile(99), failed, cpuMsPerTurn, rssPerIdleCallKb };
}

/** Opens calls at most OPEN_CONCURRENCY at a time (a burst of thousands of handshakes overflows the accept backlog). */
async function openCalls(url: string, count: number, prefix: string): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(OPEN_CONCURRENCY, count) }, async () => {
    while (next < count) {
      const index = next++;
      try {
        const socket = await open(url);
        socket.send(JSON.stringify({ type: 'start', callId: `${prefix}-${index}`, from: '+15550100000' }));
        await nextFrame(socket, (frame) => frame.type === 'ready');
        sockets.push(socket);
      } catch {
        // Counted as failed by the caller: fewer sockets than asked for.
      }
    }
  }));
  return sockets;
}

async function closeCalls(sockets: WebSocket[]): Promise<void> {
  for (const socket of sockets) if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'hangup' }));
  await Promise.all(sockets.map((socket) => new Promise((resolve) => {
    if (socket.readyState === WebSocket.CLOSED) return resolve(undefined);
    socket.once('close', resolve);
    setTimeout(() => socket.terminate(), 5_000).unref();
  })));
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

const fmt = (ms: number) => ms.toFixed(2).padStart(6);

/** The baseline: a bare `ws` server that answers each final transcript with one `say` of the same reply. */
function serveEcho(): void {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/v1/calls' });
  let says = 0;
  server.on('connection', (socket) => {
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { type: string; callId?: string };
      if (frame.type === 'start') socket.send(JSON.stringify({ type: 'ready', callId: frame.callId, protocol: 'aybiza.v1', resumed: false }));
      else if (frame.type === 'transcript') {
        says += 1;
        socket.send(JSON.stringify({ type: 'say', id: `s${says}`, turn: says, text: REPLY, last: true }));
      }
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
