import { z } from 'zod';

const positiveInt = z.int().min(1);
const price = z.number().min(0);

const pricesSchema = z.strictObject({
  inputPerMTok: price,
  outputPerMTok: price,
  cacheWritePerMTok: price,
  cacheReadPerMTok: price,
});

const geo = z.enum(['us', 'eu', 'apac', 'jp', 'au', 'global']);

/** One model's facts as `models.entries` overrides or adds them; the built-in ones live in bedrock-models.json. */
const modelEntrySchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+\.[a-z0-9.-]+(:\d+)?$/, 'a Bedrock model id such as anthropic.claude-…-v1:0').optional(),
  tier: z.enum(['opus', 'sonnet', 'haiku']).optional(),
  profiles: z.record(z.string(), z.string().min(1)).optional(),
  contextTokens: positiveInt.optional(),
  maxOutputTokens: positiveInt.optional(),
  prices: pricesSchema.partial().optional(),
  /** Share added to the global price for geographic profiles and in-region ids (0.1 = 10 %). */
  regionalPricePremium: z.number().min(0).max(1).optional(),
  minCacheTokens: positiveInt.optional(),
  caching: z.boolean().optional(),
  cacheTtls: z.array(z.enum(['5m', '1h'])).optional(),
  thinking: z.boolean().optional(),
  thinkingType: z.enum(['enabled', 'adaptive']).optional(),
  interleavedThinking: z.boolean().optional(),
  /** False for models that refuse a trailing assistant message (Sonnet 4.6, Opus 4.6 and later). */
  prefill: z.boolean().optional(),
  /** False where Bedrock refuses `temperature` and `topP` together (the 4.5 generation and later). */
  temperatureWithTopP: z.boolean().optional(),
  /** Served on demand only through an inference profile. */
  profileOnly: z.boolean().optional(),
  lifecycle: z.enum(['active', 'legacy', 'eol']).optional(),
  eolDate: z.iso.date().optional(),
  /** The alias to move to when this model is Legacy or past its end of life. */
  replacement: z.string().min(1).optional(),
});

export const modelsSchema = z.strictObject({
  /** What the aliases `opus`, `sonnet` and `haiku` mean. */
  current: z.strictObject({ opus: z.string().optional(), sonnet: z.string().optional(), haiku: z.string().optional() }).default({}),
  /** Overrides of built-in models by alias (prices change), or new models under a new alias. */
  entries: z.record(z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'a lower-case alias'), modelEntrySchema).default({}),
  /** Force one inference-profile geography (e.g. `global`) where a model has it. */
  profileGeo: geo.optional(),
});

export type ModelsConfig = z.input<typeof modelsSchema>;
