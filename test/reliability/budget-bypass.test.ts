import { describe, expect, it } from 'vitest';
import { GOODBYE_ON_BUDGET } from '../../src/call/machine.js';
import { DEFAULT_CANNED_ANSWER } from '../../src/config/schema.js';
import { runBargeInLoop, runIdleCalls, runToolLoop } from './budget-bypass.js';

const spentBefore = (charges: Array<{ costUsd: number }>, count: number) =>
  charges.slice(0, count).reduce((sum, charge) => sum + charge.costUsd, 0);

describe('the cost budget cannot be bypassed', () => {
  it('charges every request a barge-in aborts and stops the loop at the budget', async () => {
    const run = await runBargeInLoop({ attempts: 75, maxCostUsd: 0.05 });
    expect(run.aborted).toBe(run.requests);
    expect(run.charges.filter((charge) => charge.estimated)).toHaveLength(run.requests);
    expect(spentBefore(run.charges, run.requests - 1)).toBeLessThan(0.05);
    expect(run.requests).toBeLessThan(75);
    expect(run.ledger.requests).toBe(run.requests);
    expect(run.ledger.inputTokens).toBeGreaterThanOrEqual(run.inputTokensSent);
    expect(run.ledger.costUsd).toBeGreaterThanOrEqual(0.05);
    expect(run.hangupReason).toBe('budget');
    expect(run.refusals).toEqual({ cost: 1, model_requests: 0, tool_rounds: 0 });
    // The combined utterance of the unanswered finals stays within maxTranscriptChars.
    expect(run.longestUserText).toBeLessThanOrEqual(4_000);
  });

  it('stops a model that keeps calling tools at maxToolRoundsPerTurn, with the canned answer', async () => {
    const run = await runToolLoop({ maxToolRoundsPerTurn: 8 });
    expect(run.requests).toBe(9);
    expect(run.lastSay).toBe(DEFAULT_CANNED_ANSWER);
    expect(run.refusals).toEqual({ cost: 0, model_requests: 0, tool_rounds: 1 });
    expect(run.hangupReason).toBeUndefined();
  });

  it('stops a model that keeps calling tools at the budget, checked before every tool round', async () => {
    const run = await runToolLoop({ maxCostUsd: 0.01, maxToolRoundsPerTurn: 1_000 });
    expect(run.hangupReason).toBe('budget');
    expect(run.lastSay).toBe(GOODBYE_ON_BUDGET);
    expect(run.refusals).toEqual({ cost: 1, model_requests: 0, tool_rounds: 0 });
    expect(run.ledger.costUsd).toBeGreaterThanOrEqual(0.01);
    expect(run.requests).toBe(run.ledger.requests);
    // Past the budget by at most the request that crossed it: every request before it found the call below the budget.
    expect(run.charges).toHaveLength(run.requests);
    expect(spentBefore(run.charges, run.requests - 1)).toBeLessThan(0.01);
  });
});

describe('idle calls', () => {
  it('are reprompted, told goodbye and hung up, while a talking call goes on', async () => {
    const run = await runIdleCalls({ silentCalls: 20, idleRepromptMs: 300, idleHangupMs: 900 });
    expect(run.reaped).toBe(20);
    expect(run.endedIdle).toBe(20);
    expect(run.activeAfter).toBe(1);
    expect(run.talkingReprompted).toBe(false);
    expect(run.talkingTurns).toBeGreaterThan(0);
  });
});
