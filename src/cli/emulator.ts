import { parseArgs } from 'node:util';
import { integerFlag } from './flags.js';
import { loadScenarioFile } from '../load/scenario.js';
import { scenarioScripts } from '../load/scenario-agents.js';
import { scenarioFiles } from '../load/scenario-files.js';
import { createLogger } from '../log.js';
import { loadModelScriptFile } from '../emulator/script.js';
import { startEmulator } from '../emulator/server.js';
import { startPollyEmulator, type RunningPollyEmulator } from '../emulator/polly/server.js';
import { startTranscribeEmulator, type RunningTranscribeEmulator } from '../emulator/transcribe/server.js';
import { StartupError } from './startup-error.js';

export const EMULATOR_USAGE = [
  'usage: aybiza emulator [--host H] [--port P] [--transcribe-port P] [--polly-port P] [--script FILE.json] [--scenarios FILE|DIR]... [--seed N] [--request-log-size N]',
  '  --host H                address to listen on (127.0.0.1)',
  '  --port P                Bedrock\'s port (0: any free one; the ready line names it)',
  '  --transcribe-port P     Amazon Transcribe streaming\'s own port (0: any free one; the ready line names it)',
  '  --polly-port P          Amazon Polly\'s own port (0: any free one; the ready line names it)',
  '  --script FILE.json      the model script: rules, speeds, faults (default: the Harbor Dental receptionist)',
  '  --scenarios FILE|DIR    each scenario\'s model section answers the agent named after it (repeatable)',
  '  --seed N                seed of every random choice (1)',
  '  --request-log-size N    requests kept for inspection (10000)',
].join('\n');

/**
 * `aybiza emulator`: the Bedrock, Transcribe streaming and Polly emulators, each on its own port,
 * until SIGINT or SIGTERM. Separate ports because each SDK client takes an endpoint per service.
 */
export async function runEmulatorCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      'transcribe-port': { type: 'string', default: '0' },
      'polly-port': { type: 'string', default: '0' },
      script: { type: 'string' },
      // Each scenario's model section answers the calls of its agent (named after the scenario), as in `aybiza load`.
      scenarios: { type: 'string', multiple: true },
      seed: { type: 'string', default: '1' },
      'request-log-size': { type: 'string' },
    },
    strict: true,
  });
  const port = integerFlag('--port', values.port, 0, 65_535)!;
  const transcribePort = integerFlag('--transcribe-port', values['transcribe-port'], 0, 65_535)!;
  const pollyPort = integerFlag('--polly-port', values['polly-port'], 0, 65_535)!;
  const seed = integerFlag('--seed', values.seed, 0, 2 ** 32 - 1)!;
  const requestLogSize = integerFlag('--request-log-size', values['request-log-size'], 1);
  const script = values.script ? loadModelScriptFile(values.script) : undefined;
  const scripts = scenarioScripts((values.scenarios ?? []).flatMap(scenarioFiles).map(loadScenarioFile));
  const log = createLogger();
  const emulator = await startEmulator({ host: values.host, port, seed, log, scripts, requestLogSize, ...(script ? { script } : {}) });
  const started: { close(): Promise<void> }[] = [emulator];
  const listening = async <T extends { close(): Promise<void> }>(flag: string, start: Promise<T>): Promise<T> => {
    try {
      const server = await start;
      started.push(server);
      return server;
    } catch (error) {
      throw new StartupError(`${flag}: ${(error as Error).message}`, { cause: error });
    }
  };
  let transcribe: RunningTranscribeEmulator;
  let polly: RunningPollyEmulator;
  try {
    transcribe = await listening('--transcribe-port', startTranscribeEmulator({ host: values.host, port: transcribePort }));
    polly = await listening('--polly-port', startPollyEmulator({ host: values.host, port: pollyPort }));
  } catch (error) {
    await Promise.all(started.map((server) => server.close()));
    throw error;
  }
  process.stdout.write(`${JSON.stringify({ event: 'emulator.ready', url: emulator.url, port: emulator.port, transcribeUrl: transcribe.url, pollyUrl: polly.url })}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await Promise.all(started.map((server) => server.close()));
  log.flush();
}
