import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwilioRig, until, type TwilioRig } from './twilio-fixture.js';

let rig: TwilioRig;

beforeAll(async () => {
  rig = await startTwilioRig({ script: { ttftMs: { min: 5, max: 10 }, rules: [{ reply: 'Hello, how can I help?' }] }, config: { server: { maxCalls: 1 } } });
});

afterAll(async () => {
  await rig?.close();
});

describe('a Twilio node at its call limit', () => {
  it('rejects a new call as busy from the webhook, without a stream, and takes calls again once one ends', async () => {
    const first = rig.call();
    await first.nextLine();
    await until(() => rig.node.node.calls.active() === 1, 10_000, 'the first call live');

    const second = rig.call();
    const outcome = await second.ended;
    expect(outcome).toEqual({ kind: 'rejected', reason: 'busy' });
    expect(second.requests).toHaveLength(1);
    expect(second.requests[0]!.status).toBe(200);
    expect(second.requests[0]!.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Reject reason="busy"/></Response>');
    expect(second.lines).toHaveLength(0);
    const refused = (await rig.node.node.metrics.protocolErrors.get()).values.find((value) => value.labels.code === 'twilio_busy');
    expect(refused?.value).toBe(1);

    first.hangup();
    await until(() => rig.node.node.calls.active() === 0, 10_000, 'the first call ended');
    const third = rig.call();
    await third.nextLine();
    // Live before it hangs up: a call answered but not yet streaming holds its place (the next test's burst would find it taken).
    await until(() => rig.node.node.calls.active() === 1, 10_000, 'the third call live');
    third.hangup();
    await until(() => rig.node.node.calls.active() === 0, 10_000, 'the third call ended');
  });

  it('answers only as many calls of a burst as there are places, before any of their streams started, and rejects the rest as busy', async () => {
    const burst = [rig.call(), rig.call(), rig.call()];
    const outcomes = await Promise.all(burst.map((call) => Promise.race([call.nextLine().then(() => 'streamed'), call.ended.then((outcome) => outcome.kind)])));
    expect(outcomes.sort()).toEqual(['rejected', 'rejected', 'streamed']);
    // The one answered is the one live: no stream of the burst was refused after it connected.
    expect(burst.flatMap((call) => call.requests.map((request) => request.url)).filter((url) => url.endsWith('/twilio/action'))).toEqual([]);
    for (const call of burst) call.hangup();
  });
});
