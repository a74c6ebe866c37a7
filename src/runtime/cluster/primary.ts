import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, Registry } from 'prom-client';
import type { AybizaConfig } from '../../config/schema.js';
import { createCatalogue } from '../../config/catalogue.js';
import type { RunningEmulator } from '../../emulator/server.js';
import type { Logger } from '../../log.js';
import type { EmbeddedDynamo } from '../../memory/embedded-dynamo.js';
import type { MetricsServer } from '../../metrics/server.js';
import { SERVICE_BACKOFF_MS, type ChildHandle, type ChildSpec, type ExitReason } from '../child.js';
import { startHoldingDataDir } from '../data-dir-lock.js';
import { metricsServerChild } from '../metrics-child.js';
import { bedrockEmulatorChild, embeddedDynamoChild, embeddedServicesOf, speechEmulatorsChild, type SharedServices } from '../embedded-services.js';
import { noting, provided } from '../provided.js';
import type { SpeechEmulators } from '../speech-emulators.js';
import { supervisor } from '../supervisor.js';
import { isClusterMessage, numberedRequests, WORKER_ENV, type ClusterMessage, type WorkerSetup } from './messages.js';

export interface RunningCluster {
  telephonyUrl: string;
  metricsUrl: string;
  bedrockEndpoint: string | undefined;
  /** The pids of the workers running now, by slot. */
  workerPids(): number[];
  /** The primary's tree gave up: a shared service or the workers crashed more often than the restart intensity allows. */
  exited: Promise<ExitReason>;
  /** Every worker drains at once (`drainTimeoutMs`), then the shared services stop. */
  shutdown(): Promise<void>;
}

const RESTART_PERIOD_MS = 60_000;

/**
 * The primary of `serve --workers N`: it holds the data dir, runs the embedded services once
 * (dynalite, the Bedrock and speech emulators, whichever the configuration embeds) and the one
 * `/metrics` (prom-client's AggregatorRegistry summing the workers' registries), and supervises N
 * worker processes that share the calls port through node:cluster:
 *
 *     primary (one_for_one, at most max(3, N) restarts a minute)
 *     ├── embedded-dynamodb, bedrock-emulator, speech-emulators   (whichever are embedded)
 *     ├── metrics
 *     └── worker-1 … worker-N      (transient: a crashed worker is forked again)
 *
 * Calls live in the workers; their state is in Redis and DynamoDB, so a call dropped with its
 * worker resumes on whichever worker takes the reconnection.
 */
