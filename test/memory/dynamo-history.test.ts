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
});
