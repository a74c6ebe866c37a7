import builtinData from './bedrock-models.json' with { type: 'json' };
import type { ModelsConfig } from './models-config.js';

export type ModelTier = 'opus' | 'sonnet' | 'haiku';
export type ModelLifecycle = 'active' | 'legacy' | 'eol';
export type ThinkingType = 'enabled' | 'adaptive';
export type CacheTtl = '5m' | '1h';

/** USD per million tokens. Cache writes are the 5-minute TTL price. */
export interface ModelPrices {
  inputPerMTok: number;
  outputPerMTok: number;
  cacheWritePerMTok: number;
  cacheReadPerMTok: number;
}

/**
 * One model as bedrock-models.json states it: the facts the client and the emulator both read.
 * The emulator reads the same file, never this module.
 */
export interface ModelFacts {
  alias: string;
  id: string;
  tier: ModelTier;
  /** Geographies with a cross-region inference profile `<geo>.<id>`. */
  geos: string[];
  lifecycle: ModelLifecycle;
  eolDate?: string;
  replacement?: string;
  contextTokens: number;
  maxOutputTokens: number;
  /** The global-profile price. */
  prices: ModelPrices;
  regionalPricePremium: number;
  minCacheTokens: number;
  /** Empty when the model takes no cache points. */
  cacheTtls: CacheTtl[];
  /** Empty when the model has no extended thinking. */
  thinkingTypes: ThinkingType[];
  interleavedThinking: boolean;
  prefill: boolean;
  /** False where `temperature` and `topP` may not both be set (the 4.5 generation and later). */
  temperatureWithTopP: boolean;
  /** Served on demand only through an inference profile. */
  profileOnly: boolean;
}

export interface ModelEntry {
  alias: string;
  /** Base model id, e.g. `anthropic.claude-sonnet-4-5-20250929-v1:0`. */
  id: string;
  /** Geography (`us`, `eu`, `apac`, `jp`, `au`, `global`) → cross-region inference profile id. */
  profiles: Record<string, string>;
  contextTokens: number;
  maxOutputTokens: number;
  /** The global-profile price; {@link ModelCatalogue.priceOf} adds the regional premium where it applies. */
  prices: ModelPrices;
  /** Share added to `prices` for geographic profiles and in-region ids (AWS: about 10 % on the 4.5 generation). */
  regionalPricePremium: number;
  /** Smallest prefix, in tokens, that a cache point may close. */
  minCacheTokens: number;
  /** Whether Bedrock accepts cache points for this model. */
  caching: boolean;
  cacheTtls: CacheTtl[];
  thinking: boolean;
  /** What the client sends: `adaptive` for models that refuse `type: "enabled"` (Opus 4.7). */
  thinkingType: ThinkingType;
  /** Whether the interleaved-thinking beta applies (Claude 4 generation). */
  interleavedThinking: boolean;
  /** Whether a trailing assistant message (prefill) is accepted. */
  prefill: boolean;
  /** Every thinking type the model takes (`thinkingType` is the one the client sends). */
  thinkingTypes: ThinkingType[];
  temperatureWithTopP: boolean;
  profileOnly: boolean;
  lifecycle: ModelLifecycle;
  /** `YYYY-MM-DD`, when Bedrock has announced one. */
  eolDate?: string;
  replacement?: string;
  tier: ModelTier;
}

export interface ResolvedModel {
  /** The id to send: an inference profile id for the region's geography when the model has one. */
  modelId: string;
  entry: ModelEntry;
}

export interface ModelCatalogue {
  resolve(ref: string, region?: string): ResolvedModel;
  entries(): ModelEntry[];
  /** The current model of the next cheaper tier (opus → sonnet → haiku), or undefined from haiku. */
  cheaper(ref: string, region?: string): ResolvedModel | undefined;
  /**
   * Another model to try when this one is refused for itself (no access, retired): the next
   * cheaper current model, else the current models of the other tiers, skipping `exclude`.
   */
  another(ref: string, region: string, exclude: (modelId: string) => boolean): ResolvedModel | undefined;
  /** The price of the id actually sent: global profiles at the base price, others with the regional premium. */
  priceOf(modelId: string): ModelPrices;
}

export class UnknownModelError extends Error {
  override readonly name = 'UnknownModelError';
  constructor(readonly ref: string, readonly known: string[]) {
    super(`unknown model "${ref}" — expected one of: ${known.join(', ')} (or an inference profile id of one of them, e.g. us.<id>)`);
  }
}

export const TIERS: readonly ModelTier[] = ['opus', 'sonnet', 'haiku'];

/** The built-in models (src/config/bedrock-models.json); `models.entries` in the configuration overrides and extends them. */
export const BUILTIN_MODELS: readonly ModelFacts[] = (builtinData as { models: ModelFacts[] }).models;

export const DEFAULT_CURRENT: Readonly<Record<ModelTier, string>> = { opus: 'opus-4.5', sonnet: 'sonnet-4.5', haiku: 'haiku-4.5' };

