import { readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { PROTOCOL } from '../../src/protocol/frames.js';
import { CallerClient } from '../integration/caller-client.js';
import { scrapeMetric } from './reliability-node.js';
import { embeddedServe, eventually } from './serve-process.js';

/** Floods come from 127.0.0.1; the caller who checks the node still takes calls comes from here. */
const OTHER_CALLER = '127.0.0.2';

/** Of the `serve` process alone (the flood's clients run in another process). */
export interface ServeFigures {
  /** Entries of /proc/<pid>/fd (Linux). */
  descriptors: number;
  /** Its TCP connections on the calls port. */
  callsPortConnections: number;
  /** VmRSS of /proc/<pid>/status. */
  rssBytes: number;
  /** `nodejs_heap_size_used_bytes` + `nodejs_external_memory_bytes` of its /metrics (Buffers are external), right after a full GC. */
  heapAndBuffersBytes: number;
}

export interface StillServing {
  /** `/healthz` answered 200. */
  healthz: boolean;
  /** A call from another address started and its turn was answered. */
  newCall: boolean;
}

export interface ConnectionFloodOutcome {
  limits: { maxConnections: number; maxConnectionsPerAddress: number; maxAssemblyBytes: number };
  baseline: ServeFigures;
  tcp: {
    /** Idle TCP connections opened from one address. */
    opened: number;
    /** Still open once the node had answered them all. */
    accepted: number;
    /** Closed by the node at accept (over a cap). */
    refused: number;
    during: ServeFigures & StillServing;
    /** Once the flood's sockets are closed. */
    after: ServeFigures;
  };
  fragments: {
    /** Upgraded sockets that never send `start`, each sending fragments of one message it never finishes. */
    sockets: number;
    /** Payload bytes sent in those fragments, all sockets together. */
    bytesSent: number;
    /** Sockets the node closed for taking it past maxAssemblyBytes. */
    closed: number;
    /** Payload bytes the still-open sockets sent: what the node still holds of the flood. */
    heldBytes: number;
    during: ServeFigures & StillServing;
    /** Once the flood's sockets are closed. */
    after: ServeFigures;
  };
}

/**
 * A full garbage collection in the serve process through its inspector (`--inspect=127.0.0.1:0`),
 * so heap figures count what is still referenced, not garbage a collection would free.
 */
async function collectGarbage(inspectorUrl: string): Promise<void> {
  const ws = new WebSocket(inspectorUrl);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const done = new Promise((resolve) => ws.on('message', (data) => {
    if ((JSON.parse(String(data)) as { id?: number }).id === 1) resolve(undefined);
  }));
  ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
  await done;
  const closed = new Promise((resolve) => ws.once('close', resolve));
  ws.close();
  await closed; // its descriptor in the serve process is gone before the count
}

/**
 * TCP connections whose local port is the calls port, from /proc/net/tcp (Linux): the serve
 * process's side of each, in any state that holds a descriptor (not LISTEN 0A, not TIME_WAIT 06).
 */
function callsPortConnections(port: number): number {
  const local = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[1]?.endsWith(local) && fields[3] !== '0A' && fields[3] !== '06').length;
}

async function figuresOf(pid: number, port: number, metricsUrl: string, inspectorUrl: string): Promise<ServeFigures> {
  await collectGarbage(inspectorUrl);
  const descriptors = readdirSync(`/proc/${pid}/fd`).length;
  const rssKb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  const heap = await scrapeMetric(metricsUrl, 'nodejs_heap_size_used_bytes');
  const external = await scrapeMetric(metricsUrl, 'nodejs_external_memory_bytes');
  return { descriptors, callsPortConnections: callsPortConnections(port), rssBytes: rssKb * 1024, heapAndBuffersBytes: heap + external };
}

async function stillServing(url: string, metricsUrl: string): Promise<StillServing> {
  const healthz = await fetch(`${metricsUrl}/healthz`, { signal: AbortSignal.timeout(5_000) }).then((response) => response.status === 200, () => false);
  const newCall = await (async () => {
    const caller = await CallerClient.connect(url, { localAddress: OTHER_CALLER });
    await caller.start();
    const says = await caller.turn('Hello, are you open today?');
    caller.send({ type: 'hangup' });
    await caller.closed();
    return says.length > 0;
  })().catch(() => false);
  return { healthz, newCall };
}

/** A TCP connection that records when the node closes it. */
const tcp = (port: number) => new Promise<{ socket: Socket; closed: () => boolean }>((resolve, reject) => {
  let closed = false;
  const socket = connect(port, '127.0.0.1', () => resolve({ socket: socket.resume(), closed: () => closed }));
  socket.once('close', () => (closed = true));
  socket.on('error', reject); // a reset after connect is the node's refusal: the close records it
});

