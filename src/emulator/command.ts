import { parseArgs } from 'node:util';
import { createLogger } from '../log.js';
import { loadModelScriptFile } from './script.js';
import { startEmulator } from './server.js';

export const EMULATOR_USAGE = 'usage: aybiza emulator [--host H] [--port P] [--script FILE.json] [--seed N]';

/** `aybiza emulator`: a standalone Bedrock emulator until SIGINT or SIGTERM. */
export async function runEmulatorCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      script: { type: 'string' },
      seed: { type: 'string', default: '1' },
    },
    strict: true,
  });
  const port = integerOption('--port', values.port, 0, 65_535);
  const seed = integerOption('--seed', values.seed, 0, 2 ** 32 - 1);
  const script = values.script ? loadModelScriptFile(values.script) : undefined;
  const log = createLogger();
  const emulator = await startEmulator({ host: values.host, port, seed, log, ...(script ? { script } : {}) });
  process.stdout.write(`${JSON.stringify({ event: 'emulator.ready', url: emulator.url, port: emulator.port })}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await emulator.close();
  log.flush();
}

function integerOption(name: string, value: string, min: number, max: number): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    // The CLI prints errors with this code as usage problems, without a stack trace.
    throw Object.assign(new Error(`${name}: expected an integer from ${min} to ${max}, got "${value}"`), { code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' });
  }
  return number;
}
