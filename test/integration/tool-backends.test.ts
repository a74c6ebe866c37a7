import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
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
    const exposition = await (await fetch(`${test.node.metricsUrl}/metrics`)).text();
    expect(exposition).toMatch(/^aybiza_tool_duration_seconds_count\{tool="execute_code",outcome="success",backend="lambda"\} 1$/m);
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

  it('serves MCP tools and connectors on each backend from configuration alone', async () => {
    test = await startTestNode({
      config: {
        agents: { default: { systemPrompt: 'You book.', tools: ['calendar_slots', 'crm_lookup', 'calendar_connector', 'echo_back'], model: 'sonnet' } },
        tools: {
          lambdaHandlersDir: join(import.meta.dirname, '../emulator/lambda-handlers'),
          mcp: [{ name: 'calendar', command: process.execPath, args: ['--import', 'tsx', 'test/tools/mcp/stdio-fixture.ts'], allowTools: ['calendar.slots'] }],
          connectors: [
            { name: 'crm_lookup', description: 'The caller in the CRM.', inputSchema: { type: 'object', properties: { phone: { type: 'string' } } }, backend: { type: 'lambda', functionName: 'echo' } },
            { name: 'calendar_connector', description: 'Free slots.', inputSchema: { type: 'object', properties: { day: { type: 'string' } }, required: ['day'] }, backend: { type: 'mcp', server: 'calendar', tool: 'calendar.slots' } },
            { name: 'echo_back', description: 'Down on purpose.', optional: true, inputSchema: { type: 'object' }, backend: { type: 'webhook', url: 'http://127.0.0.1:9/hook', allowHosts: ['127.0.0.1'] } },
          ],
        },
      },
      script: {
        ttftMs: 5,
        rules: [
          { after: 'calendar_slots', reply: 'Slots on {{toolResult.day}}.' },
          { after: 'calendar_connector', reply: 'Connector slots on {{toolResult.day}}.' },
          { after: 'crm_lookup', reply: 'The CRM function {{toolResult.functionName}} answered.' },
          { after: 'echo_back', reply: '{{toolResult.error}}' },
          { when: 'mcp', toolUse: { name: 'calendar_slots', input: { day: 'monday' } } },
          { when: 'connector', toolUse: { name: 'calendar_connector', input: { day: 'tuesday' } } },
          { when: 'crm', toolUse: { name: 'crm_lookup', input: { phone: '{{from}}' } } },
          { when: 'down', toolUse: { name: 'echo_back', input: {} } },
        ],
      },
    });
    expect(await spoken('mcp-direct', 'Ask mcp please')).toBe('Slots on monday.');
    expect(await spoken('mcp-connector', 'Ask the connector')).toBe('Connector slots on tuesday.');
    expect(await spoken('lambda-connector', 'Ask the crm')).toBe('The CRM function echo answered.');
    expect(await spoken('optional-down', 'Is it down?')).toMatch(/^echo_back failed: the echo_back connector is unavailable \(127\.0\.0\.1: connect ECONNREFUSED 127\.0\.0\.1:9\); tell the caller/);
  });

  it('refuses to start with one line naming a connector whose backend cannot be reached', async () => {
    await expect(startTestNode({
      config: {
        agents: { default: { systemPrompt: 'x', tools: ['crm_lookup'] } },
        tools: { connectors: [{ name: 'crm_lookup', description: 'CRM.', inputSchema: { type: 'object' }, backend: { type: 'lambda', functionName: 'no-such-function' } }] },
      },
    })).rejects.toThrow(/connector "crm_lookup" \(lambda\) cannot be reached at start: Function not found: arn:aws:lambda:us-east-1:123456789012:function:no-such-function; fix its backend, or mark it "optional": true to start without it/);
  });
});
