import { describe, expect, it } from 'vitest';
import { createCatalogue, UnknownModelError } from '../../src/config/catalogue.js';

/** The model table of BEDROCK.md, transcribed: alias, id, profile geographies, context, max output, prices. */
const BEDROCK_TABLE = [
  ['opus-4', 'anthropic.claude-opus-4-20250514-v1:0', ['us', 'eu'], 200_000, 32_000, [15, 75, 18.75, 1.5]],
  ['opus-4.1', 'anthropic.claude-opus-4-1-20250805-v1:0', ['us'], 200_000, 32_000, [15, 75, 18.75, 1.5]],
  ['opus-4.5', 'anthropic.claude-opus-4-5-20251101-v1:0', ['global', 'us', 'eu'], 200_000, 64_000, [5, 25, 6.25, 0.5]],
  ['sonnet-4', 'anthropic.claude-sonnet-4-20250514-v1:0', ['global', 'us', 'eu', 'apac'], 200_000, 64_000, [3, 15, 3.75, 0.3]],
  ['sonnet-4.5', 'anthropic.claude-sonnet-4-5-20250929-v1:0', ['global', 'us', 'eu', 'jp', 'au'], 200_000, 64_000, [3, 15, 3.75, 0.3]],
  ['haiku-4.5', 'anthropic.claude-haiku-4-5-20251001-v1:0', ['global', 'us', 'eu', 'jp', 'au', 'apac'], 200_000, 64_000, [1, 5, 1.25, 0.1]],
  ['sonnet-3.7', 'anthropic.claude-3-7-sonnet-20250219-v1:0', ['us', 'eu', 'apac'], 200_000, 64_000, [3, 15, 3.75, 0.3]],
  ['sonnet-3.5-v2', 'anthropic.claude-3-5-sonnet-20241022-v2:0', ['us', 'eu', 'apac'], 200_000, 8_192, [3, 15, 3.75, 0.3]],
  ['haiku-3.5', 'anthropic.claude-3-5-haiku-20241022-v1:0', ['us'], 200_000, 8_192, [0.8, 4, 1, 0.08]],
] as const;

const catalogue = createCatalogue({});

