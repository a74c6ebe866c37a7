import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** A case-insensitive regular expression given as a string; refused at load when it does not compile. */
const regexSource = z.string().min(1).superRefine((source, context) => {
  try {
    new RegExp(source, 'i');
  } catch (error) {
    context.addIssue({ code: 'custom', message: `not a valid regular expression (${(error as Error).message})` });
  }
});

const toolName = z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'a tool name: 1-64 of a-z A-Z 0-9 _ -');

const toolUseSchema = z.strictObject({
  name: toolName,
  input: z.record(z.string(), z.unknown()).default({}),
});

const rate = z.number().min(0).max(1);

/** Fault rates for one model or region: each a probability in [0, 1], drawn from the emulator's seeded RNG. */
const faultRatesSchema = z.strictObject({
  throttleRate: rate.optional(),
  serviceUnavailableRate: rate.optional(),
  notReadyRate: rate.optional(),
  midStreamErrorRate: rate.optional(),
  /** A throttlingException event half-way through the stream (Bedrock throttles streams in flight too). */
  inStreamThrottleRate: rate.optional(),
  stallRate: rate.optional(),
  stallMs: z.number().int().min(0).max(600_000).optional(),
  corruptRate: rate.optional(),
  /** Refusals before the stream, each with the status and `{message}` body of the SDK's service model. */
  accessDeniedRate: rate.optional(),
  resourceNotFoundRate: rate.optional(),
  modelTimeoutRate: rate.optional(),
  modelErrorRate: rate.optional(),
  serviceQuotaExceededRate: rate.optional(),
  /** Exception events half-way through the stream. */
  inStreamInternalErrorRate: rate.optional(),
  inStreamUnavailableRate: rate.optional(),
  inStreamValidationRate: rate.optional(),
});

const faultsSchema = faultRatesSchema.extend({
  /** Keyed by a substring of the model id (`claude-sonnet` matches every Sonnet id and profile). */
  byModel: z.record(z.string().min(1), faultRatesSchema).optional(),
  /** Keyed by the region of the request's SigV4 credential scope. */
  byRegion: z.record(z.string().min(1), faultRatesSchema).optional(),
});

const ruleSchema = z
  .strictObject({
    when: regexSource.optional(),
    after: toolName.optional(),
    thinking: z.string().min(1).optional(),
    /** Answer the reasoning as a redacted blob instead of text (when thinking is on). */
    redactedThinking: z.boolean().optional(),
    reply: z.string().min(1).optional(),
    toolUse: toolUseSchema.optional(),
    toolUses: z.array(toolUseSchema).min(1).optional(),
    /** The emulator's receptionist answers (src/emulator/receptionist/): from the request's history and tool results. */
    receptionist: z.literal(true).optional(),
  })
  .superRefine((rule, context) => {
    const answers = [rule.reply, rule.toolUse, rule.toolUses, rule.receptionist].filter((answer) => answer !== undefined).length;
    if (answers === 0) {
      context.addIssue({ code: 'custom', message: 'a rule needs an answer: reply, toolUse, toolUses or receptionist' });
    }
    if (rule.receptionist !== undefined && answers > 1) {
      context.addIssue({ code: 'custom', path: ['receptionist'], message: 'the receptionist answers alone: no reply, toolUse or toolUses with it' });
    }
    if (rule.toolUse !== undefined && rule.toolUses !== undefined) {
      context.addIssue({ code: 'custom', path: ['toolUses'], message: 'use toolUse or toolUses, not both' });
    }
  });

const ttftRange = z
  .strictObject({ min: z.number().min(0).max(120_000), max: z.number().min(0).max(120_000) })
  .refine((range) => range.min <= range.max, { message: 'min must not exceed max', path: ['max'] });

export const modelScriptSchema = z.strictObject({
  ttftMs: z.union([z.number().min(0).max(120_000), ttftRange]).default({ min: 150, max: 400 }),
  /**
   * How parallel tool uses stream: `sequential` (each block start → deltas → stop before the next,
   * as Claude on Bedrock appears to) or `interleaved` (all starts, then deltas by turns), which
   * clients must survive too.
   */
  toolUseStreaming: z.enum(['sequential', 'interleaved']).default('sequential'),
  /** Streaming speed of the answer; a very large value streams as fast as the sockets allow. */
  tokensPerSecond: z.number().positive().default(80),
  rules: z.array(ruleSchema).min(1),
  faults: faultsSchema.optional(),
});

export type ModelScript = z.input<typeof modelScriptSchema>;
export type ParsedModelScript = z.output<typeof modelScriptSchema>;
export type ScriptRule = ParsedModelScript['rules'][number];
export type Faults = NonNullable<ParsedModelScript['faults']>;
export type FaultRates = z.output<typeof faultRatesSchema>;

export class ModelScriptError extends Error {
  override readonly name = 'ModelScriptError';
  constructor(readonly source: string, readonly problems: string[]) {
    super(problems.map((problem) => `${source}: ${problem}`).join('\n'));
  }
}

/** Validates a script; every problem is reported as `source: json.path: problem`. */
export function parseModelScript(value: unknown, source: string): ParsedModelScript {
  const result = modelScriptSchema.safeParse(value);
  if (result.success) return result.data;
  throw new ModelScriptError(source, result.error.issues.map((issue) => {
    const path = issue.path.length ? issue.path.map(String).join('.') : '(root)';
    return `${path}: ${issue.message}`;
  }));
}

/**
 * Reads a script file. A scenario file is accepted too: its `model` section is the script, and
 * problems are reported under `model.`.
 */
export function loadModelScriptFile(file: string): ParsedModelScript {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ModelScriptError(file, [`(root): cannot read a JSON script (${(error as Error).message})`]);
  }
  const isScenario = typeof value === 'object' && value !== null && !('rules' in value) && 'model' in value;
  if (!isScenario) return parseModelScript(value, file);
  try {
    return parseModelScript((value as { model: unknown }).model, file);
  } catch (error) {
    if (!(error instanceof ModelScriptError)) throw error;
    throw new ModelScriptError(file, error.problems.map((problem) => `model.${problem}`));
  }
}

/**
 * The model a caller meets when nobody gave a script: the receptionist of a small dental practice,
 * answering every request from what it contains (src/emulator/receptionist/, docs/bedrock.md).
 */
export const demoScript: ModelScript = {
  ttftMs: { min: 150, max: 400 },
  tokensPerSecond: 80,
  rules: [{ receptionist: true }],
};
