import type { BedrockAgentRuntimeClient } from '@aws-sdk/client-bedrock-agent-runtime';
import type { KendraClient } from '@aws-sdk/client-kendra';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { AybizaConfig } from '../config/schema.js';
import { startKnowledgeEmulator, type RunningKnowledgeEmulator } from '../emulator/knowledge/server.js';
import { startLambdaEmulator, type RunningLambdaEmulator } from '../emulator/lambda/server.js';
import type { Logger } from '../log.js';
import { createKendraClient, createKnowledgeBaseClient, createKnowledgeSearchTool, type AgentKnowledge, type KnowledgeSource } from '../tools/backends/knowledge.js';
import { createConnectorTools } from '../tools/backends/connectors.js';
import { createExecuteCodeTool, createLambdaClient } from '../tools/backends/lambda.js';
import { createMcpConnector, type McpConnector } from '../tools/backends/mcp.js';
import { ToolConnectorUnreachableError } from '../tools/errors.js';
import type { ToolDefinition } from '../tools/types.js';
import type { ChildHandle, ChildSpec, ExitReason } from './child.js';

/** The AWS-backed tools of a node and, in emulator mode, the embedded emulators they talk to. */
export interface ToolBackends {
  /** Root children to start before the call path: the embedded emulators in use. */
  children: ChildSpec[];
  /** The built-ins with `search_knowledge` answered per agent by its knowledge base, and the AWS-backed tools; built once the emulators are up. */
  tools(builtins: ToolDefinition[]): ToolDefinition[];
  readonly lambdaEmulator: RunningLambdaEmulator | undefined;
  readonly knowledgeEmulator: RunningKnowledgeEmulator | undefined;
  close(): void;
}

const usesTool = (config: AybizaConfig, name: string): boolean => Object.values(config.agents).some((agent) => agent.tools.includes(name));

/** A child whose value lives until it is stopped; a restart starts a new one on the same port. */
function serviceChild<T extends { port: number; close(): Promise<void> }>(id: string, start: (port: number) => Promise<T>, onStarted: (value: T | undefined) => void): ChildSpec {
  let port = 0;
  return {
    id,
    restart: 'permanent',
    shutdownMs: 2_000,
    backoffMs: { initial: 100, max: 2_000 },
    start: async (): Promise<ChildHandle> => {
      const value = await start(port);
      port = value.port;
      onStarted(value);
      let settle!: (reason: ExitReason) => void;
      const exited = new Promise<ExitReason>((resolve) => (settle = resolve));
      return {
        exited,
        stop: async () => {
          onStarted(undefined);
          await value.close();
          settle({ kind: 'shutdown' });
        },
      };
    },
  };
}

/**
 * Which backends the configuration uses decides what starts: `execute_code` only when an agent
 * names it; in emulator mode, the embedded Lambda emulator for execute_code and Lambda connectors
 * and the knowledge emulator for the agents' knowledge bases, each only without an endpoint; the
 * MCP servers and the connectors' start-up probes after the emulators.
 */
