import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/**
 * A real MCP server written with the official SDK, the connectors' test counterpart: a calendar with
 * a dotted tool name, a tool that reports an error, one that never answers, one that kills its
 * process, and one that removes or adds back a tool (which makes the SDK send tools/list_changed).
 */
export function createFixtureServer(options: { colliding?: boolean } = {}): McpServer {
  const server = new McpServer({ name: 'fixture-calendar', version: '1.0.0' });
  // "calendar.slots" becomes this name under Bedrock's name rules.
  if (options.colliding) server.registerTool('calendar_slots', { description: 'A second tool of the same Bedrock name.' }, async () => ({ content: [] }));
  server.registerTool('echo', { description: 'Says the text back.', inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text: `echo: ${text}` }] }));
  server.registerTool('calendar.slots', {
    description: 'Free appointment slots on a day.',
    inputSchema: { day: z.string() },
    outputSchema: { day: z.string(), slots: z.array(z.string()) },
  }, async ({ day }) => ({ content: [{ type: 'text', text: `09:00, 14:30 on ${day}` }], structuredContent: { day, slots: ['09:00', '14:30'] } }));
  server.registerTool('fails', { description: 'Always reports a tool error.' }, async () => ({ content: [{ type: 'text', text: 'the calendar is closed for maintenance' }], isError: true }));
  server.registerTool('hang', { description: 'Never answers.' }, () => new Promise(() => undefined));
  server.registerTool('crash', { description: 'Ends the server process.' }, async () => {
    process.stderr.write('crashing on purpose\n');
    process.exit(1);
  });
  const registerExtra = () => server.registerTool('extra', { description: 'Removed and added back by toggle_extra.' }, async () => ({ content: [{ type: 'text', text: 'extra here' }] }));
  let extra: ReturnType<McpServer['registerTool']> | undefined = registerExtra();
  server.registerTool('toggle_extra', { description: 'Removes the tool "extra", or adds it back.' }, async () => {
    if (extra) {
      extra.remove();
      extra = undefined;
      return { content: [{ type: 'text', text: 'removed' }] };
    }
    extra = registerExtra();
    return { content: [{ type: 'text', text: 'added' }] };
  });
  return server;
}

export interface HttpFixture {
  url: string;
  /** While frozen, requests are accepted but never answered (a hung server). */
  freeze(frozen: boolean): void;
  /** Headers of the requests received, oldest first. */
  headers(): Array<Record<string, string | string[] | undefined>>;
  close(): Promise<void>;
}

/** The fixture over Streamable HTTP, one SDK server and transport per session, on port 0. */
export async function startHttpFixture(options: { colliding?: boolean } = {}): Promise<HttpFixture> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const seen: Array<Record<string, string | string[] | undefined>> = [];
  let frozen = false;
  const http: Server = createServer(async (request, response) => {
    seen.push(request.headers);
    if (frozen) return;
    const sessionId = request.headers['mcp-session-id'];
    let transport = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (!transport) {
      let body = '';
      for await (const chunk of request) body += chunk;
      const message: unknown = body ? JSON.parse(body) : undefined;
      if (request.method !== 'POST' || !isInitializeRequest(message)) {
        response.writeHead(400).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'No valid session' }, id: null }));
        return;
      }
      const created = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (id) => {
        sessions.set(id, created);
      } });
      transport = created;
      await createFixtureServer(options).connect(created);
      await created.handleRequest(request, response, message);
      return;
    }
    await transport.handleRequest(request, response);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    freeze: (value) => {
      frozen = value;
    },
    headers: () => [...seen],
    close: async () => {
      await Promise.all([...sessions.values()].map((transport) => transport.close()));
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}
