import { describe, expect, it } from 'vitest';
import { RequestLog, type EmulatorRequestRecord } from '../../src/emulator/request-log.js';

function record(id: string, callId?: string): EmulatorRequestRecord {
  return {
    id, modelId: 'anthropic.claude-haiku-4-5-20251001-v1:0', region: 'us-east-1', operation: 'ConverseStream',
    body: {}, status: 200, receivedAt: 0, aborted: false, ...(callId === undefined ? {} : { callId }),
  };
}

describe('the request log answers one call from its per-call index', () => {
  it('lists a call\'s records oldest first, and only that call\'s', () => {
    const log = new RequestLog(10);
    for (const [id, callId] of [['1', 'a'], ['2', 'b'], ['3', 'a'], ['4', undefined], ['5', 'a']] as const) log.add(record(id, callId));
    expect(log.list({ callId: 'a' }).map((entry) => entry.id)).toEqual(['1', '3', '5']);
    expect(log.list({ callId: 'c' })).toEqual([]);
    expect(log.list().map((entry) => entry.id)).toEqual(['1', '2', '3', '4', '5']);
  });

  it('forgets evicted records exactly as the whole log does', () => {
    const log = new RequestLog(3);
    const calls = ['a', 'b', 'a', 'a', undefined, 'b', 'a', 'c'];
    calls.forEach((callId, index) => log.add(record(String(index), callId)));
    for (const callId of ['a', 'b', 'c']) {
      expect(log.list({ callId }).map((entry) => entry.id)).toEqual(log.list().filter((entry) => entry.callId === callId).map((entry) => entry.id));
    }
    expect(log.list().map((entry) => entry.id)).toEqual(['5', '6', '7']);
  });

  it('hands out copies, so a reader cannot change the log', () => {
    const log = new RequestLog(2);
    log.add(record('1', 'a'));
    log.list({ callId: 'a' })[0]!.status = 500;
    expect(log.list({ callId: 'a' })[0]!.status).toBe(200);
  });
});
