import { describe, expect, it } from 'vitest';
import { price } from '../../src/accounting/pricing.js';
import { initialContext } from '../../src/call/context.js';
import { agentConfig, createCallPolicy } from '../../src/call/policy.js';
import { createCatalogue } from '../../src/config/catalogue.js';
import { loadConfig } from '../../src/config/load.js';
import type { AgentConfig, AybizaConfig } from '../../src/config/schema.js';
import { epochMs } from '../../src/clock.js';
import { ModelCallError } from '../../src/llm/errors.js';
import { createToolRegistry } from '../../src/tools/registry.js';
import { toToolResultBlocks } from '../../src/tools/executor.js';
import type { ToolDefinition } from '../../src/tools/types.js';

const OPUS = 'us.anthropic.claude-opus-4-5-20251101-v1:0';
const SONNET = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const HAIKU = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';

const base = loadConfig({ env: {} });
const defaultAgent = base.agents.default!;

/** The default configuration with one agent `a` made of the default agent and `agent`. */
function configWith(agent: Partial<AgentConfig>, bedrock: Partial<AybizaConfig['bedrock']> = {}): AybizaConfig {
  return { ...base, bedrock: { ...base.bedrock, ...bedrock }, agents: { a: { ...defaultAgent, ...agent } } };
}

const tool = (name: string, filler?: string): ToolDefinition => ({
  name, description: name, inputSchema: { type: 'object' }, filler, run: async () => ({ result: 'ok' }),
});

function policyFor(config: AybizaConfig, tools: ToolDefinition[] = []) {
  return createCallPolicy({ config, catalogue: createCatalogue(config.models), tools: createToolRegistry(tools), accounting: { price } });
}

const contextOf = (utterance: string, costUsd = 0) => ({ ...initialContext({ callId: 'c1', agent: 'a', startedAt: 0 }), utterance, costUsd });

describe('the call policy: which model a turn asks', () => {
  it('asks a fixed model as configured, in the configured region, with nothing tried', () => {
    const policy = policyFor(configWith({ model: 'sonnet' }, { region: 'us-west-2' }));
    expect(policy.chooseModel(contextOf('Why was I charged twice?'))).toEqual({ modelRef: 'sonnet', modelId: SONNET, region: 'us-west-2', tried: [] });
  });

  it.each([
    // model, maxCostUsd, spent so far, expected alias and id: the step-down starts at 0.8 of the budget
    ['sonnet', 2, 1.5, 'sonnet', SONNET],
    ['sonnet', 2, 1.6, 'haiku-4.5', HAIKU],
    ['opus', 10, 9, 'sonnet-4.5', SONNET],
    ['haiku', 1, 1, 'haiku', HAIKU],
  ] as const)('steps %s with a budget of $%s down one tier from 80 %% spent (spent $%s → %s)', (model, maxCostUsd, costUsd, modelRef, modelId) => {
    const policy = policyFor(configWith({ model, maxCostUsd }));
    expect(policy.chooseModel(contextOf('Hello', costUsd))).toEqual({ modelRef, modelId, region: 'us-east-1', tried: [] });
  });

  it('never steps down an agent without a cost budget, whatever the call spent', () => {
    const policy = policyFor(configWith({ model: 'opus', maxCostUsd: undefined }));
    expect(policy.chooseModel(contextOf('Hello', 1000)).modelId).toBe(OPUS);
  });

  it.each([
    // utterance, agent tools, maxCostUsd, spent, routed alias
    ['Friday at ten works', ['lookup_customer'], undefined, 0, 'sonnet', SONNET],
    ['Friday at ten works', [], undefined, 0, 'haiku', HAIKU],
    ['Why was I charged twice for my last visit?', ['lookup_customer'], undefined, 0, 'opus', OPUS],
    ['Why was I charged twice for my last visit?', ['lookup_customer'], 2, 1.5, 'opus', OPUS],
    ['Why was I charged twice for my last visit?', ['lookup_customer'], 2, 1.6, 'sonnet', SONNET],
  ] as const)('routes %j with tools %j (budget $%s, spent $%s) on auto to %s, stepped once by the router only', (utterance, tools, maxCostUsd, costUsd, modelRef, modelId) => {
    const policy = policyFor(configWith({ model: 'auto', tools: [...tools], maxCostUsd }), tools.map((name) => tool(name)));
    expect(policy.chooseModel(contextOf(utterance, costUsd))).toEqual({ modelRef, modelId, region: 'us-east-1', tried: [] });
  });

  it('names an unknown agent', () => {
    expect(() => agentConfig(base, 'nobody')).toThrow(new Error('unknown agent "nobody"'));
    expect(() => policyFor(configWith({})).agentPolicy('nobody')).toThrow('unknown agent "nobody"');
  });
});

