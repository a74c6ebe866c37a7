import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { PROTOCOL } from '../../src/protocol/frames.js';
import { startReliabilityNode } from './reliability-node.js';

export interface ReapedKind {
  kind: string;
  /** The setting whose deadline closes it, and its value in this run. */
  deadline: string;
  opened: number;
  reaped: number;
  /** From the connection being open to the close the client saw, slowest of the kind. */
  slowestMs: number;
}

/** Read and discarded (flowing), so the client sees the server's close. */
const tcp = (port: number) => new Promise<Socket>((resolve, reject) => {
  const socket = connect(port, '127.0.0.1', () => resolve(socket.resume()));
  socket.once('error', reject);
});

const openWs = (url: string, options: WebSocket.ClientOptions = {}) => new Promise<WebSocket>((resolve, reject) => {
  const ws = new WebSocket(url, PROTOCOL, options);
  ws.once('open', () => resolve(ws));
  ws.once('error', reject);
});

/** Resolves with the milliseconds from `since` to the close, or -1 when it is still open after `boundMs`. */
const closedAfter = (target: Socket | WebSocket, since: number, boundMs: number) => new Promise<number>((resolve) => {
  const timer = setTimeout(() => resolve(-1), boundMs);
  target.once('close', () => {
    clearTimeout(timer);
    resolve(Date.now() - since);
  });
});

/**
 * `perKind` connections of each idle kind against a node with short deadlines: silent TCP, a
 * half-sent upgrade, an upgraded socket that never sends `start`, and a started call whose peer
 * stops answering pings. Counts those the node closed and how long each took (the time is measured
 * for the report, never asserted: tests assert the counts).
 */
export async function runIdleReaping(options: { perKind: number }): Promise<ReapedKind[]> {
  const server = { handshakeTimeoutMs: 500, startTimeoutMs: 500, pingIntervalMs: 250 };
  const test = await startReliabilityNode({ script: { ttftMs: 1, rules: [{ reply: 'Hello.' }] }, config: { server } });
  const port = Number(new URL(test.url).port);
  const boundMs = 10_000;
  const kinds: Array<{ kind: string; deadline: string; open: () => Promise<Socket | WebSocket> }> = [
    { kind: 'silent TCP connection', deadline: `handshakeTimeoutMs ${server.handshakeTimeoutMs}`, open: () => tcp(port) },
    {
      kind: 'half-sent upgrade', deadline: `handshakeTimeoutMs ${server.handshakeTimeoutMs}`,
      open: async () => {
        const socket = await tcp(port);
        socket.write('GET /v1/calls HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n');
        return socket;
      },
    },
    { kind: 'upgraded, never sends start', deadline: `startTimeoutMs ${server.startTimeoutMs}`, open: () => openWs(test.url) },
    {
      kind: 'started call, peer stops answering pings', deadline: `pingIntervalMs ${server.pingIntervalMs} (cut at the ping after an unanswered one)`,
      open: async () => {
        const ws = await openWs(test.url, { autoPong: false });
        ws.send(JSON.stringify({ type: 'start' }));
        await new Promise((resolve) => ws.once('message', resolve));
        return ws;
      },
    },
  ];
  try {
    const rows: ReapedKind[] = [];
    for (const { kind, deadline, open } of kinds) {
      const connections = await Promise.all(Array.from({ length: options.perKind }, async () => {
        const target = await open();
        target.on('error', () => undefined);
        return closedAfter(target, Date.now(), boundMs);
      }));
      const times = await Promise.all(connections);
      rows.push({ kind, deadline, opened: times.length, reaped: times.filter((ms) => ms >= 0).length, slowestMs: Math.max(...times) });
    }
    return rows;
  } finally {
    await test.close();
  }
}
