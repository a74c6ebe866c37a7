/**
 * Streams per second the Bedrock emulator sustains with the real SDK as client, per SDK request
 * handler, at several concurrency levels; 200-token answers at unlimited speed. The emulator runs
 * in a child process so its event-loop utilisation (ELU) and the client's are measured apart.
 * Baseline: the same bytes of text over raw HTTP/1.1 keep-alive, without event-stream framing
 * and without the SDK. Run: `npx tsx bench/emulator.ts` (levels: BENCH_EMULATOR_LEVELS=1,100,1000).
 */
import { BedrockRuntimeClient, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent, createServer, request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fork, type ChildProcess } from 'node:child_process';
import { startEmulator } from '../src/emulator/server.js';

const TOKENS = 200;
const REPLY = Array.from({ length: TOKENS }, () => 'word').join(' ');
const MODEL_ID = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const PACED_TOKENS_PER_SECOND = 80;

type ClientKind = 'baseline raw http/1.1' | 'sdk h2 session/request' | 'sdk h2 shared session' | 'sdk http/1.1 keep-alive';

interface Measurement {
  client: ClientKind;
  concurrency: number;
  streams: number;
  streamsPerSecond: number;
  serverElu: number;
  clientElu: number;
  /** Client thread busy time per stream: the SDK's per-request CPU cost, approximately. */
  clientBusyMsPerStream: number;
  failed: number;
}

const SERVER_ROLE = 'AYBIZA_BENCH_EMULATOR_SERVER';

/** The server side, in a child process: the emulator and the unframed baseline server, answering ELU queries. */
async function serveInChild(): Promise<void> {
  const emulator = await startEmulator({
    script: { ttftMs: 0, tokensPerSecond: 1e9, rules: [{ reply: REPLY }] },
    scripts: { paced: { ttftMs: 0, tokensPerSecond: PACED_TOKENS_PER_SECOND, rules: [{ reply: REPLY }] } },
    requestLogSize: 1_000,
  });
  const pieces = REPLY.match(/\s*\S{1,4}|\s+$/g) ?? [];
  const baseline = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      if (request.url !== '/paced') return response.end(pieces.join(''));
      // The same pacing as the emulator (one timer per piece), without framing or any model logic.
      let next = 0;
      const step = () => {
        response.write(pieces[next++]!);
        if (next < pieces.length) setTimeout(step, 1_000 / PACED_TOKENS_PER_SECOND);
        else response.end();
      };
      setTimeout(step, 0);
    });
  });
  baseline.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => baseline.listen(0, '127.0.0.1', resolve));
  let mark = performance.eventLoopUtilization();
  process.on('message', (message: string) => {
    if (message === 'mark') mark = performance.eventLoopUtilization();
    if (message === 'elu') process.send!({ elu: performance.eventLoopUtilization(mark).utilization });
    if (message === 'stop') process.exit(0);
  });
  process.send!({ emulatorUrl: emulator.url, baselinePort: (baseline.address() as AddressInfo).port });
}

function sdkClientOf(kind: ClientKind, url: string, concurrency: number): BedrockRuntimeClient {
  const handler = kind === 'sdk h2 shared session'
    ? { requestHandler: new NodeHttp2Handler({ disableConcurrentStreams: false }) }
    : kind === 'sdk http/1.1 keep-alive'
      ? { requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: Math.max(50, concurrency) }) }) }
      : {};
  return new BedrockRuntimeClient({
    endpoint: url, region: 'us-east-1', maxAttempts: 1,
    credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' }, ...handler,
  });
}

type OneStream = () => Promise<void>;

function sdkStream(client: BedrockRuntimeClient): OneStream {
  const input = { modelId: MODEL_ID, messages: [{ role: 'user' as const, content: [{ text: 'Tell me everything.' }] }] };
  return async () => {
    const output = await client.send(new ConverseStreamCommand(input));
    let chars = 0;
    for await (const event of output.stream ?? []) chars += event.contentBlockDelta?.delta?.text?.length ?? 0;
    if (chars !== REPLY.length) throw new Error(`stream delivered ${chars} of ${REPLY.length} characters`);
  };
}

