import type { ModelsConfig } from './schema.js';

export type ModelTier = 'opus' | 'sonnet' | 'haiku';

/** USD per million tokens. Cache writes are the 5-minute TTL price. */
export interface ModelPrices {
  inputPerMTok: number;
  outputPerMTok: number;
  cacheWritePerMTok: number;
  cacheReadPerMTok: number;
}

export interface ModelEntry {
  alias: string;
  /** Base model id, e.g. `anthropic.claude-sonnet-4-5-20250929-v1:0`. */
  id: string;
  /** Geography (`us`, `eu`, `apac`, `jp`, `au`, `global`) → cross-region inference profile id. */
  profiles: Record<string, string>;
  contextTokens: number;
  maxOutputTokens: number;
  prices: ModelPrices;
  /** Smallest prefix, in tokens, that a cache point may close. */
  minCacheTokens: number;
  /** Whether Bedrock accepts cache points for this model. */
  caching: boolean;
  thinking: boolean;
  /** `adaptive` for models that refuse `type: "enabled"` (Opus 4.7). */
  thinkingType: 'enabled' | 'adaptive';
  /** Whether the interleaved-thinking beta applies (Claude 4 generation). */
  interleavedThinking: boolean;
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
  priceOf(modelId: string): ModelPrices;
}

export class UnknownModelError extends Error {
  override readonly name = 'UnknownModelError';
  constructor(readonly ref: string, readonly known: string[]) {
    super(`unknown model "${ref}" — expected one of: ${known.join(', ')} (or an inference profile id of one of them, e.g. us.<id>)`);
  }
}

export const TIERS: readonly ModelTier[] = ['opus', 'sonnet', 'haiku'];

type BuiltinEntry = Omit<ModelEntry, 'profiles' | 'thinkingType' | 'interleavedThinking'> & {
  geos: string[];
  interleavedThinking?: boolean;
};

const prices = (inputPerMTok: number, outputPerMTok: number, cacheWritePerMTok: number, cacheReadPerMTok: number): ModelPrices =>
  ({ inputPerMTok, outputPerMTok, cacheWritePerMTok, cacheReadPerMTok });

/**
 * The models of BEDROCK.md. Prices are defaults: `models.entries` in the configuration overrides
 * them and adds models. Minimum cache prefixes follow Anthropic's published minimums.
 */
