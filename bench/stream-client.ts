import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { BedrockRuntimeClient, ConverseStreamCommandInput } from '@aws-sdk/client-bedrock-runtime';
import { lastValueFrom, tap } from 'rxjs';
import { createBedrockClient, REQUEST_HANDLER_KINDS, type RequestHandlerKind } from '../src/llm/bedrock-client.js';
import { converseStream } from '../src/llm/converse-stream.js';
import { startEmulator } from '../src/emulator/server.js';
import { LatencyHistogram } from '../src/load/latency.js';

/**
 * The streaming client under N concurrent ConverseStream calls for each request handler: time to
 * first event, streams and text deltas per second, and client CPU per stream, as ratios against
 * HTTP/1.1 keep-alive measured in the same run. The emulator runs in its own process (unlimited
 * token speed, no TTFT) so the client's cost is not mixed with the server's.
 *
 *   npx tsx bench/stream-client.ts [N...]        (default 200 1000; figures from the median of 3 rounds)
 */
const BASELINE: RequestHandlerKind = 'http1';
const MODEL_ID = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';
/** About 60 tokens: a long spoken turn. */
const REPLY = 'Thanks for calling Harbor Dental. We are open Monday to Friday from eight to six, and on Saturday '
  + 'mornings from nine to one. I can book you an appointment, move an existing one, or look up your account. '
  + 'What would you like to do today?';
const SCRIPT = { ttftMs: 0, tokensPerSecond: 1_000_000, rules: [{ reply: REPLY }] };

interface Measured {
  ttfe: LatencyHistogram;
  wallMs: number;
  streams: number;
  deltas: number;
  failed: number;
  cpuUsPerStream: number;
  emulatorCpuUsPerStream: number;
}

const request = (callId: string): ConverseStreamCommandInput => ({
  modelId: MODEL_ID,
  messages: [{ role: 'user', content: [{ text: 'Tell me everything.' }] }],
  inferenceConfig: { maxTokens: 1024 },
  requestMetadata: { callId },
});

async function oneCall(client: BedrockRuntimeClient, callId: string, ttfe: LatencyHistogram): Promise<number> {
  const startedAt = performance.now();
  let deltas = 0;
  let events = 0;
  await lastValueFrom(
    converseStream(client, request(callId), { idleTimeoutMs: 30_000, firstEventTimeoutMs: 60_000 }).pipe(
      tap((event) => {
        if (events++ === 0) ttfe.record(performance.now() - startedAt);
        if (event.type === 'text') deltas += 1;
      }),
    ),
  );
  return deltas;
}

/** CPU time of another process on this (Linux) machine, from /proc. */
function processCpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1_000_000) / CLOCK_TICKS_PER_SECOND;
}
const CLOCK_TICKS_PER_SECOND = 100;

async function measure(emulator: BenchEmulator, handler: RequestHandlerKind, concurrency: number): Promise<Measured> {
  const { url } = emulator;
  const client = createBedrockClient({
    region: 'us-east-1', endpoint: url, credentials: 'emulator', handler, maxSockets: concurrency, maxAttempts: 1,
  });
  try {
    await Promise.all(Array.from({ length: 5 }, (_, i) => oneCall(client, `warm-${i}`, new LatencyHistogram())));
    const ttfe = new LatencyHistogram();
    const cpuBefore = process.cpuUsage();
    const emulatorCpuBefore = processCpuUs(emulator.process.pid!);
    const startedAt = performance.now();
    const results = await Promise.allSettled(
      Array.from({ length: concurrency }, (_, i) => oneCall(client, `${handler}-${concurrency}-${i}`, ttfe)),
    );
    const wallMs = performance.now() - startedAt;
    const cpu = process.cpuUsage(cpuBefore);
    const emulatorCpu = processCpuUs(emulator.process.pid!) - emulatorCpuBefore;
    const ok = results.filter((r): r is PromiseFulfilledResult<number> => r.status === 'fulfilled');
    return {
      ttfe,
      wallMs,
      streams: ok.length,
      deltas: ok.reduce((sum, r) => sum + r.value, 0),
      failed: results.length - ok.length,
      cpuUsPerStream: (cpu.user + cpu.system) / concurrency,
      emulatorCpuUsPerStream: emulatorCpu / concurrency,
    };
  } finally {
    client.destroy();
  }
}

