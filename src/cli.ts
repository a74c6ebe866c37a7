#!/usr/bin/env node
import { EMULATOR_USAGE, runEmulatorCommand } from './cli/emulator.js';
import { UsageError } from './cli/flags.js';
import { LOAD_USAGE, runLoadCommand } from './cli/load.js';
import { runServeCommand, SERVE_USAGE } from './cli/serve.js';
import { ConfigError } from './config/load.js';
import { ModelScriptError } from './emulator/script.js';
import { ScenarioError } from './load/scenario.js';

const COMMANDS: Record<string, { summary: string; usage: string; run: (argv: string[]) => Promise<void> }> = {
  serve: { summary: 'answer calls', usage: SERVE_USAGE, run: runServeCommand },
  emulator: { summary: 'run the Bedrock emulator alone', usage: EMULATOR_USAGE, run: runEmulatorCommand },
  load: { summary: 'replay scenario files as concurrent calls', usage: LOAD_USAGE, run: runLoadCommand },
};

// Each command's own usage text, so the overview cannot drift from what the command accepts.
const USAGE = ['usage: aybiza <command> [options]', '', 'commands:']
  .concat(Object.entries(COMMANDS).map(([name, { summary }]) => `  ${name.padEnd(10)} ${summary}`), '')
  .concat(Object.values(COMMANDS).map(({ usage }) => usage))
  .join('\n');

// The SDK prints a seven-line notice on Node 20, which would break one-JSON-line-per-event logs;
// `serve` logs the same fact as one structured line instead.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const run = command ? COMMANDS[command]?.run : undefined;
  if (!run) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(command === undefined || command === '--help' ? 0 : 2);
  }
  try {
    await run(rest);
  } catch (error) {
    const cause = userCause(error);
    const message = cause
      ? cause.message
      : `aybiza ${command}: ${(error as Error).stack ?? String(error)}`;
    process.stderr.write(`${message}\n`);
    process.exit(2);
  }
}

/**
 * A configuration, usage or input-file problem, however deep in the causes (a supervisor wraps what
 * its children throw at start): its message says what to fix, and a stack trace would not help.
 */
function userCause(error: unknown): Error | undefined {
  for (let current = error; current instanceof Error; current = current.cause) {
    if ([ConfigError, UsageError, ModelScriptError, ScenarioError].some((kind) => current instanceof kind)) return current;
    if ((current as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) return current;
  }
  return undefined;
}

void main(process.argv.slice(2));
