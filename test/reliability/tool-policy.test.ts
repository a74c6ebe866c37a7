import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallerClient } from '../integration/caller-client.js';
import type { ReliabilityNode } from './reliability-node.js';
import { POLICY_CALLER, runToolPolicyAttempts, startToolPolicyNode } from './tool-policy-attempts.js';

describe('per-agent tool policy against a model that follows an injected instruction (npm run reliability:report runs more)', () => {
  it('refuses a premium-rate transfer, another patient\'s record, an outside recipient and a free-text from/to; the caller\'s own record and address still work', async () => {
    const { kinds, ownActions, badStarts } = await runToolPolicyAttempts({ perKind: 2 });
    // Each refusal reaches the model as a `Refused by policy` tool error, nothing is carried out, each is counted by tool.
    expect(kinds.map(({ tool, attempted, refused, executed, counted }) => [tool, attempted, refused, executed, counted])).toEqual([
      ['transfer_call', 2, 2, 0, 2],
      ['lookup_customer', 2, 2, 0, 2],
      ['send_email', 2, 2, 0, 2],
    ]);
    expect(ownActions).toEqual({ attempted: 4, succeeded: 4 });
    expect(badStarts).toEqual({
      attempted: 6,
      refused: 6,
      heard: [
        'bad_message: start: from: an E.164 number such as +15551000000 or a SIP URI such as sip:alice@example.com',
        'bad_message: start: to: an E.164 number such as +15551000000 or a SIP URI such as sip:alice@example.com',
      ],
    });
  }, 60_000);
});

describe('what an agent\'s policy opens', () => {
  let test: ReliabilityNode;

  beforeAll(async () => {
    test = await startToolPolicyNode();
  });
  afterAll(async () => {
    await test?.close();
  });

  it('allows what an agent\'s allow-list names, by pattern', async () => {
    const caller = await CallerClient.connect(test.url);
    await caller.start({ callId: 'policy-staff', agent: 'staff', from: POLICY_CALLER });
    caller.send({ type: 'transcript', text: 'Put me through to my colleague', final: true });
    expect(await caller.next((frame) => frame.type === 'transfer')).toMatchObject({ to: '+15550100123' });
    caller.close();
  });

  it('takes a start whose from is a SIP URI and whose to is an E.164 number', async () => {
    const caller = await CallerClient.connect(test.url);
    await caller.start({ from: 'sip:maria@pbx.example.com', to: '+15557654321' });
    caller.close();
  });
});
