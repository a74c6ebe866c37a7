import { afterEach, describe, expect, it } from 'vitest';
import { CallerClient } from './caller-client.js';
import { startTestNode, type TestNode } from './test-node.js';

let test: TestNode | undefined;
afterEach(async () => {
  await test?.close();
  test = undefined;
});

const spoken = async (callId: string, words: string): Promise<string> => {
  const caller = await CallerClient.connect(test!.url);
  await caller.start({ callId, from: '+15551000000' });
  const says = await caller.turn(words);
  caller.close();
  return says.map((say) => say.text).join(' ');
};

describe('tool backends in a serving node', () => {
  it('answers "What is 15% of 200?" with 30 through execute_code on the embedded Lambda emulator', async () => {
    test = await startTestNode({
      config: { agents: { default: { systemPrompt: 'You calculate.', tools: ['execute_code'], model: 'sonnet' } } },
      script: {
        ttftMs: 5,
        rules: [
          { after: 'execute_code', reply: 'That comes to {{toolResult.result}}.' },
          { when: 'what is', toolUse: { name: 'execute_code', input: { code: '{{text}}' } } },
        ],
      },
    });
    expect(await spoken('lambda-percent', 'What is 15% of 200?')).toBe('Let me work that out. That comes to 30.');
  });
});
