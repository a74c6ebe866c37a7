import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { createAccounting, type Accounting } from '../accounting/accounting.js';
import { createCallEffects } from '../call/effects.js';
import { createCallPolicy } from '../call/policy.js';
import type { CallEffects } from '../call/machine.js';
import { createCatalogue } from '../config/catalogue.js';
import { ConfigError } from '../config/load.js';
import { configuredModelRefs, modelLifecycleWarnings, type AybizaConfig } from '../config/schema.js';
import type { RunningEmulator } from '../emulator/server.js';
import type { SpeechEmulators } from './speech-emulators.js';
import { createSpeechServices, type SpeechServices } from './speech-services.js';
import { createTwilioEndpoint } from '../telephony/twilio/twilio-endpoint.js';
import { TWILIO_PRINCIPAL } from '../telephony/twilio/media-stream.js';
import type { ModelScript } from '../emulator/script.js';
import { createBedrockClient } from '../llm/bedrock-client.js';
import { verifyModelAccess } from '../llm/model-access.js';
import type { Logger } from '../log.js';
import { openMemory, type OpenedMemory } from '../memory/create.js';
import { createMetrics, type RuntimeMetrics } from '../metrics/metrics.js';
import { callSummary } from '../metrics/call-summary.js';
import { createCallRecords } from '../records/call-records.js';
import { observers } from '../records/observations.js';
import { startTracing } from '../tracing/sdk.js';
import { createExposition } from '../metrics/exposition.js';
import type { MetricsServer } from '../metrics/server.js';
import { startTelephonyServer, type TelephonyServer } from '../telephony/server.js';
import { createWebhookTool } from '../tools/backends/webhook.js';
import { createBuiltinTools } from '../tools/builtin/index.js';
import { createToolRegistry, type ToolRegistry } from '../tools/registry.js';
import type { ToolDefinition } from '../tools/types.js';
import { metricsServerChild } from './metrics-child.js';
import { eventLoopGuard } from './overload-guard.js';
import { toolBackends } from './tool-backends.js';
import { createCallSupervisor, type CallSupervisor } from './calls/call-supervisor.js';
import { startHoldingDataDir } from './data-dir-lock.js';
import { bedrockEmulatorChild, embeddedServicesOf, speechEmulatorsChild, type SharedServices } from './embedded-services.js';
import { noting, provided } from './provided.js';
import { SERVICE_BACKOFF_MS } from './child.js';
import { supervisor, type ChildSpec, type ExitReason, type Supervisor } from './supervisor.js';

export interface NodeOptions {
  config: AybizaConfig;
  log: Logger;
  /** Emulated model behaviour when the embedded emulator runs: a default script and per-agent scripts. */
  emulator?: { script?: ModelScript; scripts?: Record<string, ModelScript> };
  /** Tools beyond the built-ins (tests, embedders). */
  extraTools?: ToolDefinition[];
  /** Replaces some call effects (fault-injection tests). */
  effectOverrides?: (effects: CallEffects) => Partial<CallEffects>;
  /**
   * Set in a worker of `serve --workers`: the primary holds the data dir, runs the embedded services
   * (their endpoints here) and answers `/metrics`, so this node starts none of them; `releaseElsewhere`
   * asks the other workers to let go of a suspended call this node is resuming.
   */
  worker?: { services: SharedServices; metricsUrl: string; releaseElsewhere: (callId: string) => Promise<boolean> };
}

export interface RunningNode {
  telephonyUrl: string;
  /** The primary's in a worker of `serve --workers`. */
  metricsUrl: string;
  bedrockEndpoint: string | undefined;
  /** Whether the node can take calls (`/readyz`): the call path is up and memory answers. */
  ready(): Promise<boolean>;
  /** The running incarnations: each getter answers with the one started last (a restart replaces it). */
  readonly emulator: RunningEmulator | undefined;
  readonly calls: CallSupervisor;
  readonly memory: OpenedMemory;
  metrics: RuntimeMetrics;
  /** The root supervisor's exit: a crash when it gave up after too many restarts. */
  exited: Promise<ExitReason>;
  /** Stops accepting calls, lets active ones finish up to `drainTimeoutMs`, ends the rest politely, flushes, closes. */
  shutdown(): Promise<void>;
}

/** Restarts of one subtree within this period, past the intensity, make its supervisor give up. */
const RESTART_LIMITS = { intensity: 3, periodMs: 60_000 };

