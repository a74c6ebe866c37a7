import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
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

  it('speaks the citation of a Kendra passage and says it does not know below the threshold of a knowledge base', async () => {
    test = await startTestNode({
      config: {
        agents: {
          default: { systemPrompt: 'You answer policy questions.', tools: ['search_knowledge'], model: 'sonnet', knowledgeBase: 'policies' },
          strict: { systemPrompt: 'You answer policy questions.', tools: ['search_knowledge'], model: 'sonnet', knowledgeBase: 'handbook' },
        },
        tools: {
          knowledgeBases: {
            policies: { backend: 'kendra', indexId: '00000000-0000-4000-8000-00000000a1b2' },
            handbook: { backend: 'bedrock-kb', knowledgeBaseId: 'HANDBOOK1', minScore: 0.99 },
          },
        },
      },
      script: {
        ttftMs: 5,
        rules: [
          { after: 'search_knowledge', reply: '{{toolResult.answer}}' },
          { when: '\\?', toolUse: { name: 'search_knowledge', input: { query: '{{text}}' } } },
        ],
      },
    });
    expect(await spoken('kendra-citation', 'What is your cancellation policy?')).toMatch(/^Let me check that for you\. According to our Cancellation and rescheduling policy: Please give at least twenty-four hours' notice/);
    const caller = await CallerClient.connect(test.url);
    await caller.start({ callId: 'kb-unknown', from: '+15551000000', agent: 'strict' });
    const says = await caller.turn('Do you take Cigna insurance?');
    caller.close();
    expect(says.map((say) => say.text).join(' ')).toBe("Let me check that for you. I'm sorry, I don't know that. I can take a message or transfer you to the front desk.");
  });

  it('refuses an agent naming a knowledge base that is not configured, and a Kendra base without an index id', () => {
    expect(() => loadConfig({ env: {}, overrides: { agents: { default: { knowledgeBase: 'nope' } } } }))
      .toThrow(/agents\.default\.knowledgeBase: .*a name in tools\.knowledgeBases: \(none configured\)/);
    expect(() => loadConfig({ env: {}, overrides: { tools: { knowledgeBases: { policies: { backend: 'kendra' } } } } }))
      .toThrow(/tools\.knowledgeBases\.policies\.indexId: .*an indexId for backend kendra/);
  });
});
