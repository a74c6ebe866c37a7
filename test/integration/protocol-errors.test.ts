import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CallerClient } from './caller-client.js';
import { startTestNode, type TestNode } from './test-node.js';

let test: TestNode;

beforeAll(async () => {
  test = await startTestNode({ config: { server: { maxFrameBytes: 2_048, maxTranscriptChars: 100, framesPerSecond: 5 } } });
});

afterAll(async () => {
  await test?.close();
});

const errorFrame = (caller: CallerClient) => caller.next((f) => f.type === 'error');

describe('aybiza.v1 error codes', () => {
  it('bad_frame for text that is not JSON, for binary frames, and for a frame without type', async () => {
    const caller = await CallerClient.connect(test.url);
    caller.send('not json');
    expect(await errorFrame(caller)).toMatchObject({ code: 'bad_frame', fatal: false });
    caller.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await caller.next((f) => f.type === 'error' && caller.frames.filter((x) => x.type === 'error').length === 2)).toMatchObject({ code: 'bad_frame' });
    caller.send({ kind: 'start' });
    expect(await caller.next((f) => f.type === 'error' && f.message.includes('type'))).toMatchObject({ code: 'bad_frame' });
    caller.close();
  });

  it('not_started before start, unknown_type, bad_message naming the field, already_started', async () => {
    const caller = await CallerClient.connect(test.url);
    caller.send({ type: 'transcript', text: 'hi', final: true });
    expect(await errorFrame(caller)).toMatchObject({ code: 'not_started' });
    caller.send({ type: 'dance' });
    expect(await caller.next((f) => f.type === 'error' && f.code === 'unknown_type')).toEqual({ type: 'error', code: 'unknown_type', fatal: false, message: 'unknown frame type "dance"' });
    await caller.start({ callId: 'errors-1' });
    caller.send({ type: 'transcript', text: 42, final: true });
    const bad = await caller.next((f) => f.type === 'error' && f.code === 'bad_message');
    expect(bad).toMatchObject({ message: expect.stringContaining('text') });
    caller.send({ type: 'start' });
    expect(await caller.next((f) => f.type === 'error' && f.code === 'already_started')).toEqual({ type: 'error', code: 'already_started', fatal: false, message: 'this connection already has a call' });
    caller.close();
  });

  it('bad_message for an unknown agent, naming the agents this node serves', async () => {
    const caller = await CallerClient.connect(test.url);
    caller.send({ type: 'start', callId: 'errors-agent', agent: 'nobody' });
    expect(await errorFrame(caller)).toEqual({
      type: 'error', code: 'bad_message', fatal: false,
      message: `start: agent: unknown agent "nobody" — this node serves ${Object.keys(test.config.agents).map((name) => `"${name}"`).join(', ')}`,
    });
    caller.close();
  });

  it('too_large for an oversized frame or transcript, and the call goes on', async () => {
    const caller = await CallerClient.connect(test.url);
    await caller.start({ callId: 'errors-2' });
    caller.send({ type: 'transcript', text: 'x'.repeat(4_000), final: false });
    expect(await caller.next((f) => f.type === 'error' && f.code === 'too_large')).toMatchObject({ fatal: false });
    caller.send({ type: 'transcript', text: 'y'.repeat(200), final: true });
    expect(await caller.next((f) => f.type === 'error' && f.code === 'too_large' && f.message.includes('characters'))).toEqual({
      type: 'error', code: 'too_large', fatal: false, message: 'transcript.text has 200 characters; the limit is 100',
    });
    expect(caller.closedWith).toBeUndefined();
    caller.close();
  });

  it('closes with 1009 past the hard frame limit', async () => {
    const caller = await CallerClient.connect(test.url);
    caller.ws.send('z'.repeat(1_100_000));
    await caller.closed();
    expect(caller.closedWith?.code).toBe(1009);
  });

  it('rate_limited past the sustained frame rate', async () => {
    const caller = await CallerClient.connect(test.url);
    await caller.start({ callId: 'errors-3' });
    for (let i = 0; i < 30; i += 1) caller.send({ type: 'played', id: `nope-${i}` });
    expect(await caller.next((f) => f.type === 'error' && f.code === 'rate_limited')).toEqual({ type: 'error', code: 'rate_limited', fatal: false, message: 'more than 5 frames per second; frame dropped' });
    caller.close();
  });

  it('unknown_call when resuming a call that never was, call_busy while another connection owns it', async () => {
    const owner = await CallerClient.connect(test.url);
    const { resumeToken } = await owner.start({ callId: 'errors-busy' });
    const other = await CallerClient.connect(test.url);
    other.send({ type: 'start', callId: 'errors-busy', resume: true, resumeToken });
    expect(await errorFrame(other)).toMatchObject({ code: 'call_busy', fatal: false });
    const stranger = await CallerClient.connect(test.url);
    stranger.send({ type: 'start', callId: 'never-was', resume: true });
    expect(await errorFrame(stranger)).toMatchObject({ code: 'unknown_call' });
    for (const client of [owner, other, stranger]) client.close();
  });

  it('refuses an unknown path with 404 before the upgrade', async () => {
    const ws = new WebSocket(test.url.replace('/v1/calls', '/v2/other'));
    const status = await new Promise<number>((resolve) => ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(404);
  });
});

describe('authentication', () => {
  let secured: TestNode;
  beforeAll(async () => {
    secured = await startTestNode({ config: { server: { apiKeys: ['key-one-0123', 'key-two-0123'], host: '127.0.0.1' } } });
  });
  afterAll(async () => {
    await secured?.close();
  });

  it('refuses an upgrade without a key, or with a wrong one, with 401', async () => {
    await expect(CallerClient.connect(secured.url)).rejects.toThrow('401');
    await expect(CallerClient.connect(secured.url, { token: 'wrong' })).rejects.toThrow('401');
  });

  it('accepts a bearer key or a token query parameter', async () => {
    const byHeader = await CallerClient.connect(secured.url, { token: 'key-two-0123' });
    await byHeader.start();
    const byQuery = await CallerClient.connect(`${secured.url}?token=key-one-0123`);
    await byQuery.start();
    byHeader.close();
    byQuery.close();
  });
});
