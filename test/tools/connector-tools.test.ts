import { afterEach, describe, expect, it } from 'vitest';
import { createConnectorTools, type ConnectorConfig } from '../../src/tools/backends/connectors.js';
import { createMcpConnector } from '../../src/tools/backends/mcp.js';
import { ToolConnectorUnreachableError } from '../../src/tools/errors.js';
import { executeToolUses } from '../../src/tools/executor.js';
import { createToolRegistry } from '../../src/tools/registry.js';
import type { ToolDefinition } from '../../src/tools/types.js';
import { capturingLogger } from '../memory/memory-fixtures.js';
import { startHttpFixture } from './mcp/fixture-server.js';

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((item) => item.close()));
});

const freeSlots = (optional: boolean): ConnectorConfig => ({
  name: 'free_slots',
  description: 'Free slots on a weekday.',
  inputSchema: { type: 'object', properties: { day: { type: 'string' } }, required: ['day'] },
  optional,
  backend: { type: 'mcp', server: 'calendar', tool: 'calendar.slots' },
});

const noLambda = () => {
  throw new Error('no Lambda in this test');
};

const run = async (tool: ToolDefinition, input: Record<string, unknown>) => {
  const [result] = await executeToolUses(createToolRegistry([tool]), [{ toolUseId: 't1', name: tool.name, input }],
    { callId: 'call-1', agent: 'default' }, { signal: new AbortController().signal, defaultTimeoutMs: 5_000, maxResultBytes: 16_384 });
  return result!;
};

describe('connectors declared in configuration', () => {
  it('answers with the declared name and schema through an MCP server\'s tool', async () => {
    const fixture = await startHttpFixture();
    const mcp = createMcpConnector({ name: 'calendar', transport: { url: fixture.url }, callTimeoutMs: 5_000, log: capturingLogger().log });
    opened.push(mcp, fixture);
    await mcp.start();
    const [tool] = await createConnectorTools([freeSlots(false)], { lambda: noLambda, mcp: () => mcp }, () => undefined);
    expect(tool).toMatchObject({ name: 'free_slots', description: 'Free slots on a weekday.', backend: 'mcp' });
    expect(await run(tool!, { day: 'friday' })).toMatchObject({ status: 'success', backend: 'mcp', content: { day: 'friday', slots: ['09:00', '14:30'] } });
  });

  it('refuses an unreachable backend with the connector\'s name and the reason', async () => {
    const mcp = createMcpConnector({ name: 'calendar', transport: { url: 'http://127.0.0.1:9/mcp' }, callTimeoutMs: 300, log: capturingLogger().log });
    opened.push(mcp);
    const refused = createConnectorTools([freeSlots(false)], { lambda: noLambda, mcp: () => mcp }, () => undefined);
    await expect(refused).rejects.toBeInstanceOf(ToolConnectorUnreachableError);
    await expect(createConnectorTools([freeSlots(false)], { lambda: noLambda, mcp: () => mcp }, () => undefined))
      .rejects.toThrow('connector "free_slots" (mcp) cannot be reached at start: MCP server "calendar" is not connected; fix its backend, or mark it "optional": true to start without it');
  });

  it('starts an optional connector marked unavailable, tells the model so, and answers once its server is back', async () => {
    const fixture = await startHttpFixture();
    fixture.freeze(true);
    const mcp = createMcpConnector({ name: 'calendar', transport: { url: fixture.url }, callTimeoutMs: 300, connectTimeoutMs: 300, reconnect: { initialMs: 20, maxMs: 100 }, log: capturingLogger().log });
    opened.push(mcp, fixture);
    await expect(mcp.start()).rejects.toThrow();
    mcp.startInBackground('not answering at start');
    const unavailable: string[] = [];
    const [tool] = await createConnectorTools([freeSlots(true)], { lambda: noLambda, mcp: () => mcp }, (name, reason) => unavailable.push(`${name}: ${reason}`));
    expect(unavailable).toEqual(['free_slots: MCP server "calendar" is not connected']);
    expect((await run(tool!, { day: 'monday' })).content).toEqual({ error: 'free_slots failed: the free_slots connector is unavailable (MCP server "calendar" is not connected); tell the caller you cannot do that right now, and offer another way' });
    fixture.freeze(false);
    await expect.poll(() => mcp.available(), { timeout: 20_000 }).toBe(true);
    expect((await run(tool!, { day: 'monday' })).content).toEqual({ day: 'monday', slots: ['09:00', '14:30'] });
  });
});
