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
import { startLambdaEmulator, type RunningLambdaEmulator } from '../emulator/lambda/server.js';
import { StartupError } from './startup-error.js';

export const EMULATOR_USAGE = [
  'usage: aybiza emulator [--host H] [--port P] [--transcribe-port P] [--transcribe-max-streams N] [--polly-port P] [--script FILE.json] [--scenarios FILE|DIR]... [--seed N] [--request-log-size N] [--lambda-port P] [--lambda-handlers DIR]',
  '  --host H                address to listen on (127.0.0.1)',
  '  --port P                Bedrock\'s port (0: any free one; the ready line names it)',
  '  --transcribe-port P     Amazon Transcribe streaming\'s own port (0: any free one; the ready line names it)',
  '  --transcribe-max-streams N  concurrent Transcribe streams before LimitExceededException (25; a capacity run needs one per call)',
  '  --polly-port P          Amazon Polly\'s own port (0: any free one; the ready line names it)',
  '  --script FILE.json      the model script: rules, speeds, faults (default: the Harbor Dental receptionist)',
  '  --scenarios FILE|DIR    each scenario\'s model section answers the agent named after it (repeatable)',
  '  --seed N                seed of every random choice (1)',
  '  --request-log-size N    requests kept for inspection (10000)',
  '  --lambda-port P         also serve the AWS Lambda Invoke API on this port (0: any free one)',
  '  --lambda-handlers DIR   the Lambda functions: NAME.mjs exporting handler (default: the shipped execute-code)',
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
      'transcribe-max-streams': { type: 'string' },
      'polly-port': { type: 'string', default: '0' },
      script: { type: 'string' },
      // Each scenario's model section answers the calls of its agent (named after the scenario), as in `aybiza load`.
      scenarios: { type: 'string', multiple: true },
      seed: { type: 'string', default: '1' },
      'request-log-size': { type: 'string' },
      'lambda-port': { type: 'string' },
      'lambda-handlers': { type: 'string' },
    },
    strict: true,
  });
  const port = integerFlag('--port', values.port, 0, 65_535)!;
  const transcribePort = integerFlag('--transcribe-port', values['transcribe-port'], 0, 65_535)!;
  const transcribeMaxStreams = integerFlag('--transcribe-max-streams', values['transcribe-max-streams'], 1);
  const pollyPort = integerFlag('--polly-port', values['polly-port'], 0, 65_535)!;
  const seed = integerFlag('--seed', values.seed, 0, 2 ** 32 - 1)!;
  const requestLogSize = integerFlag('--request-log-size', values['request-log-size'], 1);
  const script = values.script ? loadModelScriptFile(values.script) : undefined;
  const scripts = scenarioScripts((values.scenarios ?? []).flatMap(scenarioFiles).map(loadScenarioFile));
  const log = createLogger();
  const lambdaPort = integerFlag('--lambda-port', values['lambda-port'], 0, 65_535);
  if (values['lambda-handlers'] !== undefined && lambdaPort === undefined) throw new Error('--lambda-handlers needs --lambda-port');
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
  let lambda: RunningLambdaEmulator | undefined;
  try {
    transcribe = await listening('--transcribe-port', startTranscribeEmulator({ host: values.host, port: transcribePort, maxStreams: transcribeMaxStreams }));
    polly = await listening('--polly-port', startPollyEmulator({ host: values.host, port: pollyPort }));
    if (lambdaPort !== undefined) {
      lambda = await listening('--lambda-port', startLambdaEmulator({ host: values.host, port: lambdaPort, ...(values['lambda-handlers'] ? { handlersDir: values['lambda-handlers'] } : {}) }));
    }
  } catch (error) {
    await Promise.all(started.map((server) => server.close()));
    throw error;
  }
  // The handlers before the ready line: a launcher may signal as soon as it reads it (as serve does).
  const stopped = new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  process.stdout.write(`${JSON.stringify({ event: 'emulator.ready', url: emulator.url, port: emulator.port, transcribeUrl: transcribe.url, pollyUrl: polly.url, ...(lambda ? { lambdaUrl: lambda.url, lambdaFunctions: lambda.functionNames() } : {}) })}\n`);
  await stopped;
  await Promise.all(started.map((server) => server.close()));
  log.flush();
}
