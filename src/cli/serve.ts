import { parseArgs } from 'node:util';
import { checkAwsCredentials } from './aws-credentials.js';
import { integerFlag } from './flags.js';
import type { AybizaConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { connectRedis } from '../memory/redis-connection.js';
import { redactRedisUrl } from '../memory/redis-keys.js';
import { startCluster } from '../runtime/cluster/primary.js';
import { runWorker, workerSetup } from '../runtime/cluster/worker.js';
import { StartupError } from './startup-error.js';
import { explainStartupFailure } from './startup-failure.js';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../log.js';
import { DataDirInUseError } from '../runtime/data-dir-lock.js';
import { startNode, type NodeOptions, type RunningNode } from '../runtime/node.js';

const USAGE = [
  'usage: aybiza serve [--host H] [--port P] [--metrics-port M] [--workers N|auto] [--config FILE]',
  '  --host H          address to listen on (AYBIZA_HOST; 127.0.0.1 only while no API keys are set)',
  '  --port P          calls (ws://H:P/v1/calls) and the browser softphone (http://H:P/) (AYBIZA_PORT, 8080)',
  '  --metrics-port M  /metrics, /healthz, /readyz (AYBIZA_METRICS_PORT, 9464)',
  '  --workers N|auto  processes answering calls on the one port; auto = the cores (AYBIZA_WORKERS, 1; above 1 needs Redis)',
  '  --config FILE     JSON configuration (AYBIZA_CONFIG), e.g. aybiza.example.json',
].join('\n');

/**
 * `aybiza serve`: one node on embedded defaults unless configured otherwise. SIGTERM or SIGINT
 * drains: no new calls, active ones finish up to the drain timeout, the rest end politely.
 */
export async function runServeCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'metrics-port': { type: 'string' },
      workers: { type: 'string' },
      config: { type: 'string' },
    },
    strict: true,
  });
  const config = loadConfig({
    file: values.config,
    env: process.env,
    overrides: {
      server: withoutUndefined({
        host: values.host,
        port: integerFlag('--port', values.port, 0),
        metricsPort: integerFlag('--metrics-port', values['metrics-port'], 0),
        workers: values.workers === 'auto' ? 'auto' : integerFlag('--workers', values.workers, 1),
      }),
    },
  });
  const setup = workerSetup();
  const log = setup ? createLogger({ level: config.log.level }).child({ worker: setup.index, pid: process.pid }) : createLogger({ level: config.log.level });
  // A worker of `serve --workers`: the primary checked everything below and prints the lines.
  if (setup) return runWorker(config, setup, log, startExplained);
  if (Number(process.versions.node.split('.')[0]) < 22) {
    log.warn({ event: 'serve.node_version', node: process.versions.node }, 'AWS SDK releases after the first week of January 2027 require Node 22 or later');
  }
  await checkAwsCredentials(config);
  const node = config.server.workers > 1 ? await startWorkers(config, log) : await startExplained({ config, log });
  void node.exited.then((reason) => {
    if (reason.kind !== 'crash') return;
    // The tree gave up after too many restarts: one line saying why, and a status a service manager acts on.
    log.error({ event: 'serve.gave_up', error: reason.error.message });
    log.flush();
    process.stderr.write(`aybiza serve: the supervision tree gave up: ${reason.error.message.replace(/\s+/g, ' ')}\n`);
    process.exit(1);
  });
  // Before the ready line: a launcher may signal as soon as it reads it, and a SIGTERM that arrived
  // before the handlers would kill the process outright instead of draining it (it did, in 2 of 3
  // full-suite runs of test/reliability/serve-data-dir-lock.test.ts).
  let signals = 0;
  const stop = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      log.warn({ event: 'serve.forced_exit', signal });
      process.exit(1);
    }
    log.info({ event: 'serve.signal', signal });
    node.shutdown().then(
      () => {
        log.flush();
        process.exit(0);
      },
      (error: Error) => {
        log.error({ event: 'serve.shutdown_failed', error: error.message });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // One line a launcher or test can wait for.
  process.stdout.write(`${JSON.stringify({
    event: 'serve.ready', telephony: node.telephonyUrl, metrics: node.metricsUrl, bedrock: node.bedrockEndpoint ?? 'aws',
    ...('workerPids' in node ? { workers: node.workerPids() } : {}),
  })}\n`);
}

/** Starts the node, turning a failure a person can fix into a one-line StartupError. */
function startExplained(options: NodeOptions): Promise<RunningNode> {
  return startNode(options).catch((error: unknown) => {
    throw asStartupError(error, options.config);
  });
}

/**
 * A start-up failure that is not a fault of this program as a one-line StartupError saying what to
 * do, without a stack trace; `otherwise` words the ones no explanation covers, else they stay as they are.
 */
function asStartupError(error: unknown, config: AybizaConfig, otherwise?: (error: unknown) => string): unknown {
  if (error instanceof DataDirInUseError) return new StartupError(error.message, { cause: error });
  const explanation = explainStartupFailure(error, config) ?? otherwise?.(error);
  return explanation ? new StartupError(explanation, { cause: error }) : error;
}

/**
 * `--workers N` above 1: refused with an in-process hot store or without Redis answering, since a
 * call dropped on one worker must be found by the next; a worker's start-up failure is the line printed.
 */
async function startWorkers(config: AybizaConfig, log: Logger) {
  const { workers } = config.server;
  const fix = 'set AYBIZA_HOT_MEMORY=redis with Redis at AYBIZA_REDIS_URL, or run one worker (--workers 1)';
  if (config.memory.hot === 'memory') {
    throw new StartupError(`--workers ${workers} needs the hot memory in Redis, shared by the workers, not in each process (memory.hot is 'memory'): ${fix}`);
  }
  const redis = await connectRedis(config.memory.redisUrl).catch((error: Error) => {
    throw new StartupError(`--workers ${workers} shares calls between the workers through Redis, which did not answer at ${redactRedisUrl(config.memory.redisUrl)} (${error.message}): ${fix}`, { cause: error });
  });
  redis.disconnect();
  return startCluster(config, log).catch((error: unknown) => {
    throw asStartupError(error, config, innermostMessage);
  });
}

/** A worker's own start-up line, beneath the supervisor's "child worker-1 failed to start" wrapping. */
function innermostMessage(error: unknown): string {
  let current = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

export { USAGE as SERVE_USAGE };

function withoutUndefined(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined));
}
