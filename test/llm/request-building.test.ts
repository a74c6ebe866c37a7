import type { Tool } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import { createCatalogue } from '../../src/config/catalogue.js';
import { loadConfig } from '../../src/config/load.js';
import type { AgentConfig } from '../../src/config/schema.js';
import type { ChatMessage } from '../../src/llm/messages.js';
import { buildConverseRequest, type BuildRequestInput } from '../../src/llm/prompt.js';
import { VOICE_RULES } from '../../src/llm/voice-rules.js';

const catalogue = createCatalogue({});
const baseAgent = loadConfig({ env: {} }).agents.default!;
const agent = (fields: Partial<AgentConfig> = {}): AgentConfig => ({ ...baseAgent, ...fields });

const tool = (name: string, description = 'Does a thing.'): Tool => ({
  toolSpec: { name, description, inputSchema: { json: { type: 'object', properties: { identifier: { type: 'string' } } } } },
});
const user = (text: string): ChatMessage => ({ role: 'user', content: [{ text }] });

function build(fields: Partial<BuildRequestInput> = {}) {
  return buildConverseRequest({
    agent: agent(),
    model: catalogue.resolve('sonnet', 'us-east-1'),
    history: [user('Hi, I would like to book a cleaning.')],
    tools: [tool('lookup_customer'), tool('book_appointment')],
    call: { callId: 'call-1', turn: 3, agent: 'default', from: '+15551234567', to: '+15557654321' },
    thinking: false,
    ...fields,
  });
}

const hasCachePoint = (blocks: object[] | undefined) => (blocks ?? []).some((block) => 'cachePoint' in block);
const longText = (tokens: number) => 'word '.repeat(Math.ceil((tokens * 4) / 5));

