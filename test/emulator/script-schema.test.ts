import { readdirSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoScript, loadModelScriptFile, modelScriptSchema, parseModelScript } from '../../src/emulator/script.js';

const root = new URL('../../', import.meta.url).pathname;
// A scenario without a `model` section (the demo) runs on the emulator's demo script.
const scenarioFiles = readdirSync(join(root, 'scenarios'))
  .filter((file) => file.endsWith('.json') && !file.endsWith('.schema.json'))
  .filter((file) => JSON.parse(readFileSync(join(root, 'scenarios', file), 'utf8')).model !== undefined);

/** The `scripts` object literal of the call-flow integration test, read as data so this test follows it. */
function callFlowScripts(): Record<string, unknown> {
  const source = readFileSync(join(root, 'test/integration/call-flow.test.ts'), 'utf8');
  const start = source.indexOf('const scripts = ');
  const end = source.indexOf('\n};\n', start);
  return new Function(`return ${source.slice(start + 'const scripts = '.length, end + 3)}`)() as Record<string, unknown>;
}

describe('model script schema', () => {
  it.each(scenarioFiles)('accepts the model section of scenarios/%s unchanged', (file) => {
    const scenario = JSON.parse(readFileSync(join(root, 'scenarios', file), 'utf8'));
    expect(scenario.model).toBeDefined();
    expect(() => parseModelScript(scenario.model, file)).not.toThrow();
    expect(() => loadModelScriptFile(join(root, 'scenarios', file))).not.toThrow();
  });

  it('accepts every script of the call-flow integration test', () => {
    const scripts = callFlowScripts();
    expect(Object.keys(scripts).length).toBeGreaterThan(3);
    for (const [agent, script] of Object.entries(scripts)) {
      expect(() => parseModelScript(script, `scripts.${agent}`)).not.toThrow();
    }
  });

  it('accepts the demo script and fills defaults for omitted fields', () => {
    expect(modelScriptSchema.safeParse(demoScript).success).toBe(true);
    expect(parseModelScript({ rules: [{ reply: 'Hi.' }] }, 'x')).toMatchObject({ ttftMs: { min: 150, max: 400 }, tokensPerSecond: 80 });
  });

  const bad: Array<[string, unknown, string]> = [
    ['a rule without an answer', { rules: [{ when: 'hi' }] }, 'rules.0: a rule needs an answer'],
    ['a regex that does not compile', { rules: [{ when: '(unclosed', reply: 'x' }] }, 'rules.0.when: not a valid regular expression'],
    ['a rate above 1', { rules: [{ reply: 'x' }], faults: { throttleRate: 1.5 } }, 'faults.throttleRate:'],
    ['a byModel rate above 1', { rules: [{ reply: 'x' }], faults: { byModel: { sonnet: { notReadyRate: 2 } } } }, 'faults.byModel.sonnet.notReadyRate:'],
    ['a ttft range upside down', { ttftMs: { min: 500, max: 100 }, rules: [{ reply: 'x' }] }, 'ttftMs.max: min must not exceed max'],
    ['an unknown field', { rules: [{ reply: 'x', replay: 'y' }] }, 'rules.0: Unrecognized key'],
    ['no rules', { rules: [] }, 'rules:'],
    ['a bad tool name', { rules: [{ toolUse: { name: 'look up', input: {} } }] }, 'rules.0.toolUse.name:'],
    ['a receptionist rule with its own reply', { rules: [{ receptionist: true, reply: 'x' }] }, 'rules.0.receptionist: the receptionist answers alone'],
    ['receptionist other than true', { rules: [{ receptionist: false }] }, 'rules.0.receptionist:'],
  ];

  it.each(bad)('refuses %s, naming the source and the JSON path', (_, script, expected) => {
    expect(() => parseModelScript(script, 'my-script.json')).toThrow(`my-script.json: ${expected}`);
  });

  it('names the file and the model. path when a scenario file has a bad model section', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aybiza-script-'));
    try {
      const file = join(dir, 'broken.json');
      writeFileSync(file, JSON.stringify({ name: 'broken', model: { rules: [{ reply: 'x' }], faults: { midStreamErrorRate: -1 } }, caller: [] }));
      expect(() => loadModelScriptFile(file)).toThrow(`${file}: model.faults.midStreamErrorRate:`);
      writeFileSync(file, '{ not json');
      expect(() => loadModelScriptFile(file)).toThrow(`${file}: (root): cannot read a JSON script`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
