import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { createAccounting, type Accounting } from '../accounting/accounting.js';
import { createCallEffects } from '../call/effects.js';
import type { CallEffects } from '../call/machine.js';
import { createCatalogue } from '../config/catalogue.js';
import { ConfigError } from '../config/load.js';
import type { AybizaConfig } from '../config/schema.js';
import { startEmulator, type RunningEmulator } from '../emulator/server.js';
import type { ModelScript } from '../emulator/script.js';
import { createBedrockClient } from '../llm/bedrock-client.js';
import type { Logger } from '../log.js';
import { openMemory, type OpenedMemory } from '../memory/create.js';
import { createMetrics, type RuntimeMetrics } from '../metrics/metrics.js';
import { callSummary } from '../metrics/call-summary.js';
import { startMetricsServer } from '../metrics/server.js';
import { startTelephonyServer, type TelephonyServer } from '../telephony/server.js';
import { createWebhookTool } from '../tools/backends/webhook.js';
import { createBuiltinTools } from '../tools/builtin/index.js';
import { createToolRegistry, type ToolRegistry } from '../tools/registry.js';
import type { ToolDefinition } from '../tools/types.js';
import { eventLoopGuard } from './overload-guard.js';
import { createCallSupervisor, type CallSupervisor } from './call-supervisor.js';
import { supervisor, type ChildHandle, type ChildSpec, type ExitReason } from './supervisor.js';

export interface NodeOptions {
  config: AybizaConfig;
  log: Logger;
  /** Emulated model behaviour when the embedded emulator runs: a default script and per-agent scripts. */
  emulator?: { script?: ModelScript; scripts?: Record<string, ModelScript> };
  /** Tools beyond the built-ins (tests, embedders). */
  extraTools?: ToolDefinition[];
  /** Replaces some call effects (fault-injection tests). */
  effectOverrides?: (effects: Omit<CallEffects, 'send'>) => Partial<Omit<CallEffects, 'send'>>;
}

export interface RunningNode {
  telephonyUrl: string;
  metricsUrl: string;
  bedrockEndpoint: string | undefined;
  emulator: RunningEmulator | undefined;
  calls: CallSupervisor;
  metrics: RuntimeMetrics;
  memory: OpenedMemory;
  /** Stops accepting calls, lets active ones finish up to `drainTimeoutMs`, ends the rest politely, flushes, closes. */
  shutdown(): Promise<void>;
}

/** What the children of the node hand to the ones started after them. */
interface Services {
  emulator?: RunningEmulator;
  memory?: OpenedMemory;
  accounting?: Accounting;
  tools?: ToolRegistry;
  calls?: CallSupervisor;
  telephony?: TelephonyServer;
  metricsUrl?: string;
}

/**
 * Starts one AYBIZA node: the supervision tree of DESIGN.md, declared as data. Children start in
 * list order, each handing what it made to the next, and stop in reverse order.
 */