/** Inference-profile geographies to try for a region, best first. */
export function geosOfRegion(region: string): string[] {
  if (/^(us|ca)-/.test(region)) return ['us'];
  if (region.startsWith('eu-')) return ['eu'];
  if (region === 'ap-northeast-1' || region === 'ap-northeast-3') return ['jp', 'apac'];
  if (region === 'ap-southeast-2' || region === 'ap-southeast-4') return ['au', 'apac'];
  if (region.startsWith('ap-')) return ['apac'];
  return [];
}

/** Where the catalogue data is wrong: a path under `models`, the value and what was expected. */
export interface CatalogueProblem { path: (string | number)[]; value: unknown; expected: string }

const zeroPrices: ModelPrices = { inputPerMTok: 0, outputPerMTok: 0, cacheWritePerMTok: 0, cacheReadPerMTok: 0 };

function entryOfFacts(facts: ModelFacts): ModelEntry {
  const { geos, ...rest } = facts;
  const { thinkingTypes } = facts;
  return {
    ...rest,
    profiles: Object.fromEntries(geos.map((geo) => [geo, `${geo}.${facts.id}`])),
    caching: facts.cacheTtls.length > 0,
    thinking: thinkingTypes.length > 0,
    thinkingType: thinkingTypes.includes('enabled') ? 'enabled' : 'adaptive',
  };
}

/** The catalogue's entries after applying `models.entries`, plus problems found on the way. */
export function buildEntries(models: ModelsConfig): { entries: ModelEntry[]; problems: CatalogueProblem[] } {
  const problems: CatalogueProblem[] = [];
  const byAlias = new Map<string, ModelEntry>(BUILTIN_MODELS.map((facts) => [facts.alias, entryOfFacts(facts)]));
  for (const [alias, override] of Object.entries(models.entries ?? {})) {
    const base = byAlias.get(alias);
    if (!base) {
      const missing = (['id', 'tier', 'prices', 'contextTokens', 'maxOutputTokens'] as const).filter((key) => override[key] === undefined);
      if (missing.length > 0) {
        problems.push({ path: ['entries', alias], value: override, expected: `a new model needs ${missing.join(', ')}` });
        continue;
      }
      const full = override.prices ?? {};
      const priceKeys = ['inputPerMTok', 'outputPerMTok', 'cacheWritePerMTok', 'cacheReadPerMTok'] as const;
      const missingPrices = priceKeys.filter((key) => full[key] === undefined);
      if (missingPrices.length > 0) {
        problems.push({ path: ['entries', alias, 'prices'], value: full, expected: `all four prices of a new model (missing ${missingPrices.join(', ')})` });
        continue;
      }
    }
    const caching = override.caching ?? (override.cacheTtls ? override.cacheTtls.length > 0 : base?.caching ?? false);
    const merged: ModelEntry = {
      alias,
      id: override.id ?? base?.id ?? '',
      profiles: override.profiles ?? base?.profiles ?? {},
      contextTokens: override.contextTokens ?? base?.contextTokens ?? 0,
      maxOutputTokens: override.maxOutputTokens ?? base?.maxOutputTokens ?? 0,
      prices: { ...(base?.prices ?? zeroPrices), ...stripUndefined(override.prices ?? {}) },
      regionalPricePremium: override.regionalPricePremium ?? base?.regionalPricePremium ?? 0,
      minCacheTokens: override.minCacheTokens ?? base?.minCacheTokens ?? 1_024,
      caching,
      cacheTtls: override.cacheTtls ?? base?.cacheTtls ?? (caching ? ['5m'] : []),
      thinking: override.thinking ?? base?.thinking ?? false,
      thinkingType: override.thinkingType ?? base?.thinkingType ?? 'enabled',
      interleavedThinking: override.interleavedThinking ?? base?.interleavedThinking ?? false,
      prefill: override.prefill ?? base?.prefill ?? true,
      thinkingTypes: thinkingTypesOf(override, base),
      temperatureWithTopP: override.temperatureWithTopP ?? base?.temperatureWithTopP ?? false,
      profileOnly: override.profileOnly ?? base?.profileOnly ?? Object.keys(override.profiles ?? base?.profiles ?? {}).length > 0,
      lifecycle: override.lifecycle ?? base?.lifecycle ?? 'active',
      ...optional('eolDate', override.eolDate ?? base?.eolDate),
      ...optional('replacement', override.replacement ?? base?.replacement),
      tier: override.tier ?? base?.tier ?? 'sonnet',
    };
    byAlias.set(alias, merged);
  }
  const entries = [...byAlias.values()];
  const current = { ...DEFAULT_CURRENT, ...stripUndefined(models.current ?? {}) };
  for (const tier of TIERS) {
    const target = entries.find((entry) => entry.alias === current[tier] || entry.id === current[tier]);
    if (!target) problems.push({ path: ['current', tier], value: current[tier], expected: `one of ${entries.map((e) => e.alias).join(', ')}` });
    else if (target.tier !== tier) problems.push({ path: ['current', tier], value: current[tier], expected: `a model of the ${tier} tier (this one is ${target.tier})` });
  }
  for (const entry of entries) {
    if (entry.replacement !== undefined && !byAlias.has(entry.replacement)) {
      problems.push({ path: ['entries', entry.alias, 'replacement'], value: entry.replacement, expected: `one of ${entries.map((e) => e.alias).join(', ')}` });
    }
  }
  return { entries, problems };
}

