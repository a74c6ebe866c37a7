import { describe, expect, it } from 'vitest';
import { createToolRegistry, ToolConfigError } from '../../src/tools/registry.js';
import type { ToolDefinition } from '../../src/tools/types.js';

const tool = (overrides: Partial<ToolDefinition> = {}): ToolDefinition => ({
  name: 'echo',
  description: 'Echoes its input.',
  inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  run: async (input) => ({ result: input }),
  ...overrides,
});

describe('tool registry', () => {
  it('lists registered tools and builds Bedrock tool specs in the order asked', () => {
    const registry = createToolRegistry([tool(), tool({ name: 'other', description: 'Other tool.' })]);
    expect(registry.names()).toEqual(['echo', 'other']);
    expect(registry.get('echo')?.description).toBe('Echoes its input.');
    expect(registry.get('missing')).toBeUndefined();
    expect(registry.specsFor(['other', 'echo'])).toEqual([
      { toolSpec: { name: 'other', description: 'Other tool.', inputSchema: { json: tool().inputSchema } } },
      { toolSpec: { name: 'echo', description: 'Echoes its input.', inputSchema: { json: tool().inputSchema } } },
    ]);
    expect(registry.specsFor([])).toEqual([]);
  });

  it('refuses two tools with the same name', () => {
    expect(() => createToolRegistry([tool(), tool()])).toThrow(ToolConfigError);
    expect(() => createToolRegistry([tool(), tool()])).toThrow(/"echo" is defined twice/);
  });

  it.each(['has space', 'dot.name', '', 'x'.repeat(65), 'ünïcode'])('refuses the tool name %j that Bedrock would reject', (name) => {
    expect(() => createToolRegistry([tool({ name })])).toThrow(/Bedrock requires 1-64 characters/);
  });

  it('refuses a schema ajv cannot compile, naming the tool', () => {
    const broken = tool({ inputSchema: { type: 'object', properties: { n: { type: 'integer', minimum: 'zero' } } } });
    expect(() => createToolRegistry([broken])).toThrow(ToolConfigError);
    expect(() => createToolRegistry([broken])).toThrow(/Tool "echo": inputSchema does not compile/);
  });

  it('refuses a schema with an unknown keyword', () => {
    const typo = tool({ inputSchema: { type: 'object', propertees: {} } });
    expect(() => createToolRegistry([typo])).toThrow(/does not compile: .*propertees/);
  });

  it('refuses a schema whose root is not an object', () => {
    expect(() => createToolRegistry([tool({ inputSchema: { type: 'string' } })])).toThrow(/must be a JSON Schema with "type": "object"/);
  });

  it('refuses an empty description and a non-positive timeout', () => {
    expect(() => createToolRegistry([tool({ description: ' ' })])).toThrow(/non-empty description/);
    expect(() => createToolRegistry([tool({ timeoutMs: 0 })])).toThrow(/timeoutMs must be a positive number/);
  });

  it('refuses specs for an unknown tool and lists the known ones', () => {
    const registry = createToolRegistry([tool(), tool({ name: 'other' })]);
    expect(() => registry.specsFor(['echo', 'nope'])).toThrow(ToolConfigError);
    expect(() => registry.specsFor(['nope'])).toThrow('Unknown tool "nope" in an agent\'s tool list. Known tools: echo, other.');
  });

  it('reports input problems with their path', () => {
    const registry = createToolRegistry([tool({ inputSchema: {
      type: 'object',
      properties: { text: { type: 'string' }, count: { type: 'integer', minimum: 1 } },
      required: ['text'],
      additionalProperties: false,
    } })]);
    expect(registry.inputProblems('echo', { text: 'hi' })).toEqual([]);
    expect(registry.inputProblems('echo', { count: 0, extra: true })).toEqual([
      "(input): must have required property 'text'",
      '(input): must NOT have additional properties: "extra"',
      '/count: must be >= 1',
    ]);
  });
});
