import { AggregatorRegistry } from 'prom-client';
import type { AybizaConfig } from '../../config/schema.js';
import type { Logger } from '../../log.js';
import type { NodeOptions, RunningNode } from '../node.js';
import { isClusterMessage, numberedRequests, WORKER_ENV, type ClusterMessage, type WorkerSetup } from './messages.js';

/** This process's setup as a worker of `serve --workers`, or undefined when it is not one. */
export function workerSetup(env: NodeJS.ProcessEnv = process.env): WorkerSetup | undefined {
  const raw = env[WORKER_ENV];
  return raw ? (JSON.parse(raw) as WorkerSetup) : undefined;
}

/**
 * Runs one worker of `serve --workers`: a node without a data-dir lock, embedded services or
 * `/metrics` of its own (the primary has them), taking calls on the shared port. It drains and
 * exits when the primary says so, ignoring signals: a Ctrl-C or a service manager's SIGTERM to the
 * whole group reaches the primary too, which drains every worker once.
 */
export async function runWorker(
  config: AybizaConfig, setup: WorkerSetup, log: Logger, startNode: (options: NodeOptions) => Promise<RunningNode>,
): Promise<void> {
  const send = (message: ClusterMessage): void => void process.send?.(message);
  const releases = numberedRequests<Extract<ClusterMessage, { aybiza: 'released' }>>();
  process.on('SIGTERM', () => undefined);
  process.on('SIGINT', () => undefined);
  // An 'auto' hot store would fall back to this process's memory, where no other worker finds a call.
  const clustered: AybizaConfig = { ...config, memory: { ...config.memory, hot: 'redis' } };
  let node: RunningNode | undefined;
  process.on('message', (message: unknown) => {
    if (!isClusterMessage(message)) return;
    switch (message.aybiza) {
      case 'released':
        releases.answered(message);
        return;
      case 'release':
        send({ aybiza: 'released', id: message.id, busy: node?.calls.release(message.callId) === 'busy' });
        return;
      case 'readiness':
        void (node ? node.ready() : Promise.resolve(false)).catch(() => false)
          .then((ready) => send({ aybiza: 'ready', id: message.id, ready }));
        return;
      case 'worker.shutdown':
        void (node?.shutdown() ?? Promise.resolve()).finally(() => {
          log.flush();
          process.exit(0);
        });
        return;
    }
  });
  try {
    node = await startNode({
      config: clustered,
      log,
      worker: {
        services: setup.services,
        metricsUrl: setup.metricsUrl,
        releaseElsewhere: async (callId) => {
          const answer = await releases.ask((id) => process.send?.({ aybiza: 'release', id, callId } satisfies ClusterMessage));
          return answer !== undefined && !answer.busy;
        },
      },
    });
  } catch (error) {
    // The primary prints this one line (the workers' own would be one per worker), then stops.
    const failed: ClusterMessage = { aybiza: 'worker.failed', message: (error as Error).message };
    process.send?.(failed, undefined, {}, () => process.exit(2));
    return;
  }
  // prom-client answers the primary's AggregatorRegistry with this node's registry.
  AggregatorRegistry.setRegistries([node.metrics.registry]);
  void new AggregatorRegistry();
  void node.exited.then((reason) => {
    if (reason.kind !== 'crash') return;
    log.error({ event: 'serve.gave_up', error: reason.error.message });
    log.flush();
    process.exit(1); // the primary restarts this worker, within its restart intensity
  });
  send({ aybiza: 'worker.ready', telephonyUrl: node.telephonyUrl });
}