describe('the call policy: the next hop after a failed request', () => {
  const policy = policyFor(configWith({ model: 'sonnet' }));
  const sonnetHere = { modelRef: 'sonnet', modelId: SONNET, region: 'us-east-1', tried: [] };

  it('retries a throttled request on the cheaper model, adding the failed attempt with its code', () => {
    const throttled = new ModelCallError('too many requests', 'ThrottlingException', 'cheaper-model', false, 429);
    expect(policy.planFallback(sonnetHere, throttled)).toEqual({
      kind: 'retry', hop: 'model', reason: 'throttled',
      choice: { modelRef: 'haiku-4.5', modelId: HAIKU, region: 'us-east-1', tried: [{ modelId: SONNET, region: 'us-east-1', code: 'ThrottlingException' }] },
    });
  });

  it('retries a sick region with the same model reference in the fallback region, after the attempts already tried', () => {
    const unavailable = new ModelCallError('service unavailable', 'ServiceUnavailableException', 'retry-region', false, 503);
    const earlier = { modelId: OPUS, region: 'us-east-1', code: 'ThrottlingException' };
    expect(policy.planFallback({ ...sonnetHere, tried: [earlier] }, unavailable)).toEqual({
      kind: 'retry', hop: 'region', reason: 'region_unavailable',
      choice: { modelRef: 'sonnet', modelId: SONNET, region: 'us-west-2', tried: [earlier, { modelId: SONNET, region: 'us-east-1', code: 'ServiceUnavailableException' }] },
    });
  });

  it('gives the canned answer for a request Bedrock refuses, with the planner\'s reason', () => {
    const invalid = new ModelCallError('bad request', 'ValidationException', 'none', false, 400);
    expect(policy.planFallback(sonnetHere, invalid)).toEqual({ kind: 'canned', reason: 'not_retryable' });
  });
});

describe('the call policy: what the machine looks up', () => {
  it('says the filler of the first tool that has one', () => {
    const policy = policyFor(configWith({}), [tool('plain'), tool('lookup', 'One moment while I check.'), tool('book', 'Booking that now.')]);
    expect(policy.fillerFor(['unknown', 'plain', 'lookup', 'book'])).toBe('One moment while I check.');
    expect(policy.fillerFor(['plain'])).toBeUndefined();
  });

  it('prices usage at the price of the id actually sent (the us profile carries the 10 % regional premium)', () => {
    const policy = policyFor(configWith({}));
    const usage = { inputTokens: 1_000_000, outputTokens: 100_000, cacheReadInputTokens: 0, cacheWriteInputTokens: 0 };
    // 1 M input at $3.30 + 0.1 M output at $16.50.
    expect(policy.price(SONNET, usage)).toBe(4.95);
  });

  it('hands the machine the agent\'s limits, answers and the transcript limit', () => {
    const policy = policyFor(configWith({
      cannedAnswer: 'Sorry.', maxCostUsd: 0.5, dtmf: { speakDigits: false }, maxToolRoundsPerTurn: 3, maxModelRequestsPerCall: 7,
      idleRepromptMs: 1000, idleHangupMs: 2000, idleReprompt: 'Still there?', idleGoodbye: 'Bye.',
    }));
    expect(policy.agentPolicy('a')).toEqual({
      cannedAnswer: 'Sorry.', maxCostUsd: 0.5, actOnDtmf: false, maxToolRoundsPerTurn: 3, maxModelRequestsPerCall: 7,
      maxUtteranceChars: 4000, idleRepromptMs: 1000, idleHangupMs: 2000, idleReprompt: 'Still there?', idleGoodbye: 'Bye.',
    });
  });

  it('builds tool results and reads the time with the shared functions', () => {
    const policy = policyFor(configWith({}));
    expect(policy.toolResultBlocks).toBe(toToolResultBlocks);
    expect(policy.now).toBe(epochMs);
  });
});