/**
 * Starts one AYBIZA node, its supervision tree declared as data (README, "Supervision"):
 *
 *     root (one_for_one)
 *     ├── bedrock-emulator            (embedded emulator only)
 *     ├── speech-emulators            (Twilio or the browser's Polly voice on, speech in emulator mode only)
 *     ├── lambda-emulator             (execute_code on the embedded Lambda emulator only)
 *     ├── knowledge-emulator          (knowledge bases on the embedded Kendra/Knowledge Bases emulator only)
 *     ├── call-path (rest_for_one)
 *     │   ├── accounting
 *     │   ├── memory
 *     │   ├── calls                   holds accounting and memory
 *     │   └── telephony               holds calls (and the Twilio routes, /v1/speech, the speech clients)
 *     └── metrics                     reads the call path's current incarnations
 *
 * A worker of `serve --workers` has no bedrock-emulator, speech-emulators or metrics child and takes
 * no data-dir lock: its primary runs those once for every worker (src/runtime/cluster/primary.ts).
 *
 * A child hands what it started to later ones through a {@link Provided} cell that it empties when
 * it stops or fails; `rest_for_one` restarts every later child after it, so no child keeps a
 * closed earlier one. Servers started on port 0 keep the port their first incarnation got.
 */
export async function startNode(options: NodeOptions): Promise<RunningNode> {
  const { config, log } = options;
  const metrics = createMetrics();
  const catalogue = createCatalogue(config.models);
  for (const warning of modelLifecycleWarnings(config)) log.warn({ event: 'model.legacy' }, warning);
  if (config.bedrock.mode === 'aws') {
    const models = [...configuredModelRefs(config)].map(([path, ref]) => {
      const { modelId, entry } = catalogue.resolve(ref, config.bedrock.region);
      return { path, modelId, baseModelId: entry.id };
    });
    const warnings = await verifyModelAccess({ region: config.bedrock.region, endpoint: config.bedrock.endpoint, models });
    for (const warning of warnings) log.warn({ event: 'model.legacy' }, warning);
  }
  const clients = new Map<string, BedrockRuntimeClient>();
  const shared = options.worker?.services ?? {};
  const embedded = options.worker ? { bedrock: false, speech: false } : embeddedServicesOf(config);
  let bedrockEndpoint = config.bedrock.endpoint ?? shared.bedrockEndpoint;
  const emulator = provided<RunningEmulator>('bedrock-emulator');
  const accounting = provided<Accounting>('accounting');
  const memory = provided<OpenedMemory>('memory');
  const calls = provided<CallSupervisor>('calls');
  const telephony = provided<TelephonyServer>('telephony');
  const metricsServer = provided<MetricsServer>('metrics');
  const speechEmulators = provided<SpeechEmulators>('speech-emulators');
  // Speech serves audio transports: Twilio, and the softphone's server voice; emulator mode embeds Transcribe and Polly.
  const { browserAudio } = config.speech;
  let speech: SpeechServices | undefined;
  const ports = { telephony: config.server.port, metrics: config.server.metricsPort };
  const backends = toolBackends(config, log);
  // Outlives restarts of the call path: an ended call's record stays readable while memory restarts.
  // Off (nothing registered, nothing exported) unless an OTEL_EXPORTER_OTLP_*ENDPOINT is set.
  const tracing = startTracing(process.env, log);
  const callRecords = createCallRecords({
    persist: (record) => void memory.current()?.store.saveCallRecord(record.callId, record)
      .catch((error: Error) => log.warn({ event: 'call.record_failed', callId: record.callId, error: error.message })),
    load: async (callId) => memory.current()?.store.loadCallRecord(callId),
  });
  const observe = observers(callRecords.observe, tracing?.observe);

  const bedrock = (region: string): BedrockRuntimeClient => {
    let client = clients.get(region);
    if (!client) {
      client = createBedrockClient({
        region,
        endpoint: bedrockEndpoint,
        credentials: config.bedrock.mode === 'emulator' ? 'emulator' : 'aws',
        handler: config.bedrock.requestHandler,
        maxSockets: config.bedrock.maxSockets,
        maxAttempts: config.bedrock.maxAttempts,
        decoder: config.bedrock.decoder,
        log,
      });
      clients.set(region, client);
    }
    return client;
  };

  // Not ready while the call path restarts: its cells are empty until it is back.
  const ready = async () => telephony.current() !== undefined && (await memory.current()?.store.healthy()) === true;

  const countRestarts = (tree: Supervisor): Supervisor => {
    tree.on('restart', (id, attempt, error) => {
      metrics.actorRestarts.inc({ kind: 'service' });
      log.warn({ event: 'node.child_restart', child: id, attempt, error: error.message });
    });
    return tree;
  };

  const callPath: ChildSpec[] = [
    {
      id: 'accounting',
      restart: 'permanent',
      shutdownMs: 5_000,
      backoffMs: SERVICE_BACKOFF_MS,
      start: async () => {
        const started = createAccounting({ ...config.accounting, metrics, log });
        // The first trims would otherwise time out while the worker loads the tokenizer.
        await started.ready();
        return accounting.provide(started, () => started.close(), started.failed);
      },
    },
    {
      id: 'memory',
      restart: 'permanent',
      shutdownMs: 10_000,
      backoffMs: SERVICE_BACKOFF_MS,
      start: async () => {
        const opened = await openMemory({
          ...config.memory,
          region: config.bedrock.region,
          windowMessages: Math.max(...Object.values(config.agents).map((agent) => agent.windowMessages)),
          ...(shared.dynamoEndpoint ? { embeddedDynamoEndpoint: shared.dynamoEndpoint } : {}),
        }, log);
        metrics.setWriteQueueSource(() => opened.writeQueueDepth());
        metrics.setHotStoreErrorsSource(() => opened.stats().hotErrors);
        metrics.setUnjournaledSource(() => opened.stats().unjournaled);
        return memory.provide(opened, () => opened.close(), opened.failed);
      },
    },
    {
      id: 'calls',
      restart: 'permanent',
      shutdownMs: config.server.drainTimeoutMs + 5_000,
      start: async () => {
        const builtins = await createBuiltinTools({ fixturesDir: config.tools.fixturesDir });
        const webhooks = config.tools.webhooks.map((webhook) => createWebhookTool(webhook));
        const tools = createToolRegistry([...backends.tools(builtins), ...webhooks, ...(options.extraTools ?? [])]);
        refuseUnknownTools(config, tools);
        const ledgers = accounting.get();
        const { store, responseCache } = memory.get();
        const effects = createCallEffects({ config, catalogue, bedrock, tools, metrics, log, accounting: ledgers, store, responseCache, observe, tracing });
        const overload = eventLoopGuard({ maxLagMs: config.server.maxEventLoopLagMs });
        const supervisorOfCalls = createCallSupervisor({
          policy: createCallPolicy({ config, catalogue, tools, accounting: ledgers }),
          effects: { ...effects, ...options.effectOverrides?.(effects) },
          store,
          log,
          knownAgents: new Set(Object.keys(config.agents)),
          maxCalls: config.server.maxCalls,
          maxCallsPerKey: config.server.maxCallsPerKey,
          overload,
          resumeGraceMs: config.server.resumeGraceMs,
          ...(options.worker ? { releaseElsewhere: options.worker.releaseElsewhere } : {}),
          restartIntensity: 3,
          restartPeriodMs: 60_000,
          onRestart: () => metrics.actorRestarts.inc({ kind: 'call' }),
          observe,
          onCallEnded: (summary, context) => {
            metrics.callEnded(summary.outcome);
            log.info({
              ...callSummary({
                callId: summary.callId,
                outcome: summary.outcome,
                turnLatenciesSeconds: (context?.latenciesMs ?? []).map((ms) => ms / 1000),
                ledger: ledgers.ledger(summary.callId),
              }),
              agent: summary.agent,
              durationMs: summary.endedAt - summary.startedAt,
            });
            ledgers.forget(summary.callId);
          },
          onCallReleased: (callId) => ledgers.forget(callId),
        });
        metrics.setActiveCallsSource(() => supervisorOfCalls.active());
        return calls.provide(supervisorOfCalls, async () => {
          overload.stop();
          await supervisorOfCalls.stop();
        });
      },
    },
    {
      id: 'telephony',
      restart: 'permanent',
      shutdownMs: 5_000,
      backoffMs: SERVICE_BACKOFF_MS,
      start: async () => {
        const twilio = config.twilio;
        const twilioReady = twilio.enabled && twilio.accountSid && twilio.authToken && twilio.publicUrl;
        speech?.destroy();
        const emulators = speechEmulators.current();
        const services = twilioReady || browserAudio.enabled ? createSpeechServices(config, {
          transcribe: config.speech.transcribeEndpoint ?? shared.transcribeEndpoint ?? emulators?.transcribeUrl,
          polly: config.speech.pollyEndpoint ?? shared.pollyEndpoint ?? emulators?.pollyUrl,
        }, log) : undefined;
        speech = services;
        const twilioEndpoint = services && twilioReady && twilio.accountSid && twilio.authToken && twilio.publicUrl ? (() => {
          const store = memory.get().store;
          return createTwilioEndpoint({
            settings: { ...twilio, accountSid: twilio.accountSid, authToken: twilio.authToken, publicUrl: twilio.publicUrl },
            calls: calls.get(),
            speech: (agent) => ({ ...services.forAgent(agent), observe }),
            resumable: async (callSid) => (await store.loadSnapshot(callSid)) !== undefined,
            busy: (reserved) => calls.get().newCallRefusal(TWILIO_PRINCIPAL, reserved),
            log,
            onRefused: (reason) => metrics.protocolErrors.inc({ code: `twilio_${reason}` }),
          });
        })() : undefined;
        const server = await startTelephonyServer({
          twilio: twilioEndpoint,
          ...(services && browserAudio.enabled ? {
            speech: { voiceOf: (agent: string) => services.browserVoice(agent), maxChars: browserAudio.maxChars },
          } : {}),
          host: config.server.host,
          port: ports.telephony,
          backlog: config.server.backlog,
          apiKeys: config.server.apiKeys,
          allowedOrigins: config.server.allowedOrigins,
          agents: Object.keys(config.agents),
          limits: config.server,
          calls: calls.get(),
          records: { records: callRecords, diagram: calls.get().diagram(), unmaskedNumberKeys: config.server.unmaskedNumberKeys },
          log,
          onFrame: (direction) => metrics.frames.inc({ direction }),
          onProtocolError: (code) => metrics.protocolErrors.inc({ code }),
        });
        ports.telephony = server.port;
        return telephony.provide(server, () => server.close(), server.failed);
      },
    },
  ];

  const children: ChildSpec[] = [
    ...(embedded.bedrock ? [bedrockEmulatorChild({
      catalogue,
      emulator: options.emulator,
      log,
      cell: noting(emulator, (started) => (bedrockEndpoint = started.url)),
    })] : []),
    ...(embedded.speech ? [speechEmulatorsChild(config, log, speechEmulators)] : []),
    ...backends.children,
    {
      id: 'call-path',
      restart: 'permanent',
      shutdownMs: config.server.drainTimeoutMs + 30_000,
      start: async () => {
        const tree = countRestarts(supervisor({ strategy: 'rest_for_one', ...RESTART_LIMITS }, callPath));
        await tree.start();
        return tree;
      },
    },
    ...(options.worker ? [] : [metricsServerChild(config, log, metricsServer, { expose: createExposition(metrics.registry), ready })]),
  ];

  const root = countRestarts(supervisor({ strategy: 'one_for_one', ...RESTART_LIMITS }, children));
  // A worker's data dir is its primary's: the primary holds the lock.
  if (options.worker) await root.start();
  else await startHoldingDataDir(config.memory.dataDir, root);
  const telephonyUrl = telephony.get().url;
  const metricsUrl = options.worker?.metricsUrl ?? metricsServer.get().url;
  log.info({ event: 'node.started', telephony: telephonyUrl, metrics: metricsUrl });

  let stopping: Promise<void> | undefined;
  return {
    telephonyUrl,
    metricsUrl,
    bedrockEndpoint,
    ready,
    get emulator() { return emulator.current(); },
    get calls() { return calls.get(); },
    get memory() { return memory.get(); },
    metrics,
    exited: root.exited,
    shutdown: () => {
      stopping ??= (async () => {
        telephony.current()?.stopAccepting();
        const active = calls.current();
        log.info({ event: 'node.draining', activeCalls: active?.active() ?? 0, drainTimeoutMs: config.server.drainTimeoutMs });
        if (active) {
          const drained = await active.idle(config.server.drainTimeoutMs);
          if (!drained) await active.endAll(5_000);
        }
        await root.stop();
        for (const client of clients.values()) client.destroy();
        backends.close();
        await tracing?.shutdown().catch((error: Error) => log.warn({ event: 'tracing.shutdown_failed', error: error.message }));
        speech?.destroy();
        log.info({ event: 'node.stopped' });
      })();
      return stopping;
    },
  };
}

/** An agent naming a tool nobody provides is a configuration mistake: refuse to start, not to answer. */
function refuseUnknownTools(config: AybizaConfig, tools: ToolRegistry): void {
  const problems = Object.entries(config.agents).flatMap(([name, agent]) => {
    const unknown = agent.tools.filter((tool) => !tools.get(tool));
    return unknown.length === 0 ? [] : [`agents.${name}.tools: got ${JSON.stringify(unknown)} — expected tools that exist: ${tools.names().join(', ')}`];
  });
  if (problems.length > 0) throw new ConfigError(problems);
}
