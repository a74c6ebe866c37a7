import { connect } from 'node:net';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { ToolConnectorUnreachableError } from '../errors.js';
import type { ToolContext, ToolDefinition } from '../types.js';
import { invokeFunction } from './lambda.js';
import type { McpConnector } from './mcp.js';
import { createWebhookTool } from './webhook.js';

export interface ConnectorConfig {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
  timeoutMs?: number;
  filler?: string;
  optional: boolean;
  backend:
    | { type: 'webhook'; url: string; headers: Record<string, string>; allowHosts: string[]; maxResponseBytes: number }
    | { type: 'lambda'; functionName: string; qualifier?: string; maxPayloadBytes: number }
    | { type: 'mcp'; server: string; tool: string };
}

export interface ConnectorDeps {
  lambda: () => LambdaClient;
  mcp: (server: string) => McpConnector;
}

const PROBE_TIMEOUT_MS = 5_000;

/** Opens and closes a TCP connection to the webhook's host: what "reachable" can mean before any call. */
function probeTcp(url: string): Promise<void> {
  const { hostname, port, protocol } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) || (protocol === 'https:' ? 443 : 80), timeout: PROBE_TIMEOUT_MS });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`no TCP connection to ${hostname} within ${PROBE_TIMEOUT_MS} ms`));
    });
    socket.once('error', (error) => reject(new Error(`${hostname}: ${error.message}`)));
  });
}

/** Lambda's DryRun checks that the function exists and that these credentials may invoke it, running nothing. */
async function probeLambda(client: LambdaClient, backend: Extract<ConnectorConfig['backend'], { type: 'lambda' }>): Promise<void> {
  await client.send(new InvokeCommand({ FunctionName: backend.functionName, InvocationType: 'DryRun', ...(backend.qualifier ? { Qualifier: backend.qualifier } : {}) }));
}

function probeMcp(connector: McpConnector, tool: string): void {
  if (!connector.available()) throw new Error(`MCP server "${connector.name}" is not connected`);
  if (!connector.offers(tool)) {
    throw new Error(`MCP server "${connector.name}" does not offer a tool "${tool}"`);
  }
}

const callOf = (context: ToolContext) => ({ callId: context.callId, agent: context.agent, from: context.from, to: context.to });

function definitionOf(config: ConnectorConfig, deps: ConnectorDeps): ToolDefinition {
  const { backend } = config;
  const common = {
    name: config.name,
    description: config.description,
    inputSchema: config.inputSchema,
    ...(config.timeoutMs !== undefined ? { timeoutMs: config.timeoutMs } : {}),
    ...(config.filler !== undefined ? { filler: config.filler } : {}),
  };
  switch (backend.type) {
    case 'webhook':
      return { ...createWebhookTool({ ...common, ...backend }), backend: 'webhook' };
    case 'lambda':
      return {
        ...common,
        backend: 'lambda',
        // The same envelope as a webhook's, so one handler can serve either.
        run: async (input, context) => ({ result: await invokeFunction(deps.lambda(), backend, { tool: config.name, input, call: callOf(context) }, context.signal) }),
      };
    case 'mcp':
      return { ...common, backend: 'mcp', run: (input, context) => deps.mcp(backend.server).call(backend.tool, input, context.signal) };
  }
}

/**
 * The configured connectors as tools, each probed at start: an unreachable one stops the start
 * with its name and the reason, or, when `optional`, answers the model that it is unavailable
 * until a later probe at call time finds it back.
 */
export async function createConnectorTools(configs: ConnectorConfig[], deps: ConnectorDeps, onUnavailable: (name: string, reason: string) => void): Promise<ToolDefinition[]> {
  return Promise.all(configs.map(async (config) => {
    const definition = definitionOf(config, deps);
    try {
      if (config.backend.type === 'webhook') await probeTcp(config.backend.url);
      else if (config.backend.type === 'lambda') await probeLambda(deps.lambda(), config.backend);
      else probeMcp(deps.mcp(config.backend.server), config.backend.tool);
      return definition;
    } catch (error) {
      const reason = (error as Error).message.split('\n')[0] ?? 'unknown error';
      if (!config.optional) throw new ToolConnectorUnreachableError(`connector "${config.name}" (${config.backend.type}) cannot be reached at start: ${reason}; fix its backend, or mark it "optional": true to start without it`);
      onUnavailable(config.name, reason);
      return withRecovery(definition, config, deps, reason);
    }
  }));
}

/** An optional connector that was down at start: each call probes again, so it comes back without a restart. */
function withRecovery(definition: ToolDefinition, config: ConnectorConfig, deps: ConnectorDeps, reason: string): ToolDefinition {
  let down: string | undefined = reason;
  return {
    ...definition,
    async run(input, context) {
      if (down !== undefined) {
        try {
          if (config.backend.type === 'webhook') await probeTcp(config.backend.url);
          else if (config.backend.type === 'mcp') probeMcp(deps.mcp(config.backend.server), config.backend.tool);
          down = undefined;
        } catch (error) {
          down = (error as Error).message;
          throw new Error(`the ${config.name} connector is unavailable (${down}); tell the caller you cannot do that right now, and offer another way`);
        }
      }
      return definition.run(input, context);
    },
  };
}

