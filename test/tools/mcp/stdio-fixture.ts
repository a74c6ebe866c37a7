// The fixture MCP server over stdio, as a connector starts it: node --import tsx test/tools/mcp/stdio-fixture.ts
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createFixtureServer } from './fixture-server.js';

process.stderr.write('fixture server ready\n');
await createFixtureServer().connect(new StdioServerTransport());
