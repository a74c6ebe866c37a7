import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBuiltinTools } from '../../src/tools/builtin/index.js';
import { executeToolUses } from '../../src/tools/executor.js';
import { createToolRegistry } from '../../src/tools/registry.js';

const SCENARIOS = join(import.meta.dirname, '../../scenarios');
const NOW = Date.parse('2026-11-25T15:00:00Z');

interface ToolUse { name: string; input: unknown }
interface ScenarioFile { name: string; agent?: { tools?: string[] }; model?: { rules?: Array<{ toolUse?: ToolUse; toolUses?: ToolUse[] }> } }

const fill = (input: unknown, call: Record<string, string>): unknown =>
  JSON.parse(JSON.stringify(input).replace(/\{\{(from|to|callId)\}\}/g, (_match, key: string) => call[key] ?? ''));

describe('scenario tool uses', () => {
  it('name built-in tools and pass their inputs, for a known and an unknown load-test caller', async () => {
    const registry = createToolRegistry(await createBuiltinTools({ fixturesDir: join(SCENARIOS, 'fixtures'), now: () => NOW }));
    const files = (await readdir(SCENARIOS)).filter((file) => file.endsWith('.json'));
    let checked = 0;
    for (const file of files) {
      const scenario = JSON.parse(await readFile(join(SCENARIOS, file), 'utf8')) as ScenarioFile;
      expect(() => registry.specsFor(scenario.agent?.tools ?? [])).not.toThrow();
      const uses = (scenario.model?.rules ?? []).flatMap((rule) => [...(rule.toolUse ? [rule.toolUse] : []), ...(rule.toolUses ?? [])]);
      for (const from of ['+15551000000', '+15551000777']) {
        const call = { from, to: '+15550000000', callId: `${scenario.name}-1` };
        const results = await executeToolUses(registry, uses.map((use, index) => ({ toolUseId: `t${index}`, name: use.name, input: fill(use.input, call) })),
          { callId: call.callId, agent: scenario.name, from, to: call.to }, { signal: new AbortController().signal, defaultTimeoutMs: 5_000, maxResultBytes: 64_000 });
        for (const result of results) expect([file, result.name, result.status, result.content]).toEqual([file, result.name, 'success', result.content]);
        checked += results.length;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(8);
  });
});
