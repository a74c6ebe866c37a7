import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDurableHistory, type DurableHistory } from '../../src/memory/dynamo-history.js';
import { capturingLogger, startDynalite } from './memory-fixtures.js';

describe('DynamoDB durable history', () => {
  let dynamo: Awaited<ReturnType<typeof startDynalite>>;
  let history: DurableHistory;

  beforeAll(async () => {
    dynamo = await startDynalite();
    history = await openDurableHistory({ region: 'us-east-1', endpoint: dynamo.endpoint, tableName: 'history-known', localCredentials: true, log: capturingLogger().log });
  });
  afterAll(async () => {
    history.close();
    await dynamo.close();
  });

  it('tells whether a call id has anything stored, within the wait it is given', async () => {
    await history.write([{ kind: 'message', callId: 'stored', message: { seq: 1, ts: 1, role: 'user', content: [{ text: 'hello' }] } }]);
    expect(await history.known('stored', AbortSignal.timeout(5_000))).toBe(true);
    expect(await history.known('never-stored', AbortSignal.timeout(5_000))).toBe(false);
    expect(await history.known('stored')).toBe(true);
  });

  it('stops waiting for the answer once its signal aborts', async () => {
    const gaveUp = new AbortController();
    const check = history.known('stored', gaveUp.signal);
    gaveUp.abort(new Error('the start could not wait longer'));
    await expect(check).rejects.toThrow('the start could not wait longer');
    await expect(history.known('stored', AbortSignal.abort(new Error('already late')))).rejects.toThrow('already late');
  });

  it('finds a call by any item a used call keeps, and checks ids asked together in shared requests', async () => {
    const summary = { callId: 'ended-quietly', agent: 'a', startedAt: 1, endedAt: 2, outcome: 'hangup' as const, turns: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
    await history.write([
      { kind: 'grant', callId: 'claimed', grantJson: '{"state":"ended"}' },
      { kind: 'snapshot', callId: 'crashed', snapshotJson: '{}', ts: 1, expiresAtSeconds: 4_000_000_000 },
      { kind: 'summary', callId: 'ended-quietly', summary },
      { kind: 'call-record', callId: 'recorded', recordJson: '{}' },
      { kind: 'message', callId: 'before-grants', message: { seq: 1, ts: 1, role: 'user', content: [{ text: 'hi' }] } },
    ]);
    const used = ['claimed', 'crashed', 'ended-quietly', 'recorded', 'before-grants'];
    const unused = Array.from({ length: 40 }, (_, i) => `unused-${i}`);
    const before = dynamo.requests().length;
    const answers = await Promise.all([...used, ...unused].map((id) => history.known(id)));
    expect(answers).toEqual([...used.map(() => true), ...unused.map(() => false)]);
    // 45 ids at 20 per request: three BatchGetItems, not a Query per id.
    expect(dynamo.requests().slice(before)).toEqual(['BatchGetItem', 'BatchGetItem', 'BatchGetItem']);
  });
});