export function toolBackends(config: AybizaConfig, log: Logger): ToolBackends {
  const clients: Array<{ destroy(): void }> = [];
  const children: ChildSpec[] = [];
  const { executeCode } = config.tools;
  const emulated = config.tools.awsMode === 'emulator';
  let lambdaEmulator: RunningLambdaEmulator | undefined;
  let lambdaEndpoint = executeCode.endpoint;
  const wantsExecuteCode = usesTool(config, 'execute_code');
  const lambdaConnectors = config.tools.connectors.some((connector) => connector.backend.type === 'lambda');
  if ((wantsExecuteCode || lambdaConnectors) && emulated && !lambdaEndpoint) {
    children.push(serviceChild('lambda-emulator', async (port) => {
      const started = await startLambdaEmulator({ port, region: config.tools.region, ...(config.tools.lambdaHandlersDir ? { handlersDir: config.tools.lambdaHandlersDir } : {}) });
      lambdaEndpoint = started.url;
      log.info({ event: 'node.lambda_emulator', url: started.url, functions: started.functionNames() }, 'execute_code runs on the embedded Lambda emulator');
      return started;
    }, (value) => (lambdaEmulator = value)));
  }
  let knowledgeEmulator: RunningKnowledgeEmulator | undefined;
  let knowledgeEndpoint: string | undefined;
  const agentBases = Object.entries(config.agents).flatMap(([agent, { knowledgeBase }]) =>
    (knowledgeBase ? [[agent, config.tools.knowledgeBases[knowledgeBase]!] as const] : []));
  const emulatedBases = emulated ? agentBases.map(([, base]) => base).filter((base) => !base.endpoint) : [];
  if (emulatedBases.length > 0) {
    children.push(serviceChild('knowledge-emulator', async (port) => {
      const started = await startKnowledgeEmulator({
        port,
        documentsDir: config.tools.knowledgeDocumentsDir ?? config.tools.fixturesDir,
        indexIds: emulatedBases.flatMap((base) => (base.indexId ? [base.indexId] : [])),
        knowledgeBaseIds: emulatedBases.flatMap((base) => (base.knowledgeBaseId ? [base.knowledgeBaseId] : [])),
      });
      knowledgeEndpoint = started.url;
      log.info({ event: 'node.knowledge_emulator', url: started.url }, 'search_knowledge retrieves from the embedded Kendra and Knowledge Bases emulator');
      return started;
    }, (value) => (knowledgeEmulator = value)));
  }
  const kendraClients = new Map<string, KendraClient>();
  const knowledgeBaseClients = new Map<string, BedrockAgentRuntimeClient>();
  /** One client per backend and endpoint, shared by the agents using it. */
  const cached = <C extends { destroy(): void }>(map: Map<string, C>, endpoint: string | undefined, create: (options: Parameters<typeof createKendraClient>[0]) => C): C => {
    let client = map.get(endpoint ?? '');
    if (!client) {
      client = create({ region: config.tools.region, credentials: emulated ? 'emulator' : 'aws', ...(endpoint ? { endpoint } : {}) });
      map.set(endpoint ?? '', client);
      clients.push(client);
    }
    return client;
  };
  const sourceOf = (base: AybizaConfig['tools']['knowledgeBases'][string]): KnowledgeSource => {
    const endpoint = base.endpoint ?? (emulated ? knowledgeEndpoint : undefined);
    return base.backend === 'kendra'
      ? { backend: 'kendra', client: cached(kendraClients, endpoint, createKendraClient), indexId: base.indexId! }
      : { backend: 'bedrock-kb', client: cached(knowledgeBaseClients, endpoint, createKnowledgeBaseClient), knowledgeBaseId: base.knowledgeBaseId! };
  };
  const withKnowledge = (builtins: ToolDefinition[]): ToolDefinition[] => {
    if (agentBases.length === 0) return builtins;
    const byAgent = new Map<string, AgentKnowledge>(agentBases.map(([agent, base]) => [agent, { source: sourceOf(base), minScore: base.minScore, maxResults: base.maxResults, timeoutMs: base.timeoutMs }]));
    return builtins.map((tool) => (tool.name === 'search_knowledge' ? createKnowledgeSearchTool(byAgent, tool) : tool));
  };
  const mcpConnectors: McpConnector[] = [];
  let connectorTools: ToolDefinition[] = [];
  if (config.tools.mcp.length > 0 || config.tools.connectors.length > 0) {
    // After the emulators: a Lambda connector may invoke the embedded one.
    children.push({
      id: 'tool-connectors',
      restart: 'temporary',
      shutdownMs: 5_000,
      start: async (): Promise<ChildHandle> => {
        await Promise.all(config.tools.mcp.map(async (server) => {
          const connector = createMcpConnector({
            name: server.name,
            transport: server.url ? { url: server.url, headers: server.headers } : { command: server.command!, args: server.args, env: server.env, ...(server.cwd ? { cwd: server.cwd } : {}) },
            ...(server.allowTools ? { allowTools: server.allowTools } : {}),
            callTimeoutMs: server.callTimeoutMs,
            connectTimeoutMs: server.connectTimeoutMs,
            log,
          });
          mcpConnectors.push(connector);
          try {
            await connector.start();
          } catch (error) {
            const reason = (error as Error).message.split('\n')[0];
            if (!server.optional) throw new ToolConnectorUnreachableError(`MCP server "${server.name}" cannot be reached at start: ${reason}; fix its command or url, or mark it "optional": true to start without it`);
            log.warn({ event: 'mcp.unavailable_at_start', connector: server.name, reason });
            connector.startInBackground(reason ?? 'unreachable');
          }
        }));
        const byName = new Map(mcpConnectors.map((connector) => [connector.name, connector]));
        connectorTools = await createConnectorTools(config.tools.connectors, { lambda: lambdaClient, mcp: (name) => byName.get(name)! },
          (name, reason) => log.warn({ event: 'connector.unavailable_at_start', connector: name, reason }));
        let settle!: (reason: ExitReason) => void;
        const exited = new Promise<ExitReason>((resolve) => (settle = resolve));
        return {
          exited,
          stop: async () => {
            await Promise.all(mcpConnectors.splice(0).map((connector) => connector.close()));
            settle({ kind: 'shutdown' });
          },
        };
      },
    });
  }
  let lambda: LambdaClient | undefined;
  const lambdaClient = (): LambdaClient => {
    if (!lambda) {
      lambda = createLambdaClient({ region: config.tools.region, credentials: emulated ? 'emulator' : 'aws', ...(lambdaEndpoint ? { endpoint: lambdaEndpoint } : {}) });
      clients.push(lambda);
    }
    return lambda;
  };
  return {
    children,
    tools: (builtins) => [
      ...withKnowledge(builtins),
      ...(wantsExecuteCode ? [createExecuteCodeTool({ ...executeCode, client: lambdaClient() })] : []),
      ...mcpConnectors.flatMap((connector) => connector.tools()),
      ...connectorTools,
    ],
    get lambdaEmulator() { return lambdaEmulator; },
    get knowledgeEmulator() { return knowledgeEmulator; },
    close: () => {
      for (const client of clients.splice(0)) client.destroy();
      for (const connector of mcpConnectors) void connector.close();
    },
  };
}
