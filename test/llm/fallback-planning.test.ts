import { describe, expect, it } from 'vitest';
import { createCatalogue } from '../../src/config/catalogue.js';
import { ModelCallError, type Recovery } from '../../src/llm/errors.js';
import { planFallback, type FallbackState } from '../../src/llm/fallback.js';

const catalogue = createCatalogue({});
const ctx = { catalogue, primaryRegion: 'us-east-1', fallbackRegion: 'us-west-2' };
const SONNET = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const HAIKU = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';
const OPUS = 'us.anthropic.claude-opus-4-5-20251101-v1:0';

const errors: Record<string, ModelCallError> = {
  notReady: new ModelCallError('model not ready', 'ModelNotReadyException', 'retry-region', false, 429),
  unavailable: new ModelCallError('service unavailable', 'ServiceUnavailableException', 'retry-region', false, 503),
  throttled: new ModelCallError('too many requests', 'ThrottlingException', 'cheaper-model', false, 429),
  invalid: new ModelCallError('bad request', 'ValidationException', 'none', false, 400),
};
const accessDenied = new ModelCallError('no access', 'AccessDeniedException', 'other-model', false, 403);
const retired = new ModelCallError('The provided model identifier is invalid.', 'InvalidModelId', 'other-model', false, 400);
const error = (recovery: Recovery) => Object.values(errors).find((e) => e.recovery === recovery)!;
const tried = (...attempts: Array<[string, string]>) => attempts.map(([modelId, region]) => ({ modelId, region, code: 'x' }));

describe('fallback planning', () => {
  it.each<[string, FallbackState, Recovery, object]>([
    ['a sick primary region → same model in the fallback region',
      { modelRef: 'sonnet', region: 'us-east-1', tried: [] }, 'retry-region',
      { kind: 'region', modelId: SONNET, region: 'us-west-2', reason: 'region_unavailable' }],
    ['a sick fallback region → back to the primary region',
      { modelRef: 'sonnet', region: 'us-west-2', tried: [] }, 'retry-region',
      { kind: 'region', modelId: SONNET, region: 'us-east-1', reason: 'region_unavailable' }],
    ['both regions sick for the model → cheaper model here',
      { modelRef: 'sonnet', region: 'us-west-2', tried: tried([SONNET, 'us-east-1']) }, 'retry-region',
      { kind: 'model', modelRef: 'haiku-4.5', modelId: HAIKU, region: 'us-west-2', reason: 'region_unavailable' }],
    ['throttled → cheaper model in the same region',
      { modelRef: 'opus', region: 'us-east-1', tried: [] }, 'cheaper-model',
      { kind: 'model', modelRef: 'sonnet-4.5', modelId: SONNET, region: 'us-east-1', reason: 'throttled' }],
    ['throttled on the cheapest model → same model in the other region',
      { modelRef: 'haiku', region: 'us-east-1', tried: [] }, 'cheaper-model',
      { kind: 'region', modelId: HAIKU, region: 'us-west-2', reason: 'throttled' }],
    ['throttled where the cheaper model already failed here → the next cheaper one',
      { modelRef: 'opus', region: 'us-east-1', tried: tried([SONNET, 'us-east-1']) }, 'cheaper-model',
      { kind: 'model', modelRef: 'haiku-4.5', modelId: HAIKU, region: 'us-east-1', reason: 'throttled' }],
    ['throttled with nothing untried left → canned answer',
      { modelRef: 'haiku', region: 'us-east-1', tried: tried([HAIKU, 'us-west-2']) }, 'cheaper-model',
      { kind: 'canned', reason: 'exhausted' }],
    ['a request Bedrock refuses → canned answer at once',
      { modelRef: 'sonnet', region: 'us-east-1', tried: [] }, 'none',
      { kind: 'canned', reason: 'not_retryable' }],
    ['three hops already taken → canned answer',
      { modelRef: 'haiku', region: 'us-east-1', tried: tried([OPUS, 'us-east-1'], [OPUS, 'us-west-2'], [SONNET, 'us-west-2']) }, 'retry-region',
      { kind: 'canned', reason: 'exhausted' }],
  ])('%s', (_name, state, recovery, hop) => {
    expect(planFallback(state, error(recovery), ctx)).toEqual(hop);
  });

  it.each([
    ['no access to the model → the next cheaper model here, counted as access_denied', accessDenied, 'access_denied'],
    ['a retired or invalid model id → the next cheaper model here, counted as model_unavailable', retired, 'model_unavailable'],
  ] as const)('%s', (_name, failure, reason) => {
    expect(planFallback({ modelRef: 'sonnet', region: 'us-east-1', tried: [] }, failure, ctx))
      .toEqual({ kind: 'model', modelRef: 'haiku-4.5', modelId: HAIKU, region: 'us-east-1', reason });
  });

  it('a refused cheapest model → the current model of another tier, not the canned answer', () => {
    expect(planFallback({ modelRef: 'haiku', region: 'us-east-1', tried: [] }, accessDenied, ctx))
      .toEqual({ kind: 'model', modelRef: 'opus-4.5', modelId: OPUS, region: 'us-east-1', reason: 'access_denied' });
  });

  it('a refused model skips another model that already failed here this turn', () => {
    expect(planFallback({ modelRef: 'sonnet', region: 'us-east-1', tried: tried([HAIKU, 'us-east-1']) }, accessDenied, ctx))
      .toEqual({ kind: 'model', modelRef: 'opus-4.5', modelId: OPUS, region: 'us-east-1', reason: 'access_denied' });
  });

  it('a refused model with every other model tried and no other region → canned answer', () => {
    const state = { modelRef: 'haiku', region: 'us-east-1', tried: tried([OPUS, 'us-east-1'], [SONNET, 'us-east-1']) };
    expect(planFallback(state, accessDenied, { catalogue, primaryRegion: 'us-east-1' })).toEqual({ kind: 'canned', reason: 'exhausted' });
  });

  it('without a fallback region, a sick region goes straight to a cheaper model', () => {
    const hop = planFallback({ modelRef: 'sonnet', region: 'us-east-1', tried: [] }, errors.notReady!, { catalogue, primaryRegion: 'us-east-1' });
    expect(hop).toEqual({ kind: 'model', modelRef: 'haiku-4.5', modelId: HAIKU, region: 'us-east-1', reason: 'region_unavailable' });
  });

  it('resolves the other region to its own geography profile', () => {
    const hop = planFallback({ modelRef: 'sonnet', region: 'us-east-1', tried: [] }, errors.unavailable!, { catalogue, primaryRegion: 'us-east-1', fallbackRegion: 'eu-west-1' });
    expect(hop).toEqual({ kind: 'region', modelId: 'eu.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'eu-west-1', reason: 'region_unavailable' });
  });

  it('ends every chain in at most three hops', () => {
    for (const recovery of ['retry-region', 'cheaper-model'] as const) {
      let state: FallbackState = { modelRef: 'opus', region: 'us-east-1', tried: [] };
      let hops = 0;
      for (;;) {
        const hop = planFallback(state, error(recovery), ctx);
        if (hop.kind === 'canned') break;
        hops += 1;
        const current = catalogue.resolve(state.modelRef, state.region).modelId;
        state = { modelRef: hop.kind === 'model' ? hop.modelRef : state.modelRef, region: hop.region, tried: [...state.tried, { modelId: current, region: state.region, code: 'x' }] };
      }
      expect(hops).toBeLessThanOrEqual(3);
      expect(hops).toBeGreaterThan(0);
    }
  });
});