export async function startCluster(config: AybizaConfig, log: Logger): Promise<RunningCluster> {
  const count = config.server.workers;
  const embedded = embeddedServicesOf(config);
  const dynamo = provided<EmbeddedDynamo>('embedded-dynamodb');
  const emulator = provided<RunningEmulator>('bedrock-emulator');
  const speech = provided<SpeechEmulators>('speech-emulators');
  const metricsServer = provided<MetricsServer>('metrics');
  const workers = new Map<number, Worker>();
  const readiness = numberedRequests<Extract<ClusterMessage, { aybiza: 'ready' }>>();
  const releases = numberedRequests<Extract<ClusterMessage, { aybiza: 'released' }>>();
  let telephonyUrl: string | undefined;
  /** Set once shutdown began: a worker exiting from then on was asked to. */
  let draining = false;

  // Kept through a service's restart (it listens on the same port again), so a worker forked in that
  // gap still uses the primary's service and never starts one of its own on the same data dir.
  const services: SharedServices = {};

  /** A worker asks to resume a call: every other worker lets go of it unless its caller is connected there. */
  const release = async (from: Worker, id: number, callId: string): Promise<void> => {
    const others = [...workers.values()].filter((worker) => worker !== from && worker.isConnected());
    const answers = await Promise.all(others.map((worker) => releases.ask((askId) => worker.send({ aybiza: 'release', id: askId, callId } satisfies ClusterMessage))));
    const busy = answers.some((answer) => answer === undefined || answer.busy);
    if (from.isConnected()) from.send({ aybiza: 'released', id, busy } satisfies ClusterMessage);
  };

  cluster.on('message', (worker, message: unknown) => {
    if (!isClusterMessage(message)) return;
    if (message.aybiza === 'ready') readiness.answered(message);
    else if (message.aybiza === 'released') releases.answered(message);
    else if (message.aybiza === 'release') void release(worker, message.id, message.callId);
  });

  const fork = (index: number): Promise<ChildHandle> =>
    forkWorker({ index, services, metricsUrl: metricsServer.get().url }, () => draining, (worker) => {
      workers.set(index, worker);
      void worker.process.once('exit', () => workers.get(index) === worker && workers.delete(index));
    }).then(({ handle, url }) => {
      telephonyUrl ??= url;
      return handle;
    });
  /**
   * The first incarnations, forked together when the first slot starts (the tree starts its children
   * one after another, and a worker's start takes seconds): each slot's first start takes its own.
   */
  let firstForks: Map<number, Promise<ChildHandle>> | undefined;
  const workerChild = (index: number): ChildSpec => ({
    id: `worker-${index}`,
    restart: 'transient',
    shutdownMs: config.server.drainTimeoutMs + 30_000,
    // A worker slot restarts as the node's own services do.
    backoffMs: SERVICE_BACKOFF_MS,
    start: () => {
      firstForks ??= new Map(Array.from({ length: count }, (_, i) => {
        const forked = fork(i + 1);
        forked.catch(() => undefined); // its slot's start sees the failure; until then it is not unhandled
        return [i + 1, forked];
      }));
      const first = firstForks.get(index);
      firstForks.delete(index);
      return first ?? fork(index);
    },
  });

  const aggregator = new AggregatorRegistry();
  const metricsChild = metricsServerChild(config, log, metricsServer, {
    // Prometheus text only: the aggregate is built from the workers' JSON, which carries no exemplars.
    expose: async () => ({ contentType: Registry.PROMETHEUS_CONTENT_TYPE, body: await aggregator.clusterMetrics() }),
    // Ready when every slot has a worker that says it is.
    ready: async () => {
      const running = [...workers.values()].filter((worker) => worker.isConnected());
      if (running.length < count) return false;
      const answers = await Promise.all(running.map((worker) => readiness.ask((id) => worker.send({ aybiza: 'readiness', id } satisfies ClusterMessage))));
      return answers.every((answer) => answer?.ready === true);
    },
  });

  const children: ChildSpec[] = [
    ...(embedded.dynamo ? [embeddedDynamoChild(config.memory.dataDir, log, noting(dynamo, (started) => (services.dynamoEndpoint = started.endpoint)))] : []),
    ...(embedded.bedrock ? [bedrockEmulatorChild({ catalogue: createCatalogue(config.models), log, cell: noting(emulator, (started) => (services.bedrockEndpoint = started.url)) })] : []),
    ...(embedded.speech ? [speechEmulatorsChild(config, log, noting(speech, (started) => Object.assign(services, { transcribeEndpoint: started.transcribeUrl, pollyEndpoint: started.pollyUrl })))] : []),
    metricsChild,
    ...Array.from({ length: count }, (_, i) => workerChild(i + 1)),
  ];

  const root = supervisor({ strategy: 'one_for_one', intensity: Math.max(3, count), periodMs: RESTART_PERIOD_MS }, children);
  root.on('restart', (id, attempt, error) => log.warn({ event: 'serve.child_restart', child: id, attempt, error: error.message }));
  try {
    await startHoldingDataDir(config.memory.dataDir, root);
  } catch (error) {
    // A slot failed: the tree stopped the slots it had started, not those forked for later ones.
    for (const pending of firstForks?.values() ?? []) void pending.then((handle) => handle.stop('shutdown'), () => undefined);
    throw error;
  }
  log.info({ event: 'serve.cluster_started', workers: count, pids: [...workers.values()].map((worker) => worker.process.pid) });

  let stopping: Promise<void> | undefined;
  return {
    telephonyUrl: telephonyUrl!,
    metricsUrl: metricsServer.get().url,
    bedrockEndpoint: config.bedrock.endpoint ?? services.bedrockEndpoint,
    workerPids: () => [...workers.entries()].sort(([a], [b]) => a - b).map(([, worker]) => worker.process.pid!),
    exited: root.exited,
    shutdown: () => {
      stopping ??= (async () => {
        draining = true;
        log.info({ event: 'serve.draining', workers: workers.size, drainTimeoutMs: config.server.drainTimeoutMs });
        // All at once: the tree would stop its children one after another, each up to the drain timeout.
        await Promise.all([...workers.values()].map((worker) => stopWorker(worker)));
        await root.stop();
        log.info({ event: 'serve.stopped' });
      })();
      return stopping;
    },
  };
}

/** Asks a worker to drain and resolves when its process has exited. */
function stopWorker(worker: Worker): Promise<void> {
  const exited = new Promise<void>((resolve) => {
    if (worker.process.exitCode !== null || worker.process.signalCode !== null) resolve();
    else worker.process.once('exit', () => resolve());
  });
  if (worker.isConnected()) worker.send({ aybiza: 'worker.shutdown' } satisfies ClusterMessage);
  return exited;
}

/** Forks a worker and resolves once its node listens; rejects with the worker's own start-up failure. */
function forkWorker(setup: WorkerSetup, draining: () => boolean, started: (worker: Worker) => void): Promise<{ handle: ChildHandle; url: string }> {
  const worker = cluster.fork({ [WORKER_ENV]: JSON.stringify(setup) });
  started(worker);
  let asked = false;
  const exited = new Promise<ExitReason>((resolve) => worker.process.once('exit', (code, signal) => resolve(asked || draining()
    ? { kind: 'shutdown' }
    : { kind: 'crash', error: new Error(`worker ${setup.index} (pid ${worker.process.pid}) exited (${signal ?? `code ${code}`})`) })));
  return new Promise((resolve, reject) => {
    let failure: string | undefined;
    const onMessage = (message: unknown) => {
      if (!isClusterMessage(message)) return;
      if (message.aybiza === 'worker.failed') failure = message.message;
      if (message.aybiza !== 'worker.ready') return;
      worker.off('message', onMessage);
      resolve({
        url: message.telephonyUrl,
        handle: {
          exited,
          stop: async () => {
            asked = true;
            await stopWorker(worker);
          },
        },
      });
    };
    worker.on('message', onMessage);
    void exited.then((reason) => {
      worker.off('message', onMessage);
      reject(new Error(failure ?? (reason.kind === 'crash' ? `${reason.error.message} before it was ready` : `worker ${setup.index} stopped before it was ready`)));
    });
  });
}
