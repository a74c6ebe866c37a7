import { describe, expect, it } from 'vitest';
import { StreamTokens } from '../../src/telephony/twilio/stream-token.js';

const SECRET = 'an-auth-token-of-32-characters!!';
const CALL = `CA${'1'.repeat(32)}`;
const claims = { callSid: CALL, agent: 'default', from: '+15550100123', to: '+15550199000', resume: false };

describe('one-time stream tokens', () => {
  it('gives back the claims once, for the call they name', () => {
    const tokens = new StreamTokens(SECRET, 30_000, () => 1_000);
    const parameters = tokens.issue(claims);
    expect(tokens.redeem(parameters, CALL)).toEqual({ ok: true, claims });
    expect(tokens.redeem(parameters, CALL)).toEqual({ ok: false, reason: 'stream token already used' });
  });

  it('is checked by another node holding the same auth token (the node that issued it may be gone)', () => {
    const parameters = new StreamTokens(SECRET, 30_000, () => 1_000).issue({ ...claims, resume: true });
    expect(new StreamTokens(SECRET, 30_000, () => 2_000).redeem(parameters, CALL)).toEqual({ ok: true, claims: { ...claims, resume: true } });
  });

  it('counts the new calls answered whose token was not redeemed yet, until it expires; resumes hold no place', () => {
    let now = 1_000;
    const tokens = new StreamTokens(SECRET, 30_000, () => now);
    const first = tokens.issue(claims);
    tokens.issue({ ...claims, callSid: `CA${'2'.repeat(32)}` });
    tokens.issue({ ...claims, resume: true });
    expect(tokens.outstandingNewCalls()).toBe(2);
    tokens.redeem(first, CALL);
    expect(tokens.outstandingNewCalls()).toBe(1);
    now += 30_000;
    expect(tokens.outstandingNewCalls()).toBe(0);
  });

  it('refuses a token for another call, an expired one, a changed claim, and one made with another secret', () => {
    let now = 1_000;
    const tokens = new StreamTokens(SECRET, 30_000, () => now);
    expect(tokens.redeem(tokens.issue(claims), `CA${'2'.repeat(32)}`)).toEqual({ ok: false, reason: 'stream token is for another call' });
    expect(tokens.redeem({ ...tokens.issue(claims), agent: 'billing' }, CALL)).toEqual({ ok: false, reason: 'bad stream token' });
    expect(tokens.redeem(new StreamTokens('another-secret-of-32-characters!', 30_000, () => now).issue(claims), CALL)).toEqual({ ok: false, reason: 'bad stream token' });
    expect(tokens.redeem({}, CALL)).toEqual({ ok: false, reason: 'no stream token' });
    const late = tokens.issue(claims);
    now += 30_000;
    expect(tokens.redeem(late, CALL)).toEqual({ ok: false, reason: 'stream token expired' });
  });
});
