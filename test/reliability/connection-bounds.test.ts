import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PROTOCOL } from '../../src/protocol/frames.js';
import { startReliabilityNode, type ReliabilityNode } from './reliability-node.js';

const closed = (socket: Socket | WebSocket) => new Promise<void>((resolve) => socket.once('close', () => resolve()));
const tcp = (url: string) => new Promise<Socket>((resolve, reject) => {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname, () => resolve(socket));
  socket.once('error', reject);
});
const opened = async (url: string, options: WebSocket.ClientOptions = {}) => {
  const ws = new WebSocket(url, PROTOCOL, options);
  ws.on('error', () => undefined);
  await new Promise((resolve) => ws.once('open', resolve));
  return ws;
};
const started = async (url: string, options: WebSocket.ClientOptions = {}) => {
  const ws = await opened(url, options);
  ws.send(JSON.stringify({ type: 'start' }));
  await new Promise<void>((resolve) => ws.on('message', (data) => {
    if (JSON.parse(String(data)).type === 'ready') resolve();
  }));
  return ws;
};

describe('no connection is held forever', () => {
  let test: ReliabilityNode;
  beforeAll(async () => {
    test = await startReliabilityNode({
      script: { ttftMs: 1, rules: [{ reply: 'Hello.' }] },
      config: { server: { handshakeTimeoutMs: 300, startTimeoutMs: 300, pingIntervalMs: 150, messageAssemblyTimeoutMs: 300, maxAssemblyBytes: 100_000 } },
    });
  });
  afterAll(async () => {
    await test?.close();
  });

  it('closes a silent TCP connection and a half-sent upgrade at the handshake deadline', async () => {
    const silent = await tcp(test.url);
    const halfSent = await tcp(test.url);
    halfSent.write('GET /v1/calls HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n');
    await Promise.all([closed(silent), closed(halfSent)]);
  });

  it('closes an upgraded socket that never sends start', async () => {
    const ws = await opened(test.url);
    await closed(ws);
  });

  it('finds a half-open peer by ping/pong and closes it, while a peer that answers stays', async () => {
    const deaf = await started(test.url, { autoPong: false });
    const alive = await started(test.url);
    await closed(deaf);
    expect(alive.readyState).toBe(WebSocket.OPEN);
    alive.close();
  });

  it('closes a socket holding an unfinished fragmented message past the assembly deadline', async () => {
    const ws = await started(test.url);
    ws.send('{"type":"transcript","text":"', { fin: false });
    await closed(ws);
  });
});

describe('connection caps', () => {
  let test: ReliabilityNode;
  beforeAll(async () => {
    test = await startReliabilityNode({ config: { server: { maxConnectionsPerAddress: 5, handshakeTimeoutMs: 60_000 } } });
  });
  afterAll(async () => {
    await test?.close();
  });

  it('refuses connections from one address past its cap and accepts again once one closes', async () => {
    const held = await Promise.all(Array.from({ length: 5 }, () => tcp(test.url)));
    const over = await tcp(test.url);
    await closed(over);
    expect(held.every((socket) => !socket.destroyed)).toBe(true);
    held[0]!.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const ws = await opened(test.url);
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
    for (const socket of held) socket.destroy();
  });

});

describe('the node-wide message assembly budget', () => {
  let test: ReliabilityNode;
  beforeAll(async () => {
    test = await startReliabilityNode({ config: { server: { messageAssemblyTimeoutMs: 60_000, maxAssemblyBytes: 100_000 } } });
  });
  afterAll(async () => {
    await test?.close();
  });

  it('closes the socket whose unfinished messages take the node past its assembly byte budget', async () => {
    const first = await started(test.url);
    const second = await started(test.url);
    const fragment = `{"type":"transcript","text":"${'a'.repeat(60_000)}`;
    first.send(fragment, { fin: false });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const secondClosed = closed(second);
    second.send(fragment, { fin: false });
    await secondClosed;
    expect(first.readyState).toBe(WebSocket.OPEN);
    first.terminate();
  });
});
