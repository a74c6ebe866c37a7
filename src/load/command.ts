import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatSummary } from './report.js';
import { runLoad } from './runner.js';
import { loadScenarioFile, ScenarioError } from './scenario.js';

export const LOAD_USAGE = 'usage: aybiza load FILE... [--calls N] [--ramp S] [--url ws://...] [--token KEY] [--emulator URL] [--report out.json] [--seed N] [--workers N]\n'
  + '       aybiza load --check FILE...';

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
  if (positionals.length === 0) throw new UsageError(`no scenario files given\n${LOAD_USAGE}`);
  if (values.check) {
    const problems = checkFiles(positionals);
    process.exit(problems ? 2 : 0);
  }
  if (checkFiles(positionals)) process.exit(2);
  const report = await runLoad({
    files: positionals,
    calls: integer('--calls', values.calls, 1),
    rampSeconds: number('--ramp', values.ramp),
    url: values.url,
    token: values.token ?? process.env.AYBIZA_LOAD_TOKEN,
    emulatorUrl: values.emulator,
    seed: integer('--seed', values.seed, 0) ?? 1,
    workers: integer('--workers', values.workers, 0),
    playbackMsPerWord: number('--playback-ms-per-word', values['playback-ms-per-word']) ?? 60,
    turnTimeoutMs: integer('--turn-timeout-ms', values['turn-timeout-ms'], 100) ?? 30_000,
    progressOut: process.stderr,
  });
  process.stdout.write(`${formatSummary(report)}\n`);
  if (values.report) writeFileSync(values.report, `${JSON.stringify(report, null, 2)}\n`);
  process.exit(report.calls.failed === 0 && report.calls.started > 0 ? 0 : 1);
}

export class UsageError extends Error {}

/** Prints each file's verdict; true when any file is invalid. */
function checkFiles(files: string[]): boolean {
  let invalid = false;
  for (const file of files) {
    try {
      const scenario = loadScenarioFile(file);
      process.stdout.write(`ok ${file} (${scenario.name})\n`);
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      invalid = true;
      process.stderr.write(`${error.message}\n`);
    }
  }
  return invalid;
}

function number(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new UsageError(`${flag} "${value}": expected a non-negative number`);
  return parsed;
}

function integer(flag: string, value: string | undefined, min: number): number | undefined {
  const parsed = number(flag, value);
  if (parsed !== undefined && (!Number.isInteger(parsed) || parsed < min)) throw new UsageError(`${flag} "${value}": expected an integer of at least ${min}`);
  return parsed;
}
