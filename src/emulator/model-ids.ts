/**
 * Which model ids the emulator answers for. Any well-formed Anthropic id on Bedrock, with or
 * without a cross-region profile prefix, so newer models work without a code change; anything
 * else is refused the way Bedrock refuses it.
 */
const MODEL_ID = /^(?:(?:us|eu|apac|jp|au|global|us-gov|ca)\.)?anthropic\.claude-[a-z0-9.-]+-\d{8}-v\d+(?::\d+)?$/;

export const isKnownModelId = (modelId: string): boolean => MODEL_ID.test(modelId);

const PROFILE_ONLY = /^anthropic\.claude-(?:opus|sonnet|haiku)-\d/;

/** Claude 4-generation models are served on demand only through an inference profile (`us.`, `global.`, ...). */
export const needsInferenceProfile = (modelId: string): boolean => PROFILE_ONLY.test(modelId);

/** Minimum prompt tokens before a cache point takes effect, per BEDROCK.md. */
export function minimumCacheTokens(modelId: string): number {
  if (modelId.includes('claude-haiku-4-5')) return 4_096;
  if (modelId.includes('claude-3-5-haiku')) return 2_048;
  return 1_024;
}
