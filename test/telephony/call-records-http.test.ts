import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallRecord } from '../../src/records/call-record.js';
import { CallerClient } from '../integration/caller-client.js';
import { startTestNode, type TestNode } from '../integration/test-node.js';
import { assertSchema } from '../records/call-record-schema.js';

const KEY = 'operator-key-masked';
const FULL_KEY = 'operator-key-full-numbers';
const FROM = '+15551234567';
const HANDSHAKE_MS = 300;

const agents = {
  default: { systemPrompt: 'You are the receptionist.', tools: ['lookup_customer'], model: 'sonnet' },
  sickregion: { systemPrompt: 'You answer.', tools: [], model: 'sonnet' },
};
const scripts = {
  default: {
    rules: [
      { when: 'account', toolUse: { name: 'lookup_customer', input: { identifier: '{{from}}' } } },
      { after: 'lookup_customer', reply: 'I found your account. It is active.' },
      { reply: 'We are open from nine to five.' },
    ],
  },
  sickregion: { rules: [{ reply: 'The other region answers.' }], faults: { byRegion: { 'us-east-1': { notReadyRate: 1 } } } },
};

let test: TestNode;
let base: string;

beforeAll(async () => {
  // A short handshake deadline: an event stream must outlive it (calls upgrade well within it).
  test = await startTestNode({ scripts, config: { agents, server: { apiKeys: [KEY, FULL_KEY], unmaskedNumberKeys: [FULL_KEY], handshakeTimeoutMs: HANDSHAKE_MS } } });
  base = test.url.replace(/^ws/, 'http').replace(/\/v1\/calls$/, '');
});
afterAll(async () => {
  await test?.close();
});

