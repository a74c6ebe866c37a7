import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBuiltinTools } from '../../src/tools/builtin/index.js';
import { executeToolUses } from '../../src/tools/executor.js';
import { createToolRegistry } from '../../src/tools/registry.js';

const SCENARIOS = join(import.meta.dirname, '../../scenarios');
const NOW = Date.parse('2026-11-25T15:00:00Z');

interface ToolUse { name: string; input: unknown }
interface ScenarioFile { name: string; agent?: { tools?: string[]; knowledgeBase?: string }; tools?: object; model?: { rules?: Array<{ toolUse?: ToolUse; toolUses?: ToolUse[] }> } }

const fill = (input: unknown, call: Record<string, string>): unknown =>
  JSON.parse(JSON.stringify(input).replace(/\{\{(from|to|callId)\}\}/g, (_match, key: string) => call[key] ?? ''));

const KNOWN = '+15551000000';
const UNKNOWN = '+15551000777';

/**
 * What each scenario's tool uses answer, for the caller the fixtures know and one they do not, in
 * the order the scenario's rules name them. The unknown caller runs second, so the booking slot
 * the known caller took is taken by then.
 */
const EXPECTED: Record<string, Record<string, Array<{ name: string; content: object }>>> = {
  'book-appointment.json': {
    [KNOWN]: [{ name: 'lookup_customer', content: { found: true, customer: { id: 'C-1001' } } }, { name: 'book_appointment', content: { booked: true, appointment: { date: '2026-12-03', time: '10:00' } } }],
    [UNKNOWN]: [{ name: 'lookup_customer', content: { found: false } }, { name: 'book_appointment', content: { booked: false, reason: 'taken' } }],
  },
  'customer-lookup.json': {
    [KNOWN]: [{ name: 'lookup_customer', content: { found: true, customer: { id: 'C-1001' } } }],
    [UNKNOWN]: [{ name: 'lookup_customer', content: { found: false } }],
  },
  'knowledge-search.json': {
    [KNOWN]: [{ name: 'search_knowledge', content: { results: [{ id: 'cancellation-policy' }, { id: 'insurance' }] } }],
    [UNKNOWN]: [{ name: 'search_knowledge', content: { results: [{ id: 'cancellation-policy' }, { id: 'insurance' }] } }],
  },
  'transfer-to-human.json': {
    [KNOWN]: [{ name: 'transfer_call', content: { transferring: true, to: 'front-desk' } }],
    [UNKNOWN]: [{ name: 'transfer_call', content: { transferring: true, to: 'front-desk' } }],
  },
};

describe('scenario tool uses', () => {
  it('name built-in tools and pass their inputs, for a known and an unknown load-test caller', async () => {
    const registry = createToolRegistry(await createBuiltinTools({ fixturesDir: join(SCENARIOS, 'fixtures'), now: () => NOW }));
    const files = (await readdir(SCENARIOS)).filter((file) => file.endsWith('.json'));
    const answered: typeof EXPECTED = {};
    for (const file of files) {
      const scenario = JSON.parse(await readFile(join(SCENARIOS, file), 'utf8')) as ScenarioFile;
      // Scenarios of the Lambda, Kendra, Knowledge Bases and MCP backends run against their emulators
      // and servers in the scenario library (test/load/scenario-library.test.ts), not on the fixtures.
      const backed = scenario.tools !== undefined || scenario.agent?.knowledgeBase !== undefined || (scenario.agent?.tools ?? []).includes('execute_code');
      if (backed) continue;
      expect(() => registry.specsFor(scenario.agent?.tools ?? [])).not.toThrow();
      const uses = (scenario.model?.rules ?? []).flatMap((rule) => [...(rule.toolUse ? [rule.toolUse] : []), ...(rule.toolUses ?? [])]);
      if (uses.length === 0) continue;
      answered[file] = {};
      for (const from of [KNOWN, UNKNOWN]) {
        const call = { from, to: '+15550000000', callId: `${scenario.name}-1` };
        const results = await executeToolUses(registry, uses.map((use, index) => ({ toolUseId: `t${index}`, name: use.name, input: fill(use.input, call) })),
          { callId: call.callId, agent: scenario.name, from, to: call.to }, { signal: new AbortController().signal, defaultTimeoutMs: 5_000, maxResultBytes: 64_000 });
        expect(results.map((result) => [file, result.name, result.status])).toEqual(uses.map((use) => [file, use.name, 'success']));
        answered[file]![from] = results.map((result) => ({ name: result.name, content: result.content as object }));
      }
    }
    expect(answered).toMatchObject(EXPECTED);
    expect(Object.keys(answered).sort()).toEqual(Object.keys(EXPECTED).sort());
  });
});