/** Where a model stands on a day: past its end of life, Legacy (with its EOL date when known) or Active. */
export type LifecycleStanding =
  | { state: 'active' }
  | { state: 'legacy'; eolDate?: string; replacement?: string }
  | { state: 'eol'; eolDate?: string; replacement?: string };

/** `today` is `YYYY-MM-DD`; a Legacy model whose EOL date has come counts as end of life. */
export function lifecycleOn(entry: ModelEntry, today: string): LifecycleStanding {
  const dated = { ...optional('eolDate', entry.eolDate), ...optional('replacement', entry.replacement) };
  if (entry.lifecycle === 'eol' || (entry.eolDate !== undefined && entry.eolDate <= today)) return { state: 'eol', ...dated };
  if (entry.lifecycle === 'legacy') return { state: 'legacy', ...dated };
  return { state: 'active' };
}

const isGlobalProfile = (modelId: string) => modelId.trim().toLowerCase().startsWith('global.');

export function createCatalogue(models: ModelsConfig): ModelCatalogue {
  const { entries, problems } = buildEntries(models);
  const first = problems[0];
  if (first) throw new Error(`models.${first.path.join('.')}: got ${JSON.stringify(first.value)} — expected ${first.expected}`);
  const current = { ...DEFAULT_CURRENT, ...stripUndefined(models.current ?? {}) };

  const index = new Map<string, ModelEntry>();
  for (const entry of entries) {
    index.set(entry.alias.toLowerCase(), entry);
    index.set(entry.id.toLowerCase(), entry);
    for (const profile of Object.values(entry.profiles)) index.set(profile.toLowerCase(), entry);
  }
  for (const tier of TIERS) {
    const target = index.get(current[tier].toLowerCase());
    if (target) index.set(tier, target);
  }
  const known = [...TIERS, ...entries.map((entry) => entry.alias), ...entries.map((entry) => entry.id)];

  const entryOf = (ref: string): ModelEntry => {
    const entry = index.get(ref.trim().toLowerCase());
    if (!entry) throw new UnknownModelError(ref, known);
    return entry;
  };

  const modelIdFor = (entry: ModelEntry, region: string): string => {
    const geos = [...(models.profileGeo ? [models.profileGeo] : []), ...geosOfRegion(region), 'global'];
    for (const geo of geos) {
      const profile = entry.profiles[geo];
      if (profile) return profile;
    }
    return entry.id;
  };

  const resolve = (ref: string, region?: string): ResolvedModel => {
    const entry = entryOf(ref);
    const exact = ref.trim().toLowerCase();
    // A concrete id without a region is taken as meant: it is what an earlier resolve returned.
    const isConcreteId = exact !== entry.alias.toLowerCase() && !(TIERS as readonly string[]).includes(exact);
    if (region === undefined && isConcreteId) return { modelId: ref.trim(), entry };
    return { modelId: modelIdFor(entry, region ?? 'us-east-1'), entry };
  };

  const cheaper = (ref: string, region?: string): ResolvedModel | undefined => {
    const next = TIERS[TIERS.indexOf(entryOf(ref).tier) + 1];
    return next ? resolve(current[next], region) : undefined;
  };

  return {
    resolve,
    entries: () => [...entries],
    cheaper,
    another: (ref, region, exclude) => {
      const own = entryOf(ref);
      let down = cheaper(ref, region);
      while (down && exclude(down.modelId)) down = cheaper(down.entry.alias, region);
      if (down) return down;
      return TIERS.map((tier) => resolve(current[tier], region))
        .find((candidate) => candidate.entry.alias !== own.alias && !exclude(candidate.modelId));
    },
    priceOf: (modelId) => {
      const { prices, regionalPricePremium } = entryOf(modelId);
      if (regionalPricePremium === 0 || isGlobalProfile(modelId)) return prices;
      const factor = 1 + regionalPricePremium;
      // Rounded to a hundredth of a cent per MTok, as AWS lists them ($3.30, $0.33).
      const scaled = (value: number) => Math.round(value * factor * 10_000) / 10_000;
      return {
        inputPerMTok: scaled(prices.inputPerMTok),
        outputPerMTok: scaled(prices.outputPerMTok),
        cacheWritePerMTok: scaled(prices.cacheWritePerMTok),
        cacheReadPerMTok: scaled(prices.cacheReadPerMTok),
      };
    },
  };
}

/** A configuration that turns thinking on or off, or names its type, redefines the types the model takes. */
function thinkingTypesOf(override: NonNullable<ModelsConfig['entries']>[string], base: ModelEntry | undefined): ThinkingType[] {
  if (override.thinking === false) return [];
  if (override.thinkingType !== undefined) return base?.thinkingTypes.includes(override.thinkingType) ? base.thinkingTypes : [override.thinkingType];
  if (override.thinking === true) return base?.thinkingTypes.length ? base.thinkingTypes : ['enabled'];
  return base?.thinkingTypes ?? [];
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