export const BUILTIN_MODELS: readonly BuiltinEntry[] = [
  { alias: 'opus-4', id: 'anthropic.claude-opus-4-20250514-v1:0', geos: ['us', 'eu'], contextTokens: 200_000, maxOutputTokens: 32_000, prices: prices(15, 75, 18.75, 1.5), minCacheTokens: 1_024, caching: true, thinking: true, interleavedThinking: true, tier: 'opus' },
  { alias: 'opus-4.1', id: 'anthropic.claude-opus-4-1-20250805-v1:0', geos: ['us'], contextTokens: 200_000, maxOutputTokens: 32_000, prices: prices(15, 75, 18.75, 1.5), minCacheTokens: 1_024, caching: true, thinking: true, interleavedThinking: true, tier: 'opus' },
  { alias: 'opus-4.5', id: 'anthropic.claude-opus-4-5-20251101-v1:0', geos: ['global', 'us', 'eu'], contextTokens: 200_000, maxOutputTokens: 64_000, prices: prices(5, 25, 6.25, 0.5), minCacheTokens: 4_096, caching: true, thinking: true, interleavedThinking: true, tier: 'opus' },
  { alias: 'sonnet-4', id: 'anthropic.claude-sonnet-4-20250514-v1:0', geos: ['global', 'us', 'eu', 'apac'], contextTokens: 200_000, maxOutputTokens: 64_000, prices: prices(3, 15, 3.75, 0.3), minCacheTokens: 1_024, caching: true, thinking: true, interleavedThinking: true, tier: 'sonnet' },
  { alias: 'sonnet-4.5', id: 'anthropic.claude-sonnet-4-5-20250929-v1:0', geos: ['global', 'us', 'eu', 'jp', 'au'], contextTokens: 200_000, maxOutputTokens: 64_000, prices: prices(3, 15, 3.75, 0.3), minCacheTokens: 1_024, caching: true, thinking: true, interleavedThinking: true, tier: 'sonnet' },
  { alias: 'haiku-4.5', id: 'anthropic.claude-haiku-4-5-20251001-v1:0', geos: ['global', 'us', 'eu', 'jp', 'au', 'apac'], contextTokens: 200_000, maxOutputTokens: 64_000, prices: prices(1, 5, 1.25, 0.1), minCacheTokens: 4_096, caching: true, thinking: true, interleavedThinking: true, tier: 'haiku' },
  { alias: 'sonnet-3.7', id: 'anthropic.claude-3-7-sonnet-20250219-v1:0', geos: ['us', 'eu', 'apac'], contextTokens: 200_000, maxOutputTokens: 64_000, prices: prices(3, 15, 3.75, 0.3), minCacheTokens: 1_024, caching: true, thinking: true, tier: 'sonnet' },
  // Prompt caching on 3.5 Sonnet v2 was a Bedrock preview only, so no cache points are sent to it.
  { alias: 'sonnet-3.5-v2', id: 'anthropic.claude-3-5-sonnet-20241022-v2:0', geos: ['us', 'eu', 'apac'], contextTokens: 200_000, maxOutputTokens: 8_192, prices: prices(3, 15, 3.75, 0.3), minCacheTokens: 1_024, caching: false, thinking: false, tier: 'sonnet' },
  { alias: 'haiku-3.5', id: 'anthropic.claude-3-5-haiku-20241022-v1:0', geos: ['us'], contextTokens: 200_000, maxOutputTokens: 8_192, prices: prices(0.8, 4, 1, 0.08), minCacheTokens: 2_048, caching: true, thinking: false, tier: 'haiku' },
];

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

/** The catalogue's entries after applying `models.entries`, plus problems found on the way. */
export function buildEntries(models: ModelsConfig): { entries: ModelEntry[]; problems: CatalogueProblem[] } {
  const problems: CatalogueProblem[] = [];
  const byAlias = new Map<string, ModelEntry>();
  for (const { geos, ...builtin } of BUILTIN_MODELS) {
    byAlias.set(builtin.alias, {
      ...builtin,
      profiles: Object.fromEntries(geos.map((geo) => [geo, `${geo}.${builtin.id}`])),
      thinkingType: 'enabled',
      interleavedThinking: builtin.interleavedThinking ?? false,
    });
  }
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
    const merged: ModelEntry = {
      alias,
      id: override.id ?? base?.id ?? '',
      profiles: override.profiles ?? base?.profiles ?? {},
      contextTokens: override.contextTokens ?? base?.contextTokens ?? 0,
      maxOutputTokens: override.maxOutputTokens ?? base?.maxOutputTokens ?? 0,
      prices: { ...(base?.prices ?? prices(0, 0, 0, 0)), ...stripUndefined(override.prices ?? {}) },
      minCacheTokens: override.minCacheTokens ?? base?.minCacheTokens ?? 1_024,
      caching: override.caching ?? base?.caching ?? false,
      thinking: override.thinking ?? base?.thinking ?? false,
      thinkingType: override.thinkingType ?? base?.thinkingType ?? 'enabled',
      interleavedThinking: override.interleavedThinking ?? base?.interleavedThinking ?? false,
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
  return { entries, problems };
}

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

  return {
    resolve,
    entries: () => [...entries],
    cheaper: (ref, region) => {
      const next = TIERS[TIERS.indexOf(entryOf(ref).tier) + 1];
      return next ? resolve(current[next], region) : undefined;
    },
    priceOf: (modelId) => entryOf(modelId).prices,
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
