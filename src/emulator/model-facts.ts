import modelData from '../config/bedrock-models.json' with { type: 'json' };

/**
 * What the emulator knows of each model, read from the same data file as the client's catalogue
 * (src/config/bedrock-models.json), so per-model limits have one source of truth.
 */
export interface EmulatedModel {
  alias: string;
  id: string;
  geos: string[];
  lifecycle: 'active' | 'legacy' | 'eol';
  eolDate?: string;
  maxOutputTokens: number;
  minCacheTokens: number;
  cacheTtls: string[];
  thinkingTypes: string[];
  prefill: boolean;
  temperatureWithTopP: boolean;
  profileOnly: boolean;
}

export const BUILTIN_EMULATED_MODELS: readonly EmulatedModel[] = (modelData as { models: EmulatedModel[] }).models;

const PROFILE_PREFIX = /^(us|eu|apac|jp|au|global|us-gov|ca)\./;

export interface ModelLookup {
  /** The model behind an id or inference-profile id, with whether a profile was used; undefined for ids Bedrock does not serve. */
  find(modelId: string): { model: EmulatedModel; profile: string | undefined } | undefined;
}

export function modelLookup(models: readonly EmulatedModel[]): ModelLookup {
  const byId = new Map(models.map((model) => [model.id, model]));
  return {
    find(modelId) {
      const profile = PROFILE_PREFIX.exec(modelId)?.[1];
      const model = byId.get(profile ? modelId.slice(profile.length + 1) : modelId);
      if (!model || (profile && !model.geos.includes(profile))) return undefined;
      return { model, profile };
    },
  };
}

/** Past its end of life on `today` (`YYYY-MM-DD`): Bedrock no longer serves the id. */
export const isRetired = (model: EmulatedModel, today: string): boolean =>
  model.lifecycle === 'eol' || (model.eolDate !== undefined && model.eolDate <= today);

/** The facts of a model as a configuration states them (the catalogue's entries fit this shape). */
export type ConfiguredModel = Omit<EmulatedModel, 'geos'> & { profiles: Record<string, string> };

/** Models a configuration adds or changes, for an embedded emulator to serve as the catalogue describes them. */
export const emulatedModelsOf = (models: readonly ConfiguredModel[]): EmulatedModel[] =>
  models.map(({ profiles, ...model }) => ({ ...model, geos: Object.keys(profiles) }));
