import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ToolListChangedNotificationSchema, type Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../log.js';
import { ToolConfigError } from '../errors.js';
import type { ToolDefinition, ToolOutput } from '../types.js';

export type McpTransportConfig =
  | { command: string; args?: string[]; env?: Record<string, string>; cwd?: string }
  | { url: string; headers?: Record<string, string> };

export interface McpConnectorOptions {
  /** The connector's name: in logs, errors and the model's "unavailable" message. */
  name: string;
  transport: McpTransportConfig;
  /** Only these MCP tool names (before sanitising) are offered; unset offers all. */
  allowTools?: string[];
  /** Per tool call, and for the ping that tells a slow tool from a hung server. */
  callTimeoutMs: number;
  /** Starting the server, the handshake and each tools/list page. Default 10 s. */
  connectTimeoutMs?: number;
  /** Reconnection back-off after the server died or stopped answering. */
  reconnect?: { initialMs: number; maxMs: number };
  log: Logger;
}

export interface McpConnector {
  readonly name: string;
  /** Connects and lists the tools; rejects with the reason when the server cannot be reached. */
  start(): Promise<void>;
  /** Keeps trying to connect with back-off, for a server that is optional at start. */
  startInBackground(reason: string): void;
  /** One definition per offered tool, as listed at start. */
  tools(): ToolDefinition[];
  /** Calls the MCP tool `tool` (its own name); throws what the model should read when it cannot. */
  call(tool: string, input: Record<string, unknown>, signal: AbortSignal): Promise<ToolOutput>;
  available(): boolean;
  /** Whether the server's latest tools/list has `tool` (its own name). */
  offers(tool: string): boolean;
  close(): Promise<void>;
}

/** Bedrock's tool names: 1–64 of `[a-zA-Z0-9_-]`. MCP allows dots, slashes and longer names. */
export function sanitizeToolName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64) || '_';
}

/** An MCP JSON Schema as Bedrock and the registry's ajv take it: an object schema without a `$schema` dialect ajv may not know. */
function inputSchemaOf(tool: McpTool): Record<string, unknown> {
  const { $schema: _dialect, ...schema } = tool.inputSchema as Record<string, unknown>;
  return { ...schema, type: 'object' };
}

/** What a tool call returned, as the model reads it: structured content when given, else the text. */
function outputOf(result: Record<string, unknown>): ToolOutput {
  const items = Array.isArray(result.content) ? (result.content as Array<{ type?: string; text?: string }>) : [];
  const text = items.map((item) => (item.type === 'text' ? item.text ?? '' : `[${item.type ?? 'unknown'} content omitted]`)).join('\n').trim();
  if (result.isError === true) throw new Error(text || 'the MCP tool reported an error');
  if (result.structuredContent && typeof result.structuredContent === 'object') return { result: result.structuredContent };
  return { result: { text } };
}

const SDK_TIMEOUT_MARGIN_MS = 1_000;
const DEFAULT_RECONNECT = { initialMs: 500, maxMs: 30_000 };

/**
 * One MCP server reached with the official SDK's client over stdio or Streamable HTTP. Its tools
 * are listed at start and again on `notifications/tools/list_changed`; while the server is dead or
 * not answering, calls fail with a message the model can pass on, and the connector reconnects
 * with doubling back-off. The server's stderr goes to the log, line by line, under its name.
 */
