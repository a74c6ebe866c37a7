import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { integerFlag, numberFlag, UsageError } from './flags.js';
import { loadConfig } from '../config/load.js';
import { formatSummary } from '../load/report.js';
import { scenarioAgents } from '../load/scenario-agents.js';
import { scenarioFiles } from '../load/scenario-files.js';
import { runLoad } from '../load/runner.js';
import { loadScenarioFile, ScenarioError } from '../load/scenario.js';

export const LOAD_USAGE = 'usage: aybiza load FILE|DIR... [--calls N] [--ramp S] [--url ws://...] [--token KEY] [--emulator URL] [--report out.json] [--seed N] [--workers N] [--agent NAME]\n'
  + '       aybiza load --check FILE|DIR...       validate only\n'
  + '       aybiza load --print-config FILE|DIR...  the agents of the scenarios, as a config file for `aybiza serve --config`';

/**
 * `aybiza load`: replays scenario files as concurrent calls. Exit status 0 only when every call
 * passed; 1 when some failed; 2 for bad usage or a bad scenario file (refused before any call).
 */
export async function runLoadCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      check: { type: 'boolean' },
      'print-config': { type: 'boolean' },
      agent: { type: 'string' },
      calls: { type: 'string' },
      ramp: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      emulator: { type: 'string' },
      report: { type: 'string' },
      seed: { type: 'string' },
      workers: { type: 'string' },
      'playback-ms-per-word': { type: 'string' },
      'turn-timeout-ms': { type: 'string' },
    },
  });
  const files = positionals.flatMap(scenarioFiles);
  if (files.length === 0) throw new UsageError(`no scenario files given\n${LOAD_USAGE}`);
  if (values.check) {
    const problems = checkFiles(files, true);
    process.exit(problems ? 2 : 0);
  }
  if (checkFiles(files, false)) process.exit(2);
  if (values['print-config']) {
    const scenarios = files.map(loadScenarioFile);
    const agents = scenarioAgents(scenarios, loadConfig({ env: {} }).agents.default!);
    process.stdout.write(`${JSON.stringify({ agents }, null, 2)}\n`);
    return;
  }
  const report = await runLoad({
    files,
    calls: integerFlag('--calls', values.calls, 1),
    rampSeconds: numberFlag('--ramp', values.ramp),
    url: values.url,
    token: values.token ?? process.env.AYBIZA_LOAD_TOKEN,
    emulatorUrl: values.emulator,
    agent: values.agent,
    seed: integerFlag('--seed', values.seed, 0) ?? 1,
    workers: integerFlag('--workers', values.workers, 0),
    playbackMsPerWord: numberFlag('--playback-ms-per-word', values['playback-ms-per-word']) ?? 60,
    turnTimeoutMs: integerFlag('--turn-timeout-ms', values['turn-timeout-ms'], 100) ?? 30_000,
    progressOut: process.stderr,
  });
  process.stdout.write(`${formatSummary(report)}\n`);
  if (values.report) writeFileSync(values.report, `${JSON.stringify(report, null, 2)}\n`);
  process.exit(report.calls.failed === 0 && report.calls.started > 0 ? 0 : 1);
}

/** Prints each file's verdict; true when any file is invalid. */
function checkFiles(files: string[], sayOk: boolean): boolean {
  let invalid = false;
  for (const file of files) {
    try {
      const scenario = loadScenarioFile(file);
      if (sayOk) process.stdout.write(`ok ${file} (${scenario.name})\n`);
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      invalid = true;
      process.stderr.write(`${error.message}\n`);
    }
  }
  return invalid;
}