describe('Converse request building', () => {
  it('addresses the resolved model and keeps the history', () => {
    const request = build();
    expect(request.modelId).toBe('us.anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(request.messages).toEqual([{ role: 'user', content: [{ text: 'Hi, I would like to book a cleaning.' }] }]);
  });

  it("puts the agent's prompt, then the voice rules, then the call's numbers in the system prompt", () => {
    const system = build().system!;
    const text = system.map((block) => ('text' in block ? block.text : '')).join('\n');
    expect(text.indexOf('Harbor Dental')).toBeLessThan(text.indexOf(VOICE_RULES[0]!));
    for (const rule of VOICE_RULES) expect(text).toContain(rule);
    expect(text).toMatch(/no markdown|Never use markdown/i);
    expect(text).toMatch(/one question at a time/i);
    expect(system.at(-1)).toEqual({ text: 'Call details: The caller\'s phone number is "+15551234567". They dialled "+15557654321".' });
  });

  it('limits output to the agent maxTokens, clamped to what the model can produce', () => {
    expect(build().inferenceConfig?.maxTokens).toBe(1024);
    const request = build({ agent: agent({ maxTokens: 20_000 }), model: catalogue.resolve('haiku-3.5', 'us-east-1') });
    expect(request.inferenceConfig?.maxTokens).toBe(8_192);
  });

  it('sends request metadata the emulator keys on, sanitised to what Bedrock accepts', () => {
    expect(build().requestMetadata).toEqual({ callId: 'call-1', turn: '3', agent: 'default', from: '+15551234567', to: '+15557654321' });
    const odd = build({ call: { callId: 'call<1>é'.padEnd(300, 'x'), turn: 12, agent: 'front desk!' } });
    expect(odd.requestMetadata?.callId).toMatch(/^call_1__x+$/);
    expect(odd.requestMetadata?.callId).toHaveLength(256);
    expect(odd.requestMetadata?.agent).toBe('front desk_');
    expect(odd.requestMetadata?.turn).toBe('12');
  });

  describe('tools', () => {
    it('declares the tools with automatic tool choice', () => {
      expect(build().toolConfig).toEqual({ tools: [tool('lookup_customer'), tool('book_appointment')], toolChoice: { auto: {} } });
    });

    it('sends no toolConfig when the agent has no tools and the history none', () => {
      expect(build({ tools: [] }).toolConfig).toBeUndefined();
    });

    it('still declares the tools used in the history when the agent has none, as Bedrock requires', () => {
      const history: ChatMessage[] = [
        user('What is my balance?'),
        { role: 'assistant', content: [{ toolUse: { toolUseId: 'tooluse_1', name: 'lookup_customer', input: { identifier: '+1555' } } }] },
        { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_1', content: [{ json: { balance: 0 } }], status: 'success' } }] },
      ];
      const request = build({ tools: [], history });
      expect(request.toolConfig?.tools).toHaveLength(1);
      expect(request.toolConfig?.tools?.[0]?.toolSpec?.name).toBe('lookup_customer');
      expect(request.toolConfig?.tools?.[0]?.toolSpec?.description).toMatch(/no longer available/);
    });
  });

  describe('prompt caching', () => {
    it('adds no cache points when the prefix is shorter than the model minimum', () => {
      const request = build();
      expect(hasCachePoint(request.system)).toBe(false);
      expect(hasCachePoint(request.toolConfig?.tools)).toBe(false);
    });

    it('closes the system prompt with a cache point once tools and system reach the minimum', () => {
      const request = build({ agent: agent({ systemPrompt: longText(1_100) }) });
      expect(request.system?.[1]).toEqual({ cachePoint: { type: 'default' } });
      expect(request.system?.[2]).toMatchObject({ text: expect.stringContaining('+15551234567') });
      expect(hasCachePoint(request.toolConfig?.tools)).toBe(false);
    });

    it('closes the tool list with a cache point when the tools alone reach the minimum', () => {
      const request = build({ tools: [tool('search_knowledge', longText(1_100))] });
      expect(request.toolConfig?.tools?.at(-1)).toEqual({ cachePoint: { type: 'default' } });
      expect(request.system?.[1]).toEqual({ cachePoint: { type: 'default' } });
    });

    it("uses each model's own minimum", () => {
      const prompt = longText(1_500);
      expect(hasCachePoint(build({ agent: agent({ systemPrompt: prompt }), model: catalogue.resolve('sonnet', 'us-east-1') }).system)).toBe(true);
      expect(hasCachePoint(build({ agent: agent({ systemPrompt: prompt }), model: catalogue.resolve('haiku', 'us-east-1') }).system)).toBe(false);
      expect(hasCachePoint(build({ agent: agent({ systemPrompt: longText(4_200) }), model: catalogue.resolve('haiku', 'us-east-1') }).system)).toBe(true);
    });

    it('sends no cache points to a model without prompt caching', () => {
      const request = build({ agent: agent({ systemPrompt: longText(3_000) }), model: catalogue.resolve('sonnet-3.5-v2', 'us-east-1') });
      expect(hasCachePoint(request.system)).toBe(false);
    });
  });

  describe('extended thinking', () => {
    const thinker = agent({ maxTokens: 4096, thinking: { budgetTokens: 2048, interleaved: false }, temperature: 0.4 });

    it('enables thinking with the real Bedrock fields and no temperature', () => {
      const request = build({ agent: thinker, model: catalogue.resolve('opus', 'us-east-1'), thinking: true });
      expect(request.additionalModelRequestFields).toEqual({ thinking: { type: 'enabled', budget_tokens: 2048 } });
      expect(request.inferenceConfig).toEqual({ maxTokens: 4096 });
    });

    it('adds the interleaved-thinking beta as a body field when asked', () => {
      const interleaved = agent({ maxTokens: 1024, thinking: { budgetTokens: 4096, interleaved: true } });
      const request = build({ agent: interleaved, model: catalogue.resolve('sonnet', 'us-east-1'), thinking: true });
      expect(request.additionalModelRequestFields).toEqual({
        thinking: { type: 'enabled', budget_tokens: 4096 },
        anthropic_beta: ['interleaved-thinking-2025-05-14'],
      });
    });

    it('keeps temperature and sends no thinking when the turn does not ask for it', () => {
      const request = build({ agent: thinker, thinking: false });
      expect(request.additionalModelRequestFields).toBeUndefined();
      expect(request.inferenceConfig).toEqual({ maxTokens: 4096, temperature: 0.4 });
    });

    it('sends no thinking to a model without it, or for an agent without it', () => {
      expect(build({ agent: thinker, model: catalogue.resolve('haiku-3.5', 'us-east-1'), thinking: true }).additionalModelRequestFields).toBeUndefined();
      expect(build({ agent: agent(), thinking: true }).additionalModelRequestFields).toBeUndefined();
    });

    it('does not think over a pending tool use that was produced without thinking', () => {
      const history: ChatMessage[] = [
        user('Book me in.'),
        { role: 'assistant', content: [{ toolUse: { toolUseId: 't1', name: 'book_appointment', input: {} } }] },
        { role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ json: { ok: true } }], status: 'success' } }] },
      ];
      expect(build({ agent: thinker, history, thinking: true }).additionalModelRequestFields).toBeUndefined();
      const withReasoning: ChatMessage[] = [history[0]!, {
        role: 'assistant',
        content: [{ reasoningContent: { reasoningText: { text: 'Book it.', signature: 'sig' } } }, ...history[1]!.content],
      }, history[2]!];
      expect(build({ agent: thinker, history: withReasoning, thinking: true }).additionalModelRequestFields).toEqual({ thinking: { type: 'enabled', budget_tokens: 2048 } });
      expect(build({ agent: thinker, history: withReasoning, thinking: true }).messages?.[1]?.content?.[0]).toHaveProperty('reasoningContent');
    });

    it('drops earlier reasoning blocks when thinking is off', () => {
      const history: ChatMessage[] = [
        user('Why does my tooth hurt?'),
        { role: 'assistant', content: [{ reasoningContent: { reasoningText: { text: 'Hmm.', signature: 's' } } }, { text: 'It may be sensitivity.' }] },
        user('Okay.'),
      ];
      expect(build({ history }).messages?.[1]?.content).toEqual([{ text: 'It may be sensitivity.' }]);
    });
  });
});