const get = (path: string, key: string | null = KEY) =>
  fetch(`${base}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

/** Reads the record until `done` holds: the played acknowledgements reach it after the caller's last frame. */
async function recordWhen(callId: string, done: (record: CallRecord) => boolean, key = KEY): Promise<CallRecord> {
  for (;;) {
    const response = await get(`/v1/calls/${callId}`, key);
    if (response.status === 200) {
      const record = (await response.json()) as CallRecord;
      if (done(record)) return record;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function openCall(callId: string, fields: Record<string, unknown> = {}): Promise<CallerClient> {
  const caller = await CallerClient.connect(test.url, { token: KEY });
  await caller.start({ callId, from: FROM, to: '+15559876543', ...fields });
  return caller;
}

describe('GET /v1/calls/{id}', () => {
  it('describes an active call turn by turn: transcript, tool use, model rounds, said and heard, masked numbers', async () => {
    const caller = await openCall('records-active');
    await caller.turn('Can you check my account?');
    const record = await recordWhen('records-active', (r) => r.state === 'listening' && r.turns[0]?.heard !== '' && r.turns[0]?.playedMs !== undefined);
    assertSchema('CallRecord', record);
    expect(record).toMatchObject({ callId: 'records-active', agent: 'default', status: 'active', state: 'listening', from: '***4567', to: '***6543' });
    const [turn] = record.turns;
    expect(turn?.transcript).toBe('Can you check my account?');
    expect(turn?.tools).toEqual([expect.objectContaining({ round: 0, name: 'lookup_customer', outcome: 'success', input: { identifier: '***4567' } })]);
    expect(turn?.modelRequests.map((request) => [request.round, request.region, request.outcome, request.stopReason])).toEqual([
      [0, 'us-east-1', 'ok', 'tool_use'],
      [1, 'us-east-1', 'ok', 'end_turn'],
    ]);
    expect(turn?.heard).toContain('I found your account. It is active.');
    expect(turn?.said.every((chunk) => chunk.playedMs !== undefined)).toBe(true);
    // The timeline's marks in the order they happen.
    const [first, second] = turn!.modelRequests;
    expect(first!.requestMs).toBeLessThanOrEqual(first!.firstEventMs!);
    expect(first!.endMs!).toBeLessThanOrEqual(turn!.tools[0]!.endMs);
    expect(turn!.tools[0]!.endMs).toBeLessThanOrEqual(second!.requestMs);
    expect(second!.firstEventMs!).toBeLessThanOrEqual(second!.firstSentenceMs!);
    expect(turn!.firstSayMs!).toBeLessThanOrEqual(turn!.playedMs!);
    expect(record.usage.outputTokens).toBe(turn!.usage.outputTokens);
    expect(record.usage.outputTokens).toBeGreaterThan(0);
    expect(record.costUsd).toBeGreaterThan(0);
    caller.close();
  });

  it('shows the numbers in full to a key in server.unmaskedNumberKeys', async () => {
    const caller = await openCall('records-unmasked');
    await caller.turn('Can you check my account?');
    const record = await recordWhen('records-unmasked', (r) => r.turns[0]?.tools.length === 1, FULL_KEY);
    expect(record).toMatchObject({ from: FROM, to: '+15559876543' });
    expect(record.turns[0]?.tools[0]?.input).toEqual({ identifier: FROM });
    caller.close();
  });

  it('records a fallback hop with the model and region of each request', async () => {
    const caller = await openCall('records-fallback', { agent: 'sickregion' });
    await caller.turn('Hello');
    const record = await recordWhen('records-fallback', (r) => r.turns[0]?.modelRequests.at(-1)?.outcome === 'ok');
    assertSchema('CallRecord', record);
    const [turn] = record.turns;
    expect(turn?.fallbacks).toEqual([expect.objectContaining({ hop: 'region', from: expect.objectContaining({ region: 'us-east-1' }), to: expect.objectContaining({ region: 'us-west-2' }) })]);
    expect(turn?.modelRequests.map((request) => [request.region, request.outcome])).toEqual([['us-east-1', 'ModelNotReadyException'], ['us-west-2', 'ok']]);
    caller.close();
  });

  it('describes a finished call, from memory once its durable write lands', async () => {
    const caller = await openCall('records-finished');
    await caller.turn('What are your hours?');
    await recordWhen('records-finished', (r) => r.turns[0]?.playedMs !== undefined);
    caller.send({ type: 'hangup' });
    await caller.closed();
    const record = await recordWhen('records-finished', (r) => r.status === 'ended');
    assertSchema('CallRecord', record);
    expect(record).toMatchObject({ status: 'ended', state: 'ended', outcome: 'hangup', endReason: 'caller:hangup' });
    expect(record.turns[0]?.heard).toBe('We are open from nine to five.');
    let stored: unknown;
    while (stored === undefined) {
      stored = await test.node.memory.store.loadCallRecord('records-finished');
      if (stored === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assertSchema('CallRecord', stored);
    expect(stored).toMatchObject({ callId: 'records-finished', status: 'ended', from: FROM });
  });

  it('answers 404 for a call nobody knows, and 401 without a valid key', async () => {
    expect((await get('/v1/calls/never-was')).status).toBe(404);
    expect((await get('/v1/calls/never-was', null)).status).toBe(401);
    expect((await get('/v1/calls', 'not-a-key-at-all')).status).toBe(401);
    expect((await get('/v1/calls/records-active/events', null)).status).toBe(401);
    expect((await fetch(`${base}/v1/calls?token=${KEY}`)).status).toBe(200);
  });
});

describe('GET /v1/calls', () => {
  it('lists the active calls in pages, oldest first, numbers masked', async () => {
    const callers = [await openCall('records-page-1'), await openCall('records-page-2'), await openCall('records-page-3')];
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const response = await get(`/v1/calls?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      const page = (await response.json()) as { calls: Array<{ callId: string; from?: string }>; nextCursor: string | null };
      assertSchema('CallPage', page);
      expect(page.calls.length).toBeLessThanOrEqual(2);
      for (const call of page.calls) expect(call.from).toBe('***4567');
      seen.push(...page.calls.map((call) => call.callId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.filter((id) => id.startsWith('records-page-'))).toEqual(['records-page-1', 'records-page-2', 'records-page-3']);
    expect(new Set(seen).size).toBe(seen.length);
    for (const caller of callers) caller.close();
  });

  it('refuses a path that is no call id (malformed escapes, over 128 characters, other characters) with 400', async () => {
    for (const path of ['/v1/calls/%E0%A4%A', '/v1/calls/%E0%A4%A/events', `/v1/calls/${'a'.repeat(129)}`, '/v1/calls/a%20b']) {
      const response = await get(path);
      expect({ path, status: response.status, body: await response.json() }).toEqual({ path, status: 400, body: { error: 'call id: 1 to 128 letters, digits or . _ : - (as in the ready frame)' } });
    }
  });

  it('refuses a limit out of range and a cursor it did not give out', async () => {
    expect((await get('/v1/calls?limit=0')).status).toBe(400);
    expect((await get('/v1/calls?cursor=bogus')).status).toBe(400);
  });
});

