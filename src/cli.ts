#!/usr/bin/env node
import { CALL_USAGE, runCallCommand } from './cli/call.js';
import { EMULATOR_USAGE, runEmulatorCommand } from './cli/emulator.js';
import { UsageError } from './cli/flags.js';
import { LOAD_USAGE, runLoadCommand } from './cli/load.js';
import { runServeCommand, SERVE_USAGE } from './cli/serve.js';
import { StartupError } from './cli/startup-error.js';
import { packageVersion } from './cli/version.js';
import { ConfigError } from './config/load.js';
import { ModelScriptError } from './emulator/script.js';
import { ScenarioError } from './load/scenario.js';

const COMMANDS: Record<string, { summary: string; usage: string; run: (argv: string[]) => Promise<void> }> = {
  serve: { summary: 'answer calls (and serve the browser softphone at http://127.0.0.1:8080/)', usage: SERVE_USAGE, run: runServeCommand },
  call: { summary: 'talk to an agent from the terminal', usage: CALL_USAGE, run: runCallCommand },
  emulator: { summary: 'run the Bedrock, Transcribe streaming and Polly emulators', usage: EMULATOR_USAGE, run: runEmulatorCommand },
  load: { summary: 'replay scenario files as concurrent calls', usage: LOAD_USAGE, run: runLoadCommand },
};

// Each command's own usage text, so the overview cannot drift from what the command accepts.
const USAGE = ['usage: aybiza <command> [options]      aybiza <command> --help      aybiza --version', '', 'commands:']
  .concat(Object.entries(COMMANDS).map(([name, { summary }]) => `  ${name.padEnd(10)} ${summary}`), '')
  .concat(Object.values(COMMANDS).map(({ usage }) => `${usage}\n`))
  .concat('Configuration: defaults < a JSON file (--config or AYBIZA_CONFIG; see aybiza.example.json) < AYBIZA_* environment',
    'variables (every one is listed in README.md, "Configuration") < flags. AYBIZA_LOG_LEVEL=debug shows stack traces.')
  .join('\n');

// The SDK prints a seven-line notice on Node 20, which would break one-JSON-line-per-event logs;
// `serve` logs the same fact as one structured line instead.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const HELP = new Set(['--help', '-h', 'help']);

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v' || command === 'version') {
    process.stdout.write(`aybiza ${packageVersion()}\n`);
    return;
  }
  if (command === undefined || HELP.has(command)) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const entry = COMMANDS[command];
  if (!entry) {
    process.stderr.write(`aybiza: unknown command "${command}"; the commands are ${Object.keys(COMMANDS).join(', ')} (aybiza --help lists their flags)\n`);
    process.exit(2);
  }
  if (rest.some((arg) => arg === '--help' || arg === '-h')) {
    process.stdout.write(`${entry.usage}\n`);
    return;
  }
  try {
    await entry.run(rest);
  } catch (error) {
    process.stderr.write(`${failureReport(command, error)}\n`);
    process.exit(2);
  }
}

/**
 * One line that says what to fix; the stack only with AYBIZA_LOG_LEVEL=debug, since a trace of our
 * internals does not help someone who mistyped a port or forgot credentials.
 */
function failureReport(command: string, error: unknown): string {
  const debug = process.env.AYBIZA_LOG_LEVEL === 'debug' || process.env.AYBIZA_LOG_LEVEL === 'trace';
  const cause = userCause(error);
  const line = cause ? cause.message : `aybiza ${command}: ${messageChain(error)}${debug ? '' : ' (AYBIZA_LOG_LEVEL=debug shows where)'}`;
  return debug && error instanceof Error ? `${line}\n${error.stack}` : line;
}

/** A configuration, usage, input-file or start-up problem, however deep in the causes. */
function userCause(error: unknown): Error | undefined {
  for (let current = error; current instanceof Error; current = current.cause) {
    if ([ConfigError, UsageError, ModelScriptError, ScenarioError, StartupError].some((kind) => current instanceof kind)) return current;
    if ((current as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) return current;
  }
  return undefined;
}

/** The messages down the cause chain, skipping those a wrapper already repeats. */
function messageChain(error: unknown): string {
  const messages: string[] = [];
  for (let current = error; current !== undefined; current = current instanceof Error ? current.cause : undefined) {
    const message = current instanceof Error ? current.message : String(current);
    if (!messages.some((earlier) => earlier.includes(message))) messages.push(message);
  }
  return messages.join(': ').replace(/\s*\n\s*/g, ' ');
}

void main(process.argv.slice(2));
