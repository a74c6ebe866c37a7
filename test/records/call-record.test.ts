import { describe, expect, it } from 'vitest';
import { emptyUsage } from '../../src/llm/messages.js';
import { createCallRecords, maskNumbers } from '../../src/records/call-records.js';
import { assertSchema } from './call-record-schema.js';

const T0 = Date.UTC(2026, 11, 3, 12, 0, 0);
const target = { modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' };

describe('a call record folded from observations', () => {
  it('times each step of a turn from the caller’s final words, and keeps what was said and heard', () => {
    const persisted: unknown[] = [];
    const records = createCallRecords({ persist: (record) => void persisted.push(record) });
    const seen: string[] = [];
    records.observe('c1', { type: 'call.started', at: T0, agent: 'default', from: '+15551234567', resumed: false });
    records.subscribe('c1', (observation) => void seen.push(observation.type));
    records.observe('c1', { type: 'state', at: T0 + 1, state: 'listening' });
    records.observe('c1', { type: 'turn.started', at: T0 + 100, turn: 1, words: 'Hi' });
    // The caller went on before anything was said: the turn is answered once, with both utterances.
    records.observe('c1', { type: 'turn.started', at: T0 + 200, turn: 1, words: 'Hi what time is it' });
    records.observe('c1', { type: 'state', at: T0 + 200, state: 'responding.generating.thinking' });
    records.observe('c1', { type: 'history.read', turn: 1, round: 0, startedAt: T0 + 201, endedAt: T0 + 203, messages: 4 });
    records.observe('c1', { type: 'model.request', at: T0 + 205, turn: 1, round: 0, target, cached: false });
    records.observe('c1', { type: 'model.failed', at: T0 + 210, turn: 1, round: 0, code: 'ThrottlingException', message: 'slow down' });
    records.observe('c1', { type: 'fallback', at: T0 + 210, turn: 1, from: target, to: { ...target, region: 'us-west-2' }, hop: 'region', reason: 'throttled', code: 'ThrottlingException' });
    records.observe('c1', { type: 'model.request', at: T0 + 211, turn: 1, round: 0, target: { ...target, region: 'us-west-2' }, cached: false });
    records.observe('c1', { type: 'model.firstEvent', at: T0 + 250, turn: 1, round: 0 });
    records.observe('c1', { type: 'model.firstSentence', at: T0 + 260, turn: 1, round: 0 });
    records.observe('c1', { type: 'say', at: T0 + 261, turn: 1, id: 's1', text: 'It is noon.', last: false });
    records.observe('c1', { type: 'say', at: T0 + 270, turn: 1, id: 's2', text: 'Anything else?', last: true });
    const usage = { ...emptyUsage(), inputTokens: 100, outputTokens: 10 };
    records.observe('c1', { type: 'model.done', at: T0 + 271, turn: 1, round: 0, stopReason: 'end_turn', usage, costUsd: 0.002 });
    records.observe('c1', { type: 'played', at: T0 + 900, id: 's1' });
    records.observe('c1', { type: 'state', at: T0 + 905, state: 'responding.awaitingPlayback' });
    records.observe('c1', { type: 'call.ended', at: T0 + 1000, outcome: 'hangup', endReason: 'caller:hangup' });

    const record = records.live('c1')!;
    assertSchema('CallRecord', record);
    expect(records.active()).toEqual([]);
    expect(persisted).toEqual([record]);
    expect(seen.at(-1)).toBe('call.ended');
    expect(record).toMatchObject({
      status: 'ended', state: 'ended', outcome: 'hangup', startedAt: '2026-12-03T12:00:00.000Z', endedAt: '2026-12-03T12:00:01.000Z',
      usage, costUsd: 0.002,
    });
    expect(record.turns).toHaveLength(1);
    expect(record.turns[0]).toEqual({
      turn: 1,
      startedAt: '2026-12-03T12:00:00.200Z',
      transcript: 'Hi what time is it',
      historyReads: [{ round: 0, startMs: 1, endMs: 3, messages: 4 }],
      modelRequests: [
        { round: 0, ...target, cached: false, requestMs: 5, endMs: 10, outcome: 'ThrottlingException', error: 'slow down' },
        { round: 0, ...target, region: 'us-west-2', cached: false, requestMs: 11, firstEventMs: 50, firstSentenceMs: 60, endMs: 71, outcome: 'ok', stopReason: 'end_turn', usage, costUsd: 0.002 },
      ],
      fallbacks: [{ atMs: 10, from: target, to: { ...target, region: 'us-west-2' }, hop: 'region', reason: 'throttled', code: 'ThrottlingException' }],
      tools: [],
      said: [{ id: 's1', text: 'It is noon.', last: false, atMs: 61, playedMs: 700 }, { id: 's2', text: 'Anything else?', last: true, atMs: 70 }],
      heard: 'It is noon.',
      firstSayMs: 61,
      endedMs: 800,
      usage,
      costUsd: 0.002,
    });
  });

  it('masks the call’s numbers wherever they appear', () => {
    const masked = maskNumbers({ from: '+15551234567', tools: [{ input: { phone: '+15551234567', note: 'call +15559876543' } }] }, { from: '+15551234567', to: '+15559876543' });
    expect(masked).toEqual({ from: '***4567', tools: [{ input: { phone: '***4567', note: 'call ***6543' } }] });
  });
});
