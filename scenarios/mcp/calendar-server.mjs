// An example MCP server for the mcp-calendar scenario, written with the official SDK: free slots of
// the Harbor Dental calendar over stdio. Plain JavaScript so `node scenarios/mcp/calendar-server.mjs`
// runs it without a build. Its tool "calendar.slots" is offered to Bedrock as "calendar_slots".
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const SLOTS = { monday: ['09:00', '14:30'], tuesday: ['10:00', '11:30', '16:00'], wednesday: ['13:00'], thursday: ['09:30', '18:00'], friday: ['08:30', '15:00'] };

const server = new McpServer({ name: 'harbor-calendar', version: '1.0.0' });
server.registerTool('calendar.slots', {
  description: 'Free appointment slots at Harbor Dental on a weekday (monday to friday).',
  inputSchema: { day: z.string().describe('A weekday, e.g. "tuesday".') },
  outputSchema: { day: z.string(), slots: z.array(z.string()), spoken: z.string() },
}, async ({ day }) => {
  const slots = SLOTS[day.toLowerCase()];
  if (!slots) return { content: [{ type: 'text', text: `The practice is closed on ${day}.` }], isError: true };
  const spoken = `On ${day} we have ${slots.join(', ')}.`;
  return { content: [{ type: 'text', text: spoken }], structuredContent: { day, slots, spoken } };
});
process.stderr.write('harbor-calendar MCP server ready\n');
await server.connect(new StdioServerTransport());
