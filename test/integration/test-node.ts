import { loadConfig } from '../../src/config/load.js';
import type { AybizaConfig } from '../../src/config/schema.js';
import type { ModelScript } from '../../src/emulator/script.js';
import { createLogger, type Logger } from '../../src/log.js';
import { startNode, type NodeOptions, type RunningNode } from '../../src/runtime/node.js';
import { isolation } from '../memory/memory-fixtures.js';

export interface TestNode {
  node: RunningNode;
  config: AybizaConfig;
  url: string;
  requests: (callId: string) => ReturnType<NonNullable<RunningNode['emulator']>['requests']>;
  close(): Promise<void>;
}

export const SONNET = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
export const HAIKU = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';

/**
 * A whole node on ephemeral ports: the embedded emulator driven by the given scripts, the real
 * Redis under a key prefix of its own (its keys removed on close), and an embedded DynamoDB in a
 * temporary folder.
 */
export async function startTestNode(options: {
  script?: ModelScript;
  scripts?: Record<string, ModelScript>;
  config?: Record<string, unknown>;
  log?: Logger;
  extraTools?: NodeOptions['extraTools'];
  effectOverrides?: NodeOptions['effectOverrides'];
} = {}): Promise<TestNode> {
  const isolated = isolation('node');
  try {
    const config = loadConfig({
      env: {},
      overrides: mergeDeep({
        // The clients share the node's event loop here, so its lag says little: the overload guard is off
        // unless a test turns it on (test/runtime/overload-guard.test.ts).
        server: { port: 0, metricsPort: 0, drainTimeoutMs: 2_000, resumeGraceMs: 2_000, maxEventLoopLagMs: 0 },
        memory: { dataDir: isolated.dataDir, hot: 'redis', keyPrefix: isolated.keyPrefix, hotTtlSeconds: 300 },
        bedrock: { firstEventTimeoutMs: 3_000, idleTimeoutMs: 3_000 },
        log: { level: 'silent' },
      }, options.config ?? {}),
    });
    const node = await startNode({
      config,
      log: options.log ?? createLogger({ level: process.env.AYBIZA_TEST_LOG ?? 'silent' }),
      emulator: { script: options.script, scripts: options.scripts },
      extraTools: options.extraTools,
      effectOverrides: options.effectOverrides,
    });
    return {
      node,
      config,
      url: node.telephonyUrl,
      requests: (callId) => node.emulator?.requests({ callId }) ?? [],
      close: async () => {
        await node.shutdown();
        await isolated.cleanup();
      },
    };
  } catch (error) {
    await isolated.cleanup();
    throw error;
  }
}

/** Nested objects merged key by key; arrays and values replaced. */
export function mergeDeep(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? mergeDeep(current, value) : value;
  }
  return out;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