function rawStream(port: number, agent: Agent, path = '/', expectedBytes = REPLY.length): OneStream {
  const body = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'Tell me everything.' }] }], requestMetadata: { agent: 'paced' } });
  return () => new Promise<void>((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, method: 'POST', path, agent, headers: { 'content-type': 'application/json' } }, (response) => {
      let bytes = 0;
      response.on('data', (chunk: Buffer) => { bytes += chunk.length; });
      response.on('end', () => (bytes >= expectedBytes ? resolve() : reject(new Error(`raw stream delivered ${bytes} bytes`))));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}

async function measure(
  server: ChildProcess,
  client: ClientKind,
  concurrency: number,
  stream: OneStream,
): Promise<Measurement> {
  const streams = Math.max(200, concurrency * 2);
  await runStreams(stream, concurrency, Math.min(streams, Math.max(20, concurrency)));
  const failures = { count: 0 };
  server.send('mark');
  const clientMark = performance.eventLoopUtilization();
  const started = performance.now();
  await runStreams(stream, concurrency, streams, failures);
  const seconds = (performance.now() - started) / 1_000;
  const clientElu = performance.eventLoopUtilization(clientMark).utilization;
  const serverElu = await new Promise<number>((resolve) => {
    server.once('message', (message: { elu: number }) => resolve(message.elu));
    server.send('elu');
  });
  return {
    client, concurrency, streams,
    streamsPerSecond: streams / seconds,
    serverElu, clientElu,
    clientBusyMsPerStream: (clientElu * seconds * 1_000) / streams,
    failed: failures.count,
  };
}

/** `total` streams, at most `concurrency` at a time; failures are counted, not thrown, so one reset does not end the run. */
async function runStreams(stream: OneStream, concurrency: number, total: number, failures = { count: 0 }): Promise<void> {
  let started = 0;
  const lane = async () => {
    while (started < total) {
      started += 1;
      await stream().catch(() => { failures.count += 1; });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, lane));
}

const LEVELS = (process.env.BENCH_EMULATOR_LEVELS ?? '1,100,1000,2000').split(',').map(Number);
const PACED_LEVELS = (process.env.BENCH_EMULATOR_PACED_LEVELS ?? '500,2000').split(',').map(Number);

interface PacedMeasurement {
  server: 'baseline raw http/1.1 paced' | 'emulator paced';
  concurrency: number;
  seconds: number;
  serverElu: number;
}

/** All streams at once at the scripted speed: what the emulator costs while holding many slow streams open. */
async function measurePaced(server: ChildProcess, kind: PacedMeasurement['server'], concurrency: number, stream: OneStream): Promise<PacedMeasurement> {
  server.send('mark');
  const started = performance.now();
  await runStreams(stream, concurrency, concurrency);
  const seconds = (performance.now() - started) / 1_000;
  const serverElu = await new Promise<number>((resolve) => {
    server.once('message', (message: { elu: number }) => resolve(message.elu));
    server.send('elu');
  });
  return { server: kind, concurrency, seconds, serverElu };
}

export async function run(): Promise<void> {
  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const server = fork(fileURLToPath(import.meta.url), [], { execArgv: ['--import', tsxLoader], env: { ...process.env, [SERVER_ROLE]: '1' }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const { emulatorUrl, baselinePort } = await new Promise<{ emulatorUrl: string; baselinePort: number }>((resolve, reject) => {
    server.once('message', resolve);
    server.once('error', reject);
  });
  const rows: Measurement[] = [];
  const paced: PacedMeasurement[] = [];
  try {
    for (const concurrency of PACED_LEVELS) {
      const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
      const emulatorPort = Number(new URL(emulatorUrl).port);
      paced.push(await measurePaced(server, 'baseline raw http/1.1 paced', concurrency, rawStream(baselinePort, agent, '/paced')));
      paced.push(await measurePaced(server, 'emulator paced', concurrency, rawStream(emulatorPort, agent, `/model/${encodeURIComponent(MODEL_ID)}/converse-stream`)));
      agent.destroy();
    }
    for (const concurrency of LEVELS) {
      const rawAgent = new Agent({ keepAlive: true, maxSockets: Math.max(50, concurrency) });
      const baseline = await measure(server, 'baseline raw http/1.1', concurrency, rawStream(baselinePort, rawAgent));
      rawAgent.destroy();
      rows.push(baseline);
      for (const kind of ['sdk h2 session/request', 'sdk h2 shared session', 'sdk http/1.1 keep-alive'] as const) {
        const client = sdkClientOf(kind, emulatorUrl, concurrency);
        rows.push(await measure(server, kind, concurrency, sdkStream(client)));
        client.destroy();
      }
    }
  } finally {
    server.send('stop');
  }
  printTable(rows);
  printPaced(paced);
}

function printPaced(rows: PacedMeasurement[]): void {
  console.log(`\nheld open: N concurrent ${TOKENS}-token streams at ${PACED_TOKENS_PER_SECOND} tokens/s over raw HTTP/1.1 (no SDK); server ELU vs the same pacing without framing`);
  console.log(['concurrency', 'server'.padEnd(28), 'seconds', 'server ELU', 'x baseline'].map((h, i) => (i === 0 ? h.padEnd(11) : h.padStart(i === 1 ? 28 : 12))).join(' '));
  for (const row of rows) {
    const base = rows.find((candidate) => candidate.concurrency === row.concurrency && candidate.server !== 'emulator paced')!;
    console.log([
      String(row.concurrency).padEnd(11), row.server.padEnd(28), row.seconds.toFixed(2).padStart(12),
      row.serverElu.toFixed(3).padStart(12), (row.serverElu / base.serverElu).toFixed(2).padStart(12),
    ].join(' '));
  }
}

function printTable(rows: Measurement[]): void {
  const baselineOf = (row: Measurement) => rows.find((candidate) => candidate.concurrency === row.concurrency && candidate.client === 'baseline raw http/1.1')!;
  console.log(`emulator: ${TOKENS}-token streams at unlimited speed; ratios against the unframed raw HTTP/1.1 baseline at the same concurrency`);
  console.log(['concurrency', 'client', 'streams', 'streams/s', 'x baseline', 'server ELU', 'ELU/stream x base', 'client ms/stream', 'failed'].map((h, i) => (i < 2 ? h.padEnd(i ? 26 : 11) : h.padStart(12))).join(' '));
  for (const row of rows) {
    const base = baselineOf(row);
    const eluPerStream = row.serverElu / row.streamsPerSecond;
    const baseEluPerStream = base.serverElu / base.streamsPerSecond;
    console.log([
      String(row.concurrency).padEnd(11),
      row.client.padEnd(26),
      String(row.streams).padStart(12),
      row.streamsPerSecond.toFixed(0).padStart(12),
      (row.streamsPerSecond / base.streamsPerSecond).toFixed(2).padStart(12),
      row.serverElu.toFixed(2).padStart(12),
      (eluPerStream / baseEluPerStream).toFixed(2).padStart(12),
      row.clientBusyMsPerStream.toFixed(3).padStart(12),
      String(row.failed).padStart(12),
    ].join(' '));
  }
}

if (process.env[SERVER_ROLE]) {
  void serveInChild();
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  void run();
}
