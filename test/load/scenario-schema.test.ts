import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { loadScenarioFile, parseScenario, ScenarioError, scenarioJsonSchema } from '../../src/load/scenario.js';
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
    ['a step with no action', { ...valid, caller: [{}] }, 'caller[0]: a step needs exactly one of say, pauseMs, dtmf, hangup; found none'],
    ['an expectation on a pause', { ...valid, caller: [{ pauseMs: 10, expect: { transfer: true } }] }, 'caller[0].expect: expect belongs on a say or dtmf step'],
    ['an expectation on a hangup', { ...valid, caller: [{ say: 'bye' }, { hangup: true, expect: { transfer: true } }] }, 'caller[1].expect: expect belongs on a say or dtmf step'],
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
    ['a negative Polly latency', { ...valid, speech: { pollyFirstByteMs: -5 } }, 'speech.pollyFirstByteMs: Too small'],
    ['an unknown speech field', { ...valid, speech: { ttftMs: 5 } }, 'speech: Unrecognized key: "ttftMs"'],
  ])('refuses %s with the path of the problem', (_, value, expected) => {
    const problems = problemsOf(value);
    expect(problems.some((problem) => problem.startsWith(expected)), `${problems.join('\n')}\nexpected: ${expected}`).toBe(true);
  });

  it('fills in phone pacing for a file that gives none, and keeps what a file gives', () => {
    expect(parseScenario(valid, 'ok.json').pacing).toEqual({ callerWordsPerMinute: 150, partialEveryMs: 250, endpointingMs: 300, agentWordsPerMinute: 165 });
    expect(parseScenario({ ...valid, pacing: { endpointingMs: 800 } }, 'ok.json').pacing).toMatchObject({ callerWordsPerMinute: 150, endpointingMs: 800 });
  });

  it('names the file in the error, then each problem on its own indented line', () => {
    expect(() => parseScenario({ name: 'Bad Name', caller: [{}] }, 'scenarios/x.json')).toThrow([
      'scenarios/x.json: invalid scenario',
      '  name: lower-case letters, digits and -',
      '  caller[0]: a step needs exactly one of say, pauseMs, dtmf, hangup; found none',
    ].join('\n'));
  });

  it('accepts an expectation on a say and on a dtmf step', () => {
    expect(problemsOf({ ...valid, caller: [{ say: 'hi', expect: { transfer: true } }, { dtmf: '1', expect: { tool: 'book' } }] })).toEqual([]);
  });

  it('ships a JSON Schema for editors that matches the zod schema (npm run scenarios:schema regenerates it)', () => {
    const shipped: unknown = JSON.parse(readFileSync(join(scenariosDir, 'scenario.schema.json'), 'utf8'));
    expect(shipped).toEqual(scenarioJsonSchema());
  });
});

describe('loading a scenario file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aybiza-scenario-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads and checks a file', () => {
    const file = join(dir, 'ok.json');
    writeFileSync(file, JSON.stringify(valid));
    expect(loadScenarioFile(file)).toEqual(parseScenario(valid, file));
    expect(loadScenarioFile(file)).toMatchObject(valid);
  });

  it('says a file cannot be read, with the error code', () => {
    const file = join(dir, 'missing.json');
    expect(() => loadScenarioFile(file)).toThrow(new ScenarioError(file, ['cannot read: ENOENT']));
    expect(() => loadScenarioFile(file)).toThrow(`${file}: invalid scenario\n  cannot read: ENOENT`);
  });

  it('says a file is not JSON, with the parser\'s reason', () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{"name": ');
    expect(() => loadScenarioFile(file)).toThrow(/: invalid scenario\n {2}not valid JSON: Unexpected end of JSON input$/);
  });

  it('says which problems a file has', () => {
    const file = join(dir, 'invalid.json');
    writeFileSync(file, JSON.stringify({ ...valid, name: 'Has Spaces' }));
    expect(() => loadScenarioFile(file)).toThrow(`${file}: invalid scenario\n  name: lower-case letters, digits and -`);
  });
});