export async function startNode(options: NodeOptions): Promise<RunningNode> {
  const { config, log } = options;
  const metrics = createMetrics();
  const catalogue = createCatalogue(config.models);
  const services: Services = {};
  const clients = new Map<string, BedrockRuntimeClient>();
  const embeddedEmulator = config.bedrock.mode === 'emulator' && !config.bedrock.endpoint;
  let bedrockEndpoint = config.bedrock.endpoint;

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
      });
      clients.set(region, client);
    }
    return client;
  };

  const children: ChildSpec[] = [
    ...(embeddedEmulator ? [{
      id: 'bedrock-emulator',
      restart: 'permanent' as const,
      shutdownMs: 2_000,
      start: async () => {
        const emulator = await startEmulator({ ...options.emulator });
        services.emulator = emulator;
        bedrockEndpoint = emulator.url;
        log.info({ event: 'node.bedrock_emulator', url: emulator.url }, 'no AWS Bedrock configured: answering with the embedded emulator');
        return handle(() => emulator.close());
      },
    }] : []),
    {
      id: 'memory',
      restart: 'permanent',
      shutdownMs: 10_000,
      start: async () => {
        const memory = await openMemory({
          ...config.memory,
          region: config.bedrock.region,
          windowMessages: Math.max(...Object.values(config.agents).map((agent) => agent.windowMessages)),
        }, log);
        services.memory = memory;
        metrics.setWriteQueueSource(() => memory.writeQueueDepth());
        metrics.setHotStoreErrorsSource(() => memory.stats().hotErrors);
        return handle(() => memory.close());
      },
    },
    {
      id: 'accounting',
      restart: 'permanent',
      shutdownMs: 5_000,
      start: async () => {
        const accounting = createAccounting({ ...config.accounting, metrics, log });
        // The first trims would otherwise time out while the worker loads the tokenizer.
        await accounting.ready();
        services.accounting = accounting;
        return handle(() => accounting.close());
      },
    },
    {
      id: 'calls',
      restart: 'permanent',
      shutdownMs: config.server.drainTimeoutMs + 5_000,
      start: async () => {
        const builtins = await createBuiltinTools({ fixturesDir: config.tools.fixturesDir });
        const webhooks = config.tools.webhooks.map((webhook) => createWebhookTool(webhook));
        const tools = createToolRegistry([...builtins, ...webhooks, ...(options.extraTools ?? [])]);
        refuseUnknownTools(config, tools);
        services.tools = tools;
        const accounting = required(services.accounting, 'accounting');
        const effects = createCallEffects({
          config, catalogue, bedrock, tools, metrics, log, accounting,
          store: required(services.memory, 'memory').store,
          responseCache: required(services.memory, 'memory').responseCache,
        });
        const overload = eventLoopGuard({ maxLagMs: config.server.maxEventLoopLagMs });
        const calls = createCallSupervisor({
          effects: { ...effects, ...options.effectOverrides?.(effects) },
          store: required(services.memory, 'memory').store,
          log,
          knownAgents: new Set(Object.keys(config.agents)),
          maxCalls: config.server.maxCalls,
          overload,
          resumeGraceMs: config.server.resumeGraceMs,
          restartIntensity: 3,
          restartPeriodMs: 60_000,
          onRestart: () => metrics.actorRestarts.inc({ kind: 'call' }),
          onCallEnded: (summary, context) => {
            metrics.callEnded(summary.outcome);
            log.info({
              ...callSummary({
                callId: summary.callId,
                outcome: summary.outcome,
                turnLatenciesSeconds: (context?.latenciesMs ?? []).map((ms) => ms / 1000),
                ledger: accounting.ledger(summary.callId),
              }),
              agent: summary.agent,
              durationMs: summary.endedAt - summary.startedAt,
            });
            accounting.forget(summary.callId);
          },
        });
        services.calls = calls;
        metrics.setActiveCallsSource(() => calls.active());
        return handle(async () => {
          overload.stop();
          await calls.stop();
        });
      },
    },
    {
      id: 'telephony',
      restart: 'permanent',
      shutdownMs: 5_000,
      start: async () => {
        const telephony = await startTelephonyServer({
          host: config.server.host,
          port: config.server.port,
          backlog: config.server.backlog,
          apiKeys: config.server.apiKeys,
          allowedOrigins: config.server.allowedOrigins,
          agents: Object.keys(config.agents),
          limits: config.server,
          calls: required(services.calls, 'calls'),
          log,
          onFrame: (direction) => metrics.frames.inc({ direction }),
          onProtocolError: (code) => metrics.protocolErrors.inc({ code }),
        });
        services.telephony = telephony;
        return handle(() => telephony.close());
      },
    },
    {
      id: 'metrics',
      restart: 'permanent',
      shutdownMs: 2_000,
      start: async () => {
        const server = await startMetricsServer({
          host: config.server.host,
          port: config.server.metricsPort,
          metrics,
          ready: async () => services.telephony !== undefined && (await required(services.memory, 'memory').store.healthy()),
        });
        services.metricsUrl = server.url;
        return handle(() => server.close());
      },
    },
  ];

  const root = supervisor({ strategy: 'one_for_one', intensity: 5, periodMs: 60_000 }, children);
  await root.start();
  const calls = required(services.calls, 'calls');
  const telephony = required(services.telephony, 'telephony');
  log.info({ event: 'node.started', telephony: telephony.url, metrics: services.metricsUrl });

  let stopping: Promise<void> | undefined;
  return {
    telephonyUrl: telephony.url,
    metricsUrl: required(services.metricsUrl, 'metrics'),
    bedrockEndpoint,
    emulator: services.emulator,
    calls,
    metrics,
    memory: required(services.memory, 'memory'),
    shutdown: () => {
      stopping ??= (async () => {
        telephony.stopAccepting();
        log.info({ event: 'node.draining', activeCalls: calls.active(), drainTimeoutMs: config.server.drainTimeoutMs });
        const drained = await calls.idle(config.server.drainTimeoutMs);
        if (!drained) await calls.endAll(5_000);
        await root.stop();
        for (const client of clients.values()) client.destroy();
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

/** A service child whose only lifecycle is start and close. */
function handle(close: () => Promise<void>): ChildHandle {
  let settle!: (reason: ExitReason) => void;
  const exited = new Promise<ExitReason>((resolve) => (settle = resolve));
  return {
    exited,
    stop: async () => {
      await close();
      settle({ kind: 'shutdown' });
    },
  };
}

function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new Error(`${name} is not running`);
  return value;
}
