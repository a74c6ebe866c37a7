import type { ModelCatalogue, ResolvedModel } from '../config/catalogue.js';
import type { ModelCallError } from './errors.js';

export interface FallbackState {
  /** The alias or id the failed attempt resolved from. */
  modelRef: string;
  /** Region of the failed attempt. */
  region: string;
  /** Earlier failed attempts of this turn, not counting the one that just failed. */
  tried: Array<{ modelId: string; region: string; code: string }>;
}

export interface FallbackContext {
  catalogue: ModelCatalogue;
  primaryRegion: string;
  fallbackRegion?: string;
}

export type FallbackHop =
  | { kind: 'region'; modelId: string; region: string; reason: string }
  | { kind: 'model'; modelRef: string; modelId: string; region: string; reason: string }
  | { kind: 'canned'; reason: string };

/** Hops a turn may take before it gives the canned answer. */
export const MAX_HOPS = 3;

/**
 * The next place to send a failed turn, decided from the error's `recovery` alone:
 * `retry-region` tries the same model in the other region, then a cheaper model;
 * `cheaper-model` (throttled, over quota) tries a cheaper model here, then the other region;
 * `other-model` (no access to this model, model retired) tries another model here (cheaper first),
 * then this model in the other region, where access may differ;
 * `none`, or nothing left untried, or too many hops, ends in the canned answer.
 */
export function planFallback(state: FallbackState, error: ModelCallError, ctx: FallbackContext): FallbackHop {
  if (error.recovery === 'none') return { kind: 'canned', reason: 'not_retryable' };
  if (state.tried.length >= MAX_HOPS) return { kind: 'canned', reason: 'exhausted' };

  const { catalogue } = ctx;
  const current = catalogue.resolve(state.modelRef, state.region);
  const attempted = [...state.tried, { modelId: current.modelId, region: state.region }];
  const untried = (modelId: string, region: string) =>
    !attempted.some((attempt) => attempt.modelId === modelId && attempt.region === region);

  const otherRegion = state.region === ctx.primaryRegion ? ctx.fallbackRegion : ctx.primaryRegion;
  const regionHop = (reason: string): FallbackHop | undefined => {
    if (!otherRegion || otherRegion === state.region) return undefined;
    const there = catalogue.resolve(state.modelRef, otherRegion);
    return untried(there.modelId, otherRegion) ? { kind: 'region', modelId: there.modelId, region: otherRegion, reason } : undefined;
  };
  const modelHop = (reason: string): FallbackHop | undefined => {
    let cheaper: ResolvedModel | undefined = catalogue.cheaper(state.modelRef, state.region);
    while (cheaper && !untried(cheaper.modelId, state.region)) cheaper = catalogue.cheaper(cheaper.entry.alias, state.region);
    return cheaper
      ? { kind: 'model', modelRef: cheaper.entry.alias, modelId: cheaper.modelId, region: state.region, reason }
      : undefined;
  };

  const otherModelHop = (reason: string): FallbackHop | undefined => {
    const other = catalogue.another(state.modelRef, state.region, (modelId) => !untried(modelId, state.region));
    return other ? { kind: 'model', modelRef: other.entry.alias, modelId: other.modelId, region: state.region, reason } : undefined;
  };

  if (error.recovery === 'other-model') {
    const reason = error.code === 'AccessDeniedException' ? 'access_denied' : 'model_unavailable';
    return otherModelHop(reason) ?? regionHop(reason) ?? { kind: 'canned', reason: 'exhausted' };
  }
  const hop = error.recovery === 'retry-region'
    ? regionHop('region_unavailable') ?? modelHop('region_unavailable')
    : modelHop('throttled') ?? regionHop('throttled');
  return hop ?? { kind: 'canned', reason: 'exhausted' };
}
