import type { Tool } from '@aws-sdk/client-bedrock-runtime';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { ToolConfigError } from './errors.js';
import type { ToolDefinition } from './types.js';

export { ToolConfigError };

/** Bedrock's rule for tool names (docs/bedrock.md). */
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
/** Enough for the model to fix its input; more would only fill the context. */
const MAX_REPORTED_PROBLEMS = 10;

export interface ToolRegistry {
  get(name: string): ToolDefinition | undefined;
  names(): string[];
  /** The `toolConfig.tools` entries for these tools, in the given order. */
  specsFor(names: string[]): Tool[];
  /** Why `input` does not satisfy the tool's schema, one line per problem; empty when it does. */
  inputProblems(name: string, input: unknown): string[];
}

interface RegisteredTool {
  definition: ToolDefinition;
  spec: Tool;
  validate: ValidateFunction;
}

/**
 * The tools a node offers. Every schema is compiled once here, so a broken definition stops the
 * process at start-up instead of failing a caller's turn.
 */
export function createToolRegistry(definitions: ToolDefinition[]): ToolRegistry {
  const ajv = new Ajv({ allErrors: true, logger: false });
  const tools = new Map<string, RegisteredTool>();
  for (const definition of definitions) {
    if (tools.has(definition.name)) throw new ToolConfigError(`Tool "${definition.name}" is defined twice.`);
    tools.set(definition.name, register(ajv, definition));
  }

  const known = (): string => [...tools.keys()].join(', ') || '(none)';

  return {
    get: (name) => tools.get(name)?.definition,
    names: () => [...tools.keys()],
    specsFor(names) {
      return [...new Set(names)].map((name) => {
        const tool = tools.get(name);
        if (!tool) throw new ToolConfigError(`Unknown tool "${name}" in an agent's tool list. Known tools: ${known()}.`);
        return tool.spec;
      });
    },
    inputProblems(name, input) {
      const tool = tools.get(name);
      if (!tool) return [`unknown tool "${name}"`];
      return tool.validate(input) ? [] : describeErrors((tool.validate.errors ?? []).slice(0, MAX_REPORTED_PROBLEMS));
    },
  };
}

function register(ajv: Ajv, definition: ToolDefinition): RegisteredTool {
  const { name, description, inputSchema } = definition;
  if (typeof name !== 'string' || !TOOL_NAME.test(name)) {
    throw new ToolConfigError(`Tool name ${JSON.stringify(name)} is invalid: Bedrock requires 1-64 characters of [a-zA-Z0-9_-].`);
  }
  if (typeof description !== 'string' || description.trim() === '') {
    throw new ToolConfigError(`Tool "${name}" needs a non-empty description: the model chooses tools by it.`);
  }
  if (inputSchema?.type !== 'object') {
    throw new ToolConfigError(`Tool "${name}": inputSchema must be a JSON Schema with "type": "object", got type ${JSON.stringify(inputSchema?.type)}.`);
  }
  if (definition.timeoutMs !== undefined && !(Number.isFinite(definition.timeoutMs) && definition.timeoutMs > 0)) {
    throw new ToolConfigError(`Tool "${name}": timeoutMs must be a positive number of milliseconds, got ${definition.timeoutMs}.`);
  }
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(inputSchema);
  } catch (error) {
    throw new ToolConfigError(`Tool "${name}": inputSchema does not compile: ${(error as Error).message}`);
  }
  // The schema is JSON by contract; the SDK's document type cannot express `unknown`.
  const spec = { toolSpec: { name, description, inputSchema: { json: inputSchema } } } as Tool;
  return { definition, spec, validate };
}

/** `/date: must match pattern "…"`: the path tells the model which field to fix. */
export function describeErrors(errors: ErrorObject[]): string[] {
  return errors.map((error) => {
    const path = error.instancePath || '(input)';
    const detail = error.keyword === 'additionalProperties'
      ? `${error.message ?? 'is not allowed'}: "${String(error.params.additionalProperty)}"`
      : error.message ?? `fails ${error.keyword}`;
    return `${path}: ${detail}`;
  });
}