describe('GET /v1/calls/{id}/events', () => {
  it('sends the record now and after each change, as server-sent events of the published schema', async () => {
    const caller = await openCall('records-events');
    const controller = new AbortController();
    const response = await fetch(`${base}/v1/calls/records-events/events?token=${KEY}`, { signal: controller.signal });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const events: Array<{ observation: string | null; record: CallRecord }> = [];
    let buffered = '';
    // Past the socket's handshake deadline: the stream is not a handshake and must stay open.
    await new Promise((resolve) => setTimeout(resolve, HANDSHAKE_MS * 2));
    void caller.turn('What are your hours?');
    while (!events.some((event) => event.observation === 'say')) {
      const { value } = await reader.read();
      buffered += value ?? '';
      const blocks = buffered.split('\n\n');
      buffered = blocks.pop() ?? '';
      for (const block of blocks) {
        const data = block.split('\n').find((line) => line.startsWith('data: '));
        if (data) events.push(JSON.parse(data.slice(6)));
      }
    }
    for (const event of events) assertSchema('RecordEvent', event);
    expect(events[0]?.observation).toBeNull();
    expect(events.map((event) => event.observation)).toEqual(expect.arrayContaining(['state', 'turn.started', 'model.request', 'say']));
    expect(events.at(-1)?.record.from).toBe('***4567');
    controller.abort();
    caller.close();
  });
});

describe('a finished call after a restart', () => {
  it('is read back from DynamoDB by the next node on the same data', async () => {
    const caller = await openCall('records-restart');
    await caller.turn('What are your hours?');
    await recordWhen('records-restart', (r) => r.turns[0]?.playedMs !== undefined);
    caller.send({ type: 'hangup' });
    await caller.closed();
    await recordWhen('records-restart', (r) => r.status === 'ended');
    // Shutdown flushes the write-behind queue; the data stays for the next node (removed by the first's close).
    await test.node.shutdown();
    const { dataDir, keyPrefix } = test.config.memory;
    const next = await startTestNode({ scripts, config: { agents, memory: { dataDir, keyPrefix }, server: { apiKeys: [KEY], unmaskedNumberKeys: [] } } });
    try {
      const response = await fetch(`${next.url.replace(/^ws/, 'http').replace(/\/v1\/calls$/, '')}/v1/calls/records-restart`, { headers: { authorization: `Bearer ${KEY}` } });
      expect(response.status).toBe(200);
      const record = (await response.json()) as CallRecord;
      assertSchema('CallRecord', record);
      expect(record).toMatchObject({ callId: 'records-restart', status: 'ended', outcome: 'hangup', from: '***4567' });
      expect(record.turns[0]?.heard).toBe('We are open from nine to five.');
    } finally {
      await next.node.shutdown();
    }
  });
});