describe('continuing words already spoken', () => {
  const spoken: ChatMessage[] = [user('Can I book a cleaning?'), { role: 'assistant', content: [{ text: 'Sure, I can book that.' }] }];

  it('sends them as an assistant prefill to a model that accepts it', () => {
    const request = build({ history: spoken });
    expect(request.messages?.at(-1)).toEqual({ role: 'assistant', content: [{ text: 'Sure, I can book that.' }] });
  });

  it('puts them in the prompt for a model flagged as refusing prefill, ending on the user', () => {
    const model = catalogue.resolve('sonnet-4.6', 'us-east-1');
    expect(model.entry.prefill).toBe(false);
    const request = build({ model, history: spoken });
    expect(request.messages).toHaveLength(1);
    const last = request.messages!.at(-1)!;
    expect(last.role).toBe('user');
    expect(last.content?.map((block) => block.text).join(' ')).toMatch(/Can I book a cleaning\?.*already said.*"Sure, I can book that\.".*without repeating/s);
  });
});

describe('service tier', () => {
  it('sends none unless the agent chooses one', () => {
    expect(build().serviceTier).toBeUndefined();
    expect(build({ agent: agent({ serviceTier: 'flex' }) }).serviceTier).toEqual({ type: 'flex' });
  });

  it('uses the first-answer tier on the first turn only', () => {
    const chosen = agent({ serviceTier: 'default', firstAnswerServiceTier: 'priority' });
    const call = { callId: 'call-1', agent: 'default' };
    expect(build({ agent: chosen, call: { ...call, turn: 1 } }).serviceTier).toEqual({ type: 'priority' });
    expect(build({ agent: chosen, call: { ...call, turn: 2 } }).serviceTier).toEqual({ type: 'default' });
  });
});
