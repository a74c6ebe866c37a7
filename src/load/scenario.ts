import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { modelScriptSchema } from '../emulator/script.js';

/** A regular expression given as a string; refused at load when it does not compile. */
const regexSource = z.string().min(1).refine((source) => {
  try {
    new RegExp(source, 'i');
    return true;
  } catch {
    return false;
  }
}, 'not a valid regular expression');

const expectSchema = z.strictObject({
  tool: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/).optional(),
  sayMatches: regexSource.optional(),
  transfer: z.boolean().optional(),
});

/**
 * One caller step. A flat object with exactly one action field, rather than a union, so a mistake
 * is reported at the field that is wrong instead of "no union member matched".
 */
const stepSchema = z
  .strictObject({
    say: z.string().min(1).max(8_000).optional(),
    bargeInAfterMs: z.number().int().min(0).max(60_000).optional(),
    pauseMs: z.number().int().min(0).max(600_000).optional(),
    dtmf: z.string().regex(/^[0-9*#A-D]$/, 'one of 0-9 * # A-D').optional(),
    hangup: z.literal(true).optional(),
    expect: expectSchema.optional(),
  })
  .superRefine((step, context) => {
    const actions = (['say', 'pauseMs', 'dtmf', 'hangup'] as const).filter((key) => step[key] !== undefined);
    if (actions.length !== 1) {
      context.addIssue({ code: 'custom', message: `a step needs exactly one of say, pauseMs, dtmf, hangup; found ${actions.length ? actions.join(', ') : 'none'}` });
    }
    if (step.bargeInAfterMs !== undefined && step.say === undefined) {
      context.addIssue({ code: 'custom', path: ['bargeInAfterMs'], message: 'bargeInAfterMs belongs on a say step' });
    }
    if (step.expect && (step.pauseMs !== undefined || step.hangup)) {
      context.addIssue({ code: 'custom', path: ['expect'], message: 'expect belongs on a say or dtmf step' });
    }
  });

const agentSchema = z.strictObject({
  systemPrompt: z.string().min(1),
  tools: z.array(z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/)).default([]),
  model: z.string().min(1).default('sonnet'),
  thinking: z.strictObject({ budgetTokens: z.number().int().min(1_024), interleaved: z.boolean().default(false) }).optional(),
  maxTokens: z.number().int().min(1).optional(),
  windowMessages: z.number().int().min(2).optional(),
  maxContextTokens: z.number().int().min(1_000).optional(),
  maxCostUsd: z.number().positive().optional(),
  cannedAnswer: z.string().min(1).optional(),
  cacheFirstAnswers: z.boolean().optional(),
  /** A name in the scenario's (or the server's) `tools.knowledgeBases`. */
  knowledgeBase: z.string().min(1).optional(),
});

/** Tool backends the scenario's agent needs, merged into the node's `tools` (checked there, src/config/schema.ts). */
const toolsSchema = z.strictObject({
  knowledgeBases: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  mcp: z.array(z.record(z.string(), z.unknown())).optional(),
  connectors: z.array(z.record(z.string(), z.unknown())).optional(),
});

/**
 * How the caller speaks and hears at `aybiza load --pace phone` (src/load/pacing.ts): rates of
 * conversational telephone speech, so a call takes a turn every 8–12 s as on a phone line.
 * `--pace fast` ignores it.
 */
const pacingSchema = z.strictObject({
  /** Conversational English runs at 140–160 words a minute. */
  callerWordsPerMinute: z.number().min(30).max(600).default(150),
  /** Streaming speech-to-text sends a partial transcript this often while the caller speaks. */
  partialEveryMs: z.number().int().min(20).max(5_000).default(250),
  /** Silence after the caller's last word before the final transcript: the recognizer's endpointing. */
  endpointingMs: z.number().int().min(0).max(10_000).default(300),
  /** Text-to-speech voices read at 150–180 words a minute. */
  agentWordsPerMinute: z.number().min(30).max(600).default(165),
});

/**
 * The emulated speech services a `--transport twilio` run gives this scenario's agent (Transcribe
 * and Polly emulators of its own, as `model` sets the Bedrock emulator's TTFT): their latencies by
 * design. Applied when `aybiza load` runs the node itself; a separate serve (`--url`) keeps its own.
 */
const speechLatencySchema = z.strictObject({
  /** Transcribe's endpointing: silence after the last word before the final. Default 600 ms. */
  endOfSpeechMs: z.number().int().min(0).max(10_000).optional(),
  /** Added before each partial result is sent: Transcribe's first-partial latency. */
  partialDelayMs: z.number().int().min(0).max(10_000).optional(),
  /** Added before each final result is sent. */
  finalDelayMs: z.number().int().min(0).max(10_000).optional(),
  /** Polly's time to the first audio byte of each synthesis. */
  pollyFirstByteMs: z.number().int().min(0).max(10_000).optional(),
});

export const scenarioSchema = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().regex(/^[a-z0-9-]+$/, 'lower-case letters, digits and -'),
  description: z.string().optional(),
  agent: agentSchema.optional(),
  tools: toolsSchema.optional(),
  model: modelScriptSchema.optional(),
  caller: z.array(stepSchema).min(1),
  load: z.strictObject({
    calls: z.number().int().min(1).default(1),
    rampSeconds: z.number().min(0).default(0),
  }).optional(),
  pacing: pacingSchema.prefault({}),
  speech: speechLatencySchema.optional(),
});

export type Scenario = z.infer<typeof scenarioSchema>;
export type CallerStep = Scenario['caller'][number];
export type ScenarioPacing = Scenario['pacing'];
export type ScenarioSpeech = NonNullable<Scenario['speech']>;

export class ScenarioError extends Error {
  constructor(readonly file: string, readonly problems: string[]) {
    super(`${file}: invalid scenario\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
  }
}

/** `caller[2].expect.sayMatches` from zod's path. */
export function jsonPath(path: ReadonlyArray<PropertyKey>): string {
  if (path.length === 0) return '(root)';
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
}

export function parseScenario(value: unknown, file: string): Scenario {
  const parsed = scenarioSchema.safeParse(value);
  if (!parsed.success) {
    throw new ScenarioError(file, parsed.error.issues.map((issue) => `${jsonPath(issue.path)}: ${issue.message}`));
  }
  return parsed.data;
}

export function loadScenarioFile(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ScenarioError(file, [`cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ScenarioError(file, [`not valid JSON: ${(error as Error).message}`]);
  }
  return parseScenario(value, file);
}

/** The JSON Schema editors use for `scenarios/*.json`; generated from the zod schema so they cannot disagree. */
export function scenarioJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(scenarioSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