export function createMcpConnector(options: McpConnectorOptions): McpConnector {
  const { name, log } = options;
  const backoff = options.reconnect ?? DEFAULT_RECONNECT;
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  let client: Client | undefined;
  let connected = false;
  let closing = false;
  let reconnectDelayMs = backoff.initialMs;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let offered = new Map<string, McpTool>();
  let definitions: ToolDefinition[] = [];
  const allowed = options.allowTools ? new Set(options.allowTools) : undefined;

  const unavailable = (why: string) =>
    new Error(`the ${name} connector is unavailable (${why}); tell the caller you cannot do that right now, and offer another way`);

  const transportOf = (): Transport => {
    const config = options.transport;
    if ('url' in config) {
      return new StreamableHTTPClientTransport(new URL(config.url), { requestInit: { headers: config.headers ?? {} } });
    }
    const transport = new StdioClientTransport({
      command: config.command,
      args: config.args ?? [],
      env: { ...getDefaultEnvironment(), ...config.env },
      ...(config.cwd ? { cwd: config.cwd } : {}),
      stderr: 'pipe',
    });
    const stderr = transport.stderr as Readable | null;
    if (stderr) createInterface({ input: stderr }).on('line', (line) => log.warn({ event: 'mcp.stderr', connector: name, line: line.slice(0, 2_000) }));
    return transport;
  };

  const list = async (current: Client): Promise<Map<string, McpTool>> => {
    const tools = new Map<string, McpTool>();
    let cursor: string | undefined;
    do {
      const page = await current.listTools(cursor ? { cursor } : {}, { timeout: connectTimeoutMs });
      for (const tool of page.tools) if (!allowed || allowed.has(tool.name)) tools.set(tool.name, tool);
      cursor = page.nextCursor;
    } while (cursor);
    return tools;
  };

  const scheduleReconnect = (why: string) => {
    if (closing || reconnectTimer) return;
    log.warn({ event: 'mcp.unavailable', connector: name, reason: why, retryInMs: reconnectDelayMs });
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      void connect().then(
        () => log.info({ event: 'mcp.reconnected', connector: name, tools: [...offered.keys()] }),
        (error: Error) => {
          reconnectDelayMs = Math.min(backoff.maxMs, reconnectDelayMs * 2);
          scheduleReconnect(error.message);
        },
      );
    }, reconnectDelayMs);
    reconnectTimer.unref();
  };

  const lost = (current: Client, why: string) => {
    if (client !== current) return;
    connected = false;
    client = undefined;
    void current.close().catch(() => undefined);
    scheduleReconnect(why);
  };

  async function connect(): Promise<void> {
    const next = new Client({ name: 'aybiza', version: '1' });
    next.onclose = () => lost(next, 'the server closed the connection');
    next.onerror = (error) => log.warn({ event: 'mcp.error', connector: name, error: error.message });
    next.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      try {
        offered = await list(next);
        // The registry is fixed at start (agents allow-list tools by name): a new tool waits for a restart.
        const registered = new Set(definitions.map((definition) => definition.name));
        const added = [...offered.keys()].filter((tool) => !registered.has(sanitizeToolName(tool)));
        log.info({ event: 'mcp.tools_changed', connector: name, tools: [...offered.keys()], ...(added.length ? { offeredAfterRestart: added } : {}) });
      } catch (error) {
        log.warn({ event: 'mcp.list_failed', connector: name, error: (error as Error).message });
      }
    });
    try {
      await next.connect(transportOf(), { timeout: connectTimeoutMs });
      offered = await list(next);
    } catch (error) {
      await next.close().catch(() => undefined);
      throw error;
    }
    client = next;
    connected = true;
    reconnectDelayMs = backoff.initialMs;
  }

  /** A call that timed out: a server that no longer answers a ping is treated as dead. */
  const checkAlive = async (current: Client) => {
    try {
      await current.ping({ timeout: options.callTimeoutMs });
    } catch {
      lost(current, `no answer within ${options.callTimeoutMs} ms`);
    }
  };

  const call = async (tool: string, input: Record<string, unknown>, signal: AbortSignal): Promise<ToolOutput> => {
    const current = client;
    if (!current || !connected) throw unavailable('its server is not connected');
    if (!offered.has(tool)) throw new Error(`the ${name} connector no longer offers ${tool}; do not retry it`);
    try {
      // The executor's deadline (timeoutMs) ends the call first; the SDK's own timeout only backs it up.
      const result = await current.callTool({ name: tool, arguments: input }, undefined, { signal, timeout: options.callTimeoutMs + SDK_TIMEOUT_MARGIN_MS });
      return outputOf(result);
    } catch (error) {
      if (signal.aborted || /timed out/i.test((error as Error).message)) void checkAlive(current);
      if (client !== current) throw unavailable('its server stopped during the call');
      throw error;
    }
  };

  const definitionOf = (tool: McpTool, exposed: string): ToolDefinition => ({
    name: exposed,
    description: tool.description?.trim() || tool.title?.trim() || `${tool.name} from the ${name} connector`,
    inputSchema: inputSchemaOf(tool),
    timeoutMs: options.callTimeoutMs,
    backend: 'mcp',
    run: (input, context) => call(tool.name, input, context.signal),
  });

  return {
    name,
    async start() {
      await connect();
      const exposedBy = new Map<string, string>();
      definitions = [...offered.values()].map((tool) => {
        const exposed = sanitizeToolName(tool.name);
        const other = exposedBy.get(exposed);
        if (other !== undefined) {
          throw new ToolConfigError(`MCP connector "${name}": tools "${other}" and "${tool.name}" both become "${exposed}" under Bedrock's name rules; allow only one (allowTools).`);
        }
        exposedBy.set(exposed, tool.name);
        return definitionOf(tool, exposed);
      });
    },
    startInBackground: (reason) => scheduleReconnect(reason),
    tools: () => definitions,
    call,
    available: () => connected,
    offers: (tool) => offered.has(tool),
    async close() {
      closing = true;
      clearTimeout(reconnectTimer);
      const current = client;
      client = undefined;
      connected = false;
      await current?.close().catch(() => undefined);
    },
  };
}
