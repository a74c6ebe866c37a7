import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PROTOCOL } from '../../src/protocol/frames.js';
import { runConnectionFlood } from './connection-flood.js';
import { runIdleReaping } from './idle-reaping.js';
import { startReliabilityNode, type ReliabilityNode } from './reliability-node.js';

const closed = (socket: Socket | WebSocket) => new Promise<void>((resolve) => socket.once('close', () => resolve()));
/** The WebSocket close code and reason the client saw. */
const closedWith = (ws: WebSocket) => new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
/** Everything the server wrote to a raw TCP socket before closing it. */
const readUntilClosed = (socket: Socket) => new Promise<string>((resolve) => {
  let text = '';
  socket.on('data', (chunk) => (text += String(chunk)));
  socket.once('close', () => resolve(text));
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const until = async (condition: () => boolean) => {
  while (!condition()) await sleep(5);
};
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
const startedCall = async (url: string, options: WebSocket.ClientOptions = {}, start: Record<string, unknown> = {}) => {
  const ws = await opened(url, options);
  ws.send(JSON.stringify({ type: 'start', ...start }));
  const ready = await new Promise<Record<string, unknown>>((resolve) => ws.on('message', (data) => {
    const frame = JSON.parse(String(data)) as Record<string, unknown>;
    if (frame.type === 'ready' || frame.type === 'error') resolve(frame);
  }));
  return { ws, ready };
};
const started = async (url: string, options: WebSocket.ClientOptions = {}) => (await startedCall(url, options)).ws;

describe('no connection is held forever', () => {
  let test: ReliabilityNode;
  beforeAll(async () => {
    test = await startReliabilityNode({
      script: { ttftMs: 1, rules: [{ reply: 'Hello.' }] },
      config: { server: { handshakeTimeoutMs: 300, startTimeoutMs: 300, pingIntervalMs: 150, messageAssemblyTimeoutMs: 300, maxAssemblyBytes: 100_000, resumeGraceMs: 10_000 } },
    });
  });
  afterAll(async () => {
    await test?.close();
  });

  it('answers a silent TCP connection and a half-sent upgrade with 408 at the handshake deadline and closes them', async () => {
    const silent = await tcp(test.url);
    const halfSent = await tcp(test.url);
    halfSent.write('GET /v1/calls HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n');
    const timeout = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
    expect(await Promise.all([readUntilClosed(silent), readUntilClosed(halfSent)])).toEqual([timeout, timeout]);
  });

  it('answers the next request of a keep-alive HTTP connection older than the handshake deadline, and times out only an idle one', async () => {
    const socket = await tcp(test.url);
    const received: string[] = [];
    socket.on('data', (chunk) => received.push(String(chunk)));
    const request = 'GET /no-such-path HTTP/1.1\r\nHost: x\r\n\r\n';
    const answers = () => received.join('').split('HTTP/1.1 ').slice(1).map((answer) => answer.slice(0, 3));
    socket.write(request);
    await until(() => answers().length === 1);
    // Past the 300 ms deadline, counted from the last response, not from accept: still a webhook's connection.
    await sleep(200);
    socket.write(request);
    await until(() => answers().length === 2);
    await sleep(200);
    socket.write(request);
    await until(() => answers().length === 3);
    expect(answers()).toEqual(['404', '404', '404']);
    // Idle past the deadline after its last answer, the connection is timed out as a silent one is.
    await closed(socket);
    expect(answers()).toEqual(['404', '404', '404', '408']);
  });

  it('closes an upgraded socket that never sends start with 1008 and a reason naming the setting', async () => {
    const ws = await opened(test.url);
    expect(await closedWith(ws)).toEqual({ code: 1008, reason: 'start timeout: no "start" frame within server.startTimeoutMs' });
  });

  it('finds a half-open peer by ping/pong and cuts it (1006, no closing handshake), while a peer that answers stays', async () => {
    const deaf = await started(test.url, { autoPong: false });
    const alive = await started(test.url);
    expect((await closedWith(deaf)).code).toBe(1006);
    expect(alive.readyState).toBe(WebSocket.OPEN);
    alive.close();
  });

  it('frees the call of a peer cut by keepalive for a resume with its token', async () => {
    const callId = `keepalive-${Date.now()}`;
    const deaf = await startedCall(test.url, { autoPong: false }, { callId });
    await closed(deaf.ws);
    const again = await startedCall(test.url, {}, { callId, resume: true, resumeToken: deaf.ready.resumeToken });
    expect(again.ready).toMatchObject({ type: 'ready', callId, resumed: true });
    again.ws.close();
  });

  it('closes a socket holding an unfinished fragmented message past the assembly deadline', async () => {
    const ws = await started(test.url);
    ws.send('{"type":"transcript","text":"', { fin: false });
    await closed(ws);
  });
});

describe('idle connections of every kind, several at once (npm run reliability:report runs more)', () => {
  it('reaps every one of them', async () => {
    const rows = await runIdleReaping({ perKind: 5 });
    expect(rows.map(({ kind, opened, reaped }) => [kind, opened, reaped])).toEqual([
      ['silent TCP connection', 5, 5],
      ['half-sent upgrade', 5, 5],
      ['upgraded, never sends start', 5, 5],
      ['started call, peer stops answering pings', 5, 5],
    ]);
  }, 30_000);
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

describe('a serve process under connection floods (npm run reliability:report runs more)', () => {
  it('caps one address\'s idle connections, closes fragment senders past the byte budget, and answers /healthz and a new call meanwhile', async () => {
    const maxAssemblyBytes = 1_000_000;
    const { tcp, fragments } = await runConnectionFlood({ connections: 8, maxConnectionsPerAddress: 5, fragmentSockets: 4, maxAssemblyBytes });
    expect([tcp.opened, tcp.accepted, tcp.refused, tcp.during.callsPortConnections, tcp.after.callsPortConnections]).toEqual([8, 5, 3, 5, 0]);
    expect([tcp.during.healthz, tcp.during.newCall, fragments.during.healthz, fragments.during.newCall]).toEqual([true, true, true, true]);
    // 4 sockets × 960 KB against 1 MB: the sockets that took the node past it are closed, what stays open is within it.
    expect(fragments.closed).toBeGreaterThan(0);
    expect(fragments.heldBytes).toBeLessThanOrEqual(maxAssemblyBytes);
    expect(fragments.during.callsPortConnections).toBe(fragments.sockets - fragments.closed);
    expect(fragments.after.callsPortConnections).toBe(0);
  }, 60_000);
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

describe('per-key call limits: no key holder locks the node out', () => {
  const KEY_A = 'tenant-a-key-0123456789';
  const KEY_B = 'tenant-b-key-abcdefghij';
  let test: ReliabilityNode;
  beforeAll(async () => {
    test = await startReliabilityNode({
      script: { ttftMs: 1, rules: [{ reply: 'Hello.' }] },
      config: { server: { apiKeys: [KEY_A, KEY_B], host: '127.0.0.1', maxCalls: 10, maxCallsPerKey: 2, resumeGraceMs: 10_000 } },
    });
  });
  afterAll(async () => {
    await test?.close();
  });

  const withKey = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });
  const frames = (ws: WebSocket) => {
    const seen: Array<Record<string, unknown>> = [];
    ws.on('message', (data) => seen.push(JSON.parse(String(data)) as Record<string, unknown>));
    return seen;
  };

  it('refuses a key past maxCallsPerKey (suspended calls count) with too_many_calls, hangup and 1008, while another key still starts', async () => {
    const first = await startedCall(test.url, withKey(KEY_A));
    const second = await startedCall(test.url, withKey(KEY_A));
    // A dropped call still holds its place until it ends or its grace runs out.
    second.ws.terminate();
    await closed(second.ws);
    const over = await opened(test.url, withKey(KEY_A));
    const seen = frames(over);
    const overClosed = closedWith(over);
    over.send(JSON.stringify({ type: 'start' }));
    expect(await overClosed).toEqual({ code: 1008, reason: 'too_many_calls' });
    expect(seen).toEqual([
      { type: 'error', code: 'too_many_calls', fatal: true, message: 'this API key holds 2 calls, its limit (server.maxCallsPerKey); end one first' },
      { type: 'hangup', reason: 'too_many_calls' },
    ]);
    const other = await startedCall(test.url, withKey(KEY_B));
    expect(other.ready).toMatchObject({ type: 'ready', resumed: false });

    // Ending a call gives the key its place back.
    first.ws.send(JSON.stringify({ type: 'hangup' }));
    await closed(first.ws);
    const again = await startedCall(test.url, withKey(KEY_A));
    expect(again.ready).toMatchObject({ type: 'ready', resumed: false });
    for (const ws of [other.ws, again.ws]) ws.close();
  });
});

describe('without keys, all of loopback is one key', () => {
  let test: ReliabilityNode;
  beforeAll(async () => {
    test = await startReliabilityNode({ script: { ttftMs: 1, rules: [{ reply: 'Hello.' }] }, config: { server: { maxCalls: 10, maxCallsPerKey: 1 } } });
  });
  afterAll(async () => {
    await test?.close();
  });

  it('refuses the second loopback call at maxCallsPerKey 1', async () => {
    const first = await startedCall(test.url);
    expect(first.ready).toMatchObject({ type: 'ready' });
    const second = await startedCall(test.url);
    expect(second.ready).toMatchObject({ type: 'error', code: 'too_many_calls', fatal: true });
    first.ws.close();
    second.ws.close();
  });
});
