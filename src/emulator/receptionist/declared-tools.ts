import { isObject, type ConverseRequest } from '../converse-request.js';

/** A tool the request declares, with what its input schema allows and requires. */
export interface DeclaredTool {
  name: string;
  /** Undefined when the schema names no properties (anything goes). */
  properties?: Set<string>;
  required: string[];
}


export function declaredTools(request: ConverseRequest): Map<string, DeclaredTool> {
  const tools = new Map<string, DeclaredTool>();
  for (const tool of request.toolConfig?.tools ?? []) {
    const spec = tool.toolSpec;
    if (!spec) continue;
    const schema = spec.inputSchema?.json;
    const properties = isObject(schema) && isObject(schema.properties) ? new Set(Object.keys(schema.properties)) : undefined;
    const required = isObject(schema) && Array.isArray(schema.required) ? schema.required.filter((key): key is string => typeof key === 'string') : [];
    tools.set(spec.name, { name: spec.name, ...(properties ? { properties } : {}), required });
  }
  return tools;
}

/**
 * The input a tool's schema takes from what the receptionist knows: only the properties it
 * declares, so a tool with `additionalProperties: false` is never sent a field it refuses, and the
 * required ones still unknown.
 */
export function fitInput(tool: DeclaredTool, known: Record<string, string | undefined>): { input: Record<string, string>; missing: string[] } {
  const input: Record<string, string> = {};
  for (const [key, value] of Object.entries(known)) {
    if (value !== undefined && (!tool.properties || tool.properties.has(key))) input[key] = value;
  }
  return { input, missing: tool.required.filter((key) => input[key] === undefined) };
}
