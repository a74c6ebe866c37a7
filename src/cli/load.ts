import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { choiceFlag, integerFlag, numberFlag, UsageError } from './flags.js';
import { loadConfig } from '../config/load.js';
import { ARRIVALS } from '../load/arrivals.js';
import { FAST_PLAYBACK_MS_PER_WORD, PACES } from '../load/pacing.js';
import { formatSummary } from '../load/report.js';
import { scenarioAgents, scenarioTools } from '../load/scenario-agents.js';
import { scenarioFiles } from '../load/scenario-files.js';
import { runLoad } from '../load/runner.js';
import { loadScenarioFile, ScenarioError } from '../load/scenario.js';
import { scenarioNumbers } from '../load/twilio-line.js';
import { twilioRemoteFlags } from './twilio-load-flags.js';

export const LOAD_USAGE = [
  'usage: aybiza load FILE|DIR... [options]        replay scenario files as calls',
  '       aybiza load --check FILE|DIR...          validate only',
  '       aybiza load --print-config FILE|DIR...   the agents of the scenarios, as a config file for `aybiza serve --config`',
  '  --calls N                  calls in all, shared by the scenarios\' load.calls weights (default: the sum of those, 1 each)',
  '  --ramp S                   seconds over which the calls start (default: the scenarios\' largest load.rampSeconds, else 0)',
  '  --arrivals uniform|poisson evenly over the ramp (default), or at random with exponential gaps at the same mean rate (seeded)',
  '  --pace phone|fast          phone (default): callers speak and listen in real time at the scenarios\' pacing, a turn',
  `                             every 8-12 s; fast: words at once, answers heard at ${FAST_PLAYBACK_MS_PER_WORD} ms a word, for stress (twilio: always real time)`,
  '  --url ws://...             a running server (default: an embedded node on the scenarios\' own agents)',
  '  --transport aybiza|twilio  aybiza.v1 frames (default), or audio through an emulated Twilio (Media Streams)',
  '  with --transport twilio --url (a separate serve with twilio.enabled and --print-config --transport twilio\'s numbers):',
  '    --account-sid AC...      serve\'s twilio.accountSid (AYBIZA_TWILIO_ACCOUNT_SID)',
  '    --auth-token T           serve\'s twilio.authToken, which signs the webhooks (AYBIZA_TWILIO_AUTH_TOKEN)',
  '    --public-url URL         serve\'s twilio.publicUrl, requests to it go to --url (AYBIZA_TWILIO_PUBLIC_URL; default: --url)',
  '    --twilio-port P          the emulated Twilio REST API\'s port, serve\'s twilio.apiBaseUrl http://127.0.0.1:P (0: any free one)',
  '  --token KEY                API key for --url (AYBIZA_LOAD_TOKEN)',
  '  --agent NAME               the server\'s agent to call instead of the one named after each scenario',
  '  --emulator URL             an external Bedrock emulator for the embedded node',
  '  --show                     print each call\'s conversation as it happens (for small runs; the calls run on one thread)',
  '  --report out.json          the full report as JSON',
  '  --seed N                   seed of call ids and random choices (1)',
  '  --workers N                worker threads driving the calls (0: this thread; default: by the number of calls)',
  '  --playback-ms-per-word MS  how long the caller takes to hear each word of an answer, replacing the pace\'s (phone: from pacing.agentWordsPerMinute, 165 a minute ≈ 364 ms; fast: 60)',
  '  --turn-timeout-ms MS       a turn without an answer by then fails the call (30000)',
].join('\n');

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
      show: { type: 'boolean' },
      'print-config': { type: 'boolean' },
      agent: { type: 'string' },
      calls: { type: 'string' },
      ramp: { type: 'string' },
      arrivals: { type: 'string' },
      pace: { type: 'string' },
      url: { type: 'string' },
      transport: { type: 'string' },
      'account-sid': { type: 'string' },
      'auth-token': { type: 'string' },
      'public-url': { type: 'string' },
      'twilio-port': { type: 'string' },
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
    const tools = scenarioTools(scenarios);
    const twilio = values.transport === 'twilio' ? { twilio: scenarioNumbers(scenarios) } : {};
    process.stdout.write(`${JSON.stringify({ agents, ...(Object.keys(tools).length ? { tools } : {}), ...twilio }, null, 2)}\n`);
    return;
  }
  const transport = choiceFlag('--transport', values.transport, ['aybiza', 'twilio'], 'aybiza');
  const twilio = twilioRemoteFlags(transport, values, process.env);
  const report = await runLoad({
    transport,
    twilio,
    files,
    calls: integerFlag('--calls', values.calls, 1),
    rampSeconds: numberFlag('--ramp', values.ramp),
    arrivals: choiceFlag('--arrivals', values.arrivals, ARRIVALS, 'uniform'),
    pace: choiceFlag('--pace', values.pace, PACES, 'phone'),
    url: values.url,
    token: values.token ?? process.env.AYBIZA_LOAD_TOKEN,
    emulatorUrl: values.emulator,
    agent: values.agent,
    seed: integerFlag('--seed', values.seed, 0) ?? 1,
    workers: integerFlag('--workers', values.workers, 0),
    playbackMsPerWord: numberFlag('--playback-ms-per-word', values['playback-ms-per-word']),
    turnTimeoutMs: integerFlag('--turn-timeout-ms', values['turn-timeout-ms'], 100) ?? 30_000,
    progressOut: process.stderr,
    showOut: values.show ? process.stdout : undefined,
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
