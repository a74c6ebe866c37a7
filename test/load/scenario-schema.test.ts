import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { parseScenario, ScenarioError, scenarioJsonSchema } from '../../src/load/scenario.js';
import { scenarioAgents, scenarioTools } from '../../src/load/scenario-agents.js';

const scenariosDir = new URL('../../scenarios/', import.meta.url).pathname;
const libraryFiles = readdirSync(scenariosDir).filter((name) => name.endsWith('.json') && name !== 'scenario.schema.json');

const valid = {
  name: 'ok',
  caller: [{ say: 'Hello there.', expect: { sayMatches: 'hello' } }, { hangup: true }],
};

function problemsOf(value: unknown): string[] {
  try {
    parseScenario(value, 'broken.json');
  } catch (error) {
    if (error instanceof ScenarioError) return error.problems;
    throw error;
  }
  return [];
}

describe('scenario schema', () => {
  it.each(libraryFiles)('accepts the library file %s', (name) => {
    const value: unknown = JSON.parse(readFileSync(join(scenariosDir, name), 'utf8'));
    expect(() => parseScenario(value, name)).not.toThrow();
  });

  it('configures a valid agent, and the tool backends it needs, for every library file', () => {
    const scenarios = libraryFiles.map((name) => parseScenario(JSON.parse(readFileSync(join(scenariosDir, name), 'utf8')), name));
    const agents = scenarioAgents(scenarios, loadConfig({ env: {} }).agents.default!);
    expect(() => loadConfig({ env: {}, overrides: { agents, tools: scenarioTools(scenarios) } })).not.toThrow();
  });

  it.each([
    ['a step with two actions', { ...valid, caller: [{ say: 'hi', dtmf: '1' }] }, 'caller[0]: a step needs exactly one of say, pauseMs, dtmf, hangup; found say, dtmf'],
    ['a step with no action', { ...valid, caller: [{}] }, 'caller[0]: a step needs exactly one'],
    ['a bad DTMF digit', { ...valid, caller: [{ dtmf: '12' }] }, 'caller[0].dtmf: one of 0-9 * # A-D'],
    ['an invalid regular expression', { ...valid, caller: [{ say: 'hi', expect: { sayMatches: '(' } }] }, 'caller[0].expect.sayMatches: not a valid regular expression'],
    ['a barge-in on a pause', { ...valid, caller: [{ pauseMs: 10, bargeInAfterMs: 5 }] }, 'caller[0].bargeInAfterMs: bargeInAfterMs belongs on a say step'],
    ['an unknown field', { ...valid, callr: [] }, '(root): Unrecognized key: "callr"'],
    ['an empty caller', { ...valid, caller: [] }, 'caller: Too small'],
    ['a bad name', { ...valid, name: 'Has Spaces' }, 'name: lower-case letters, digits and -'],
    ['a negative pause', { ...valid, caller: [{ pauseMs: -1 }] }, 'caller[0].pauseMs: Too small'],
    ['a wrong type in the model script', { ...valid, model: { rules: 'reply' } }, 'model.rules:'],
    ['zero calls', { ...valid, load: { calls: 0 } }, 'load.calls: Too small'],
    ['a caller who cannot speak', { ...valid, pacing: { callerWordsPerMinute: 0 } }, 'pacing.callerWordsPerMinute: Too small'],
    ['an unknown pacing field', { ...valid, pacing: { wordsPerMinute: 150 } }, 'pacing: Unrecognized key: "wordsPerMinute"'],
  ])('refuses %s with the path of the problem', (_, value, expected) => {
    const problems = problemsOf(value);
    expect(problems.some((problem) => problem.startsWith(expected)), `${problems.join('\n')}\nexpected: ${expected}`).toBe(true);
  });

  it('fills in phone pacing for a file that gives none, and keeps what a file gives', () => {
    expect(parseScenario(valid, 'ok.json').pacing).toEqual({ callerWordsPerMinute: 150, partialEveryMs: 250, endpointingMs: 300, agentWordsPerMinute: 165 });
    expect(parseScenario({ ...valid, pacing: { endpointingMs: 800 } }, 'ok.json').pacing).toMatchObject({ callerWordsPerMinute: 150, endpointingMs: 800 });
  });

  it('names the file in the error', () => {
    expect(() => parseScenario({}, 'scenarios/x.json')).toThrow(/^scenarios\/x\.json: invalid scenario/);
  });

  it('ships a JSON Schema for editors that matches the zod schema (npm run scenarios:schema regenerates it)', () => {
    const shipped: unknown = JSON.parse(readFileSync(join(scenariosDir, 'scenario.schema.json'), 'utf8'));
    expect(shipped).toEqual(scenarioJsonSchema());
  });
});
