import { describe, expect, it } from 'vitest';
import { createCatalogue, lifecycleOn } from '../../src/config/catalogue.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { modelLifecycleWarnings } from '../../src/config/schema.js';

const withAgentModel = (model: string, models: Record<string, unknown> = {}) =>
  ({ env: {}, overrides: { models, agents: { default: { systemPrompt: 'You answer.', model } } } });

describe('model lifecycle', () => {
  it('refuses a configuration whose agent uses a model past its end of life, naming the replacement', () => {
    let error: unknown;
    try {
      loadConfig(withAgentModel('sonnet-3.7'));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/agents\.default\.model.*sonnet-3\.7 .*reached end of life on 2026-04-28; use sonnet-4\.6 instead/s);
  });

  it('refuses a Legacy model once its EOL date has passed, even before the data says eol', () => {
    const catalogue = createCatalogue({ entries: { 'sonnet-4': { lifecycle: 'legacy', eolDate: '2026-01-01' } } });
    expect(lifecycleOn(catalogue.resolve('sonnet-4').entry, '2026-12-02')).toMatchObject({ state: 'eol', eolDate: '2026-01-01', replacement: 'sonnet-4.6' });
  });

  it('warns for a Legacy model with its EOL date and replacement, and not for Active ones', () => {
    const config = loadConfig(withAgentModel('sonnet-4', { entries: { 'sonnet-4': { eolDate: '2099-01-01' } } }));
    expect(modelLifecycleWarnings(config, '2026-12-02')).toEqual([
      'agents.default.model: sonnet-4 (anthropic.claude-sonnet-4-20250514-v1:0) is Legacy on Bedrock — its end of life on Bedrock is 2099-01-01; move to sonnet-4.6',
    ]);
    expect(modelLifecycleWarnings(loadConfig({ env: {} }), '2026-12-02')).toEqual([]);
  });

  it('lets configuration add a model with its lifecycle and name it as an alias target', () => {
    const config = loadConfig({ env: {}, overrides: { models: {
      current: { opus: 'opus-next' },
      entries: { 'opus-next': { id: 'anthropic.claude-opus-9', tier: 'opus', contextTokens: 1_000_000, maxOutputTokens: 128_000, lifecycle: 'active',
        prices: { inputPerMTok: 5, outputPerMTok: 25, cacheWritePerMTok: 6.25, cacheReadPerMTok: 0.5 }, profiles: { global: 'global.anthropic.claude-opus-9' } } },
    } } });
    expect(createCatalogue(config.models).resolve('opus', 'us-east-1').modelId).toBe('global.anthropic.claude-opus-9');
  });

  it('points the aliases at Active models', () => {
    const catalogue = createCatalogue({});
    for (const tier of ['opus', 'sonnet', 'haiku']) expect(catalogue.resolve(tier).entry.lifecycle).toBe('active');
  });
});
