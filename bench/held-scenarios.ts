import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Scenario } from '../src/load/scenario.js';

/**
 * The run's scenario files in `dir`/scenarios (what the emulator and the load read), each caller
 * first quiet for `holdMs` when given: every call of the run opens before any speaks, which is what
 * makes all N calls held at once.
 */
export function writeRunScenarios(scenarios: Scenario[], dir: string, holdMs: number | undefined): { dir: string; files: string[] } {
  const scenarioDir = join(dir, 'scenarios');
  mkdirSync(scenarioDir);
  const files = scenarios.map((scenario) => {
    const file = join(scenarioDir, `${scenario.name}.json`);
    const caller = holdMs === undefined ? scenario.caller : [{ pauseMs: holdMs }, ...scenario.caller];
    writeFileSync(file, JSON.stringify({ ...scenario, caller }));
    return file;
  });
  return { dir: scenarioDir, files };
}