/** Each figure is from the round with the median throughput of ROUNDS. */
const ROUNDS = 3;

function medianRun(runs: Measured[]): Measured {
  const sorted = [...runs].sort((a, b) => a.streams / a.wallMs - b.streams / b.wallMs);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const pad = (value: string, width: number) => value.padStart(width);
const ratio = (value: number, base: number) => (base > 0 ? `${(value / base).toFixed(2)}x` : 'n/a');

export async function run(counts = [200, 1_000]): Promise<void> {
  const emulator = await launchEmulatorProcess();
  try {
    const columns = ['handler', 'N', 'ttfe p50 ms', 'ttfe p99 ms', 'streams/s', 'deltas/s', 'client cpu µs/stream',
      'emulator cpu µs/stream', 'failed', 'ttfe p99 vs http1', 'streams/s vs http1', 'client cpu vs http1'];
    process.stdout.write(`${columns.map((name, i) => (i === 0 ? name.padEnd(11) : pad(name, name.length + 2))).join('')}\n`);
    for (const concurrency of counts) {
      const rounds = new Map<RequestHandlerKind, Measured[]>();
      // Rounds alternate the handlers so drift of the machine (JIT, page cache, other load) hits all of them alike.
      for (let round = 0; round < ROUNDS; round += 1) {
        for (const handler of [BASELINE, ...REQUEST_HANDLER_KINDS.filter((kind) => kind !== BASELINE)]) {
          rounds.set(handler, [...(rounds.get(handler) ?? []), await measure(emulator, handler, concurrency)]);
        }
      }
      const byHandler = new Map([...rounds].map(([handler, runs]) => [handler, medianRun(runs)]));
      const base = byHandler.get(BASELINE)!;
      for (const [handler, m] of byHandler) {
        const { p50, p99 } = m.ttfe.summary();
        const streamsPerS = m.streams / (m.wallMs / 1000);
        const baseStreamsPerS = base.streams / (base.wallMs / 1000);
        const cells = [
          String(concurrency), p50.toFixed(1), p99.toFixed(1), streamsPerS.toFixed(0), (m.deltas / (m.wallMs / 1000)).toFixed(0),
          m.cpuUsPerStream.toFixed(0), m.emulatorCpuUsPerStream.toFixed(0), String(m.failed),
          ratio(p99, base.ttfe.summary().p99), ratio(streamsPerS, baseStreamsPerS), ratio(m.cpuUsPerStream, base.cpuUsPerStream),
        ];
        process.stdout.write(`${handler.padEnd(11)}${cells.map((cell, i) => pad(cell, columns[i + 1]!.length + 2)).join('')}\n`);
      }
    }
  } finally {
    emulator.process.kill('SIGTERM');
  }
}

/** Starts this file with `--emulator` as a child process and waits for the URL it prints. */
interface BenchEmulator { url: string; process: ChildProcess }

async function launchEmulatorProcess(): Promise<BenchEmulator> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--emulator'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    const ready = JSON.parse(line) as { event?: string; url?: string };
    if (ready.event === 'emulator.ready' && ready.url) return { url: ready.url, process: child };
  }
  throw new Error('bench emulator exited before printing its URL');
}

async function serveEmulator(): Promise<void> {
  const emulator = await startEmulator({ script: SCRIPT });
  process.stdout.write(`${JSON.stringify({ event: 'emulator.ready', url: emulator.url })}\n`);
  process.on('SIGTERM', () => void emulator.close().then(() => process.exit(0)));
}

if (process.argv.includes('--emulator')) await serveEmulator();
else if (import.meta.url === `file://${process.argv[1]}`) {
  const counts = process.argv.slice(2).map(Number).filter((n) => n > 0);
  await run(counts.length ? counts : undefined);
}