describe('model catalogue', () => {
  it.each(BEDROCK_TABLE)('has %s with the id, profiles, limits and prices of BEDROCK.md', (alias, id, geos, context, maxOut, [input, output, write, read]) => {
    const { entry } = catalogue.resolve(alias);
    expect(entry.id).toBe(id);
    expect(entry.profiles).toEqual(Object.fromEntries(geos.map((geo) => [geo, `${geo}.${id}`])));
    expect(entry.contextTokens).toBe(context);
    expect(entry.maxOutputTokens).toBe(maxOut);
    expect(entry.prices).toEqual({ inputPerMTok: input, outputPerMTok: output, cacheWritePerMTok: write, cacheReadPerMTok: read });
    expect(catalogue.priceOf(geos.includes('global' as never) ? `global.${id}` : id)).toEqual(entry.prices);
  });

  it('covers the models of BEDROCK.md and the undated ids Bedrock serves in December 2026', () => {
    expect(catalogue.entries().map((entry) => entry.id).sort()).toEqual([
      ...BEDROCK_TABLE.map(([, id]) => id), 'anthropic.claude-sonnet-4-6', 'anthropic.claude-opus-4-6-v1', 'anthropic.claude-opus-4-7',
    ].sort());
  });

  it('prices the profile actually used: global at the list price, geographic and in-region 10 % above on the 4.5 generation', () => {
    expect(catalogue.priceOf('global.anthropic.claude-sonnet-4-5-20250929-v1:0')).toEqual({ inputPerMTok: 3, outputPerMTok: 15, cacheWritePerMTok: 3.75, cacheReadPerMTok: 0.3 });
    expect(catalogue.priceOf('us.anthropic.claude-sonnet-4-5-20250929-v1:0')).toEqual({ inputPerMTok: 3.3, outputPerMTok: 16.5, cacheWritePerMTok: 4.125, cacheReadPerMTok: 0.33 });
    expect(catalogue.priceOf('eu.anthropic.claude-haiku-4-5-20251001-v1:0').inputPerMTok).toBe(1.1);
    // Earlier models have one price whatever the profile.
    expect(catalogue.priceOf('us.anthropic.claude-opus-4-1-20250805-v1:0').inputPerMTok).toBe(15);
  });

  it('resolves the tier aliases to the newest models through the region geography profile', () => {
    expect(catalogue.resolve('sonnet', 'us-east-1').modelId).toBe('us.anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(catalogue.resolve('haiku', 'us-east-1').modelId).toBe('us.anthropic.claude-haiku-4-5-20251001-v1:0');
    expect(catalogue.resolve('opus', 'us-west-2').modelId).toBe('us.anthropic.claude-opus-4-5-20251101-v1:0');
    expect(catalogue.resolve('sonnet', 'eu-central-1').modelId).toBe('eu.anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(catalogue.resolve('sonnet', 'ap-northeast-1').modelId).toBe('jp.anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(catalogue.resolve('sonnet').modelId).toBe('us.anthropic.claude-sonnet-4-5-20250929-v1:0');
  });

  it('falls back to the global profile, then to the base id, where the geography has no profile', () => {
    expect(catalogue.resolve('opus-4.5', 'ap-south-1').modelId).toBe('global.anthropic.claude-opus-4-5-20251101-v1:0');
    expect(catalogue.resolve('haiku-3.5', 'eu-west-1').modelId).toBe('anthropic.claude-3-5-haiku-20241022-v1:0');
  });

  it('accepts full ids and profile ids, keeping them as given when no region is asked for', () => {
    const profile = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';
    expect(catalogue.resolve(profile)).toMatchObject({ modelId: profile, entry: { alias: 'haiku-4.5' } });
    expect(catalogue.resolve('anthropic.claude-haiku-4-5-20251001-v1:0', 'eu-west-1').modelId).toBe('eu.anthropic.claude-haiku-4-5-20251001-v1:0');
    expect(catalogue.priceOf(`global.${profile.slice(3)}`).inputPerMTok).toBe(1);
  });

  it('refuses an unknown model, listing the known aliases and ids', () => {
    const attempt = () => catalogue.resolve('anthropic.claude-4-opus-20250120');
    expect(attempt).toThrow(UnknownModelError);
    expect(attempt).toThrow(/unknown model "anthropic.claude-4-opus-20250120".*opus, sonnet, haiku.*anthropic\.claude-sonnet-4-5-20250929-v1:0/);
  });

  it('steps down one tier at a time: opus → sonnet → haiku → nothing', () => {
    expect(catalogue.cheaper('opus', 'us-east-1')?.modelId).toBe('us.anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(catalogue.cheaper('sonnet-3.7', 'us-east-1')?.entry.alias).toBe('haiku-4.5');
    expect(catalogue.cheaper('haiku')).toBeUndefined();
    expect(catalogue.cheaper('haiku-3.5')).toBeUndefined();
  });

  it('takes price overrides, new models and another current choice from configuration', () => {
    const custom = createCatalogue({
      current: { sonnet: 'sonnet-4' },
      entries: {
        'sonnet-4': { prices: { inputPerMTok: 2.5 } },
        'opus-4.7': {
          id: 'anthropic.claude-opus-4-7-v1:0', tier: 'opus', profiles: { us: 'us.anthropic.claude-opus-4-7-v1:0' },
          contextTokens: 200_000, maxOutputTokens: 64_000, thinking: true, thinkingType: 'adaptive',
          prices: { inputPerMTok: 5, outputPerMTok: 25, cacheWritePerMTok: 6.25, cacheReadPerMTok: 0.5 },
        },
      },
    });
    expect(custom.resolve('sonnet', 'us-east-1').modelId).toBe('us.anthropic.claude-sonnet-4-20250514-v1:0');
    expect(custom.priceOf('sonnet')).toEqual({ inputPerMTok: 2.5, outputPerMTok: 15, cacheWritePerMTok: 3.75, cacheReadPerMTok: 0.3 });
    expect(custom.resolve('opus-4.7', 'us-east-1')).toMatchObject({ modelId: 'us.anthropic.claude-opus-4-7-v1:0', entry: { thinkingType: 'adaptive' } });
  });

  it('refuses a new model that lacks what pricing and limits need', () => {
    expect(() => createCatalogue({ entries: { 'mystery': { id: 'anthropic.mystery-v1:0' } } })).toThrow(/models\.entries\.mystery.*tier, prices, contextTokens, maxOutputTokens/);
  });
});