/** Waits until the socket is closed on both sides, so the count is the node's answer and not a race. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 500));

/**
 * A real `aybiza serve` (its own process, so /proc/<pid>/fd and VmRSS are the node's and not the
 * flood's) with caps small enough to reach: first `connections` idle TCP connections from one
 * address (more than `maxConnectionsPerAddress`), then `fragmentSockets` upgraded sockets that
 * never send `start`, each sending fragments of a ~960 KB message it never finishes, together
 * several times `maxAssemblyBytes`. During each flood: the node's descriptors and memory, `/healthz`,
 * and a new call from another address; after each, the same figures once the flood's sockets are gone.
 * Handshake, `start` and assembly deadlines are a minute, so only the caps close anything.
 */
export async function runConnectionFlood(options: {
  connections: number; maxConnectionsPerAddress: number; fragmentSockets: number; maxAssemblyBytes: number;
}): Promise<ConnectionFloodOutcome> {
  const limits = { maxConnections: options.maxConnectionsPerAddress * 2, maxConnectionsPerAddress: options.maxConnectionsPerAddress, maxAssemblyBytes: options.maxAssemblyBytes };
  const serve = embeddedServe('flood', { ...limits, handshakeTimeoutMs: 60_000, startTimeoutMs: 60_000, messageAssemblyTimeoutMs: 60_000 });
  try {
    const node = await serve.start({}, ['--inspect=127.0.0.1:0']);
    const inspectorUrl = /Debugger listening on (ws:\/\/\S+)/.exec(node.stderr())?.[1];
    if (!inspectorUrl) throw new Error(`serve printed no inspector address: ${node.stderr().slice(-500)}`);
    const pid = node.child.pid!;
    const port = Number(new URL(node.url).port);
    const figures = () => figuresOf(pid, port, node.metricsUrl, inspectorUrl);
    // A first call opens the node's own clients (Redis, DynamoDB, the emulator) before the baseline.
    await stillServing(node.url, node.metricsUrl);
    const baseline = await figures();
    const floodGone = () => eventually(() => callsPortConnections(port) === 0, 10_000);

    const flood = await Promise.all(Array.from({ length: options.connections }, () => tcp(port)));
    await settle();
    const refused = flood.filter((connection) => connection.closed()).length;
    const tcpDuring = { ...await figures(), ...await stillServing(node.url, node.metricsUrl) };
    for (const { socket } of flood) socket.destroy();
    await floodGone();
    const tcpAfter = await figures();

    const fragmentBytes = 60_000;
    // 16 fragments: 960 KB, below the 1 MiB hardMaxFrameBytes, so only the assembly budget closes a socket.
    const fragmentsPerSocket = 16;
    const sockets = await Promise.all(Array.from({ length: options.fragmentSockets }, () => new Promise<{ ws: WebSocket; sent: number }>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/calls`, PROTOCOL);
      ws.once('open', () => {
        ws.on('error', () => undefined); // the node's close of a socket over the budget
        resolve({ ws, sent: 0 });
      });
      ws.once('error', reject);
    })));
    const head = '{"type":"transcript","text":"';
    const first = head + 'a'.repeat(fragmentBytes - head.length);
    const rest = 'a'.repeat(fragmentBytes);
    let bytesSent = 0;
    for (let round = 0; round < fragmentsPerSocket; round += 1) {
      await Promise.all(sockets.filter(({ ws }) => ws.readyState === WebSocket.OPEN).map((entry) => new Promise<void>((resolve) => {
        entry.ws.send(round === 0 ? first : rest, { fin: false }, (error) => {
          if (!error) {
            entry.sent += fragmentBytes;
            bytesSent += fragmentBytes;
          }
          resolve();
        });
      })));
    }
    await settle();
    const open = sockets.filter(({ ws }) => ws.readyState === WebSocket.OPEN);
    const fragmentsDuring = { ...await figures(), ...await stillServing(node.url, node.metricsUrl) };
    for (const { ws } of sockets) ws.terminate();
    await floodGone();
    const fragmentsAfter = await figures();

    return {
      limits,
      baseline,
      tcp: { opened: flood.length, accepted: flood.length - refused, refused, during: tcpDuring, after: tcpAfter },
      fragments: {
        sockets: sockets.length,
        bytesSent,
        closed: sockets.length - open.length,
        heldBytes: open.reduce((sum, { sent }) => sum + sent, 0),
        during: fragmentsDuring,
        after: fragmentsAfter,
      },
    };
  } finally {
    await serve.close();
  }
}
