import { afterEach, describe, expect, it } from 'vitest';
import { createMcpConnector, sanitizeToolName, type McpConnector, type McpTransportConfig } from '../../src/tools/backends/mcp.js';
import { executeToolUses } from '../../src/tools/executor.js';
import { createToolRegistry } from '../../src/tools/registry.js';
import type { ToolRunResult } from '../../src/tools/types.js';
import { capturingLogger } from '../memory/memory-fixtures.js';
import { startHttpFixture, type HttpFixture } from './mcp/fixture-server.js';

const STDIO: McpTransportConfig = { command: process.execPath, args: ['--import', 'tsx', 'test/tools/mcp/stdio-fixture.ts'], env: { FIXTURE: '1' } };

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((item) => item.close()));
});

const connector = (transport: McpTransportConfig, extra: Partial<Parameters<typeof createMcpConnector>[0]> = {}) => {
  const { log, lines } = capturingLogger();
  const created = createMcpConnector({ name: 'calendar', transport, callTimeoutMs: 5_000, reconnect: { initialMs: 20, maxMs: 200 }, log, ...extra });
  opened.push(created);
  return { connector: created, lines };
};

const call = async (mcp: McpConnector, name: string, input: Record<string, unknown> = {}): Promise<ToolRunResult> => {
  const [result] = await executeToolUses(createToolRegistry(mcp.tools()), [{ toolUseId: 't1', name, input }],
    { callId: 'call-1', agent: 'default' }, { signal: new AbortController().signal, defaultTimeoutMs: 10_000, maxResultBytes: 16_384 });
  return result!;
};

describe('MCP connectors through the official SDK client, against a real SDK server', () => {
  it('sanitises MCP tool names to Bedrock\'s rules', () => {
    expect(sanitizeToolName('calendar.slots')).toBe('calendar_slots');
    expect(sanitizeToolName('a/b c')).toBe('a_b_c');
    expect(sanitizeToolName('x'.repeat(80))).toHaveLength(64);
  });

  it('lists the tools over stdio as Bedrock tool specs, maps text, structured content and isError, and logs stderr under its name', async () => {
    const { connector: mcp, lines } = connector(STDIO);
    await mcp.start();
    const registry = createToolRegistry(mcp.tools());
    expect(registry.names()).toEqual(['echo', 'calendar_slots', 'fails', 'hang', 'crash', 'extra', 'toggle_extra']);
    expect(registry.specsFor(['calendar_slots'])[0]).toEqual({ toolSpec: { name: 'calendar_slots', description: 'Free appointment slots on a day.', inputSchema: { json: expect.objectContaining({ type: 'object', properties: { day: { type: 'string' } }, required: ['day'] }) } } });
    expect(await call(mcp, 'echo', { text: 'hi' })).toMatchObject({ status: 'success', backend: 'mcp', content: { text: 'echo: hi' } });
    expect((await call(mcp, 'calendar_slots', { day: 'monday' })).content).toEqual({ day: 'monday', slots: ['09:00', '14:30'] });
    expect(await call(mcp, 'fails')).toMatchObject({ status: 'error', content: { error: 'fails failed: the calendar is closed for maintenance' } });
    expect((await call(mcp, 'echo', {})).outcome).toBe('invalid_input');
    await expect.poll(() => lines().filter((line) => line.event === 'mcp.stderr').map((line) => [line.connector, line.line])).toContainEqual(['calendar', 'fixture server ready']);
  });

  it('offers only the allow-listed tools', async () => {
    const { connector: mcp } = connector(STDIO, { allowTools: ['echo', 'calendar.slots'] });
    await mcp.start();
    expect(mcp.tools().map((tool) => tool.name)).toEqual(['echo', 'calendar_slots']);
  });

  it('re-lists on tools/list_changed over HTTP, sending the configured headers: a removed tool is refused, one added back answers', async () => {
    const fixture: HttpFixture = await startHttpFixture();
    opened.push(fixture);
    const { connector: mcp, lines } = connector({ url: fixture.url, headers: { authorization: 'Bearer mcp-secret' } });
    await mcp.start();
    expect(fixture.headers()[0]?.authorization).toBe('Bearer mcp-secret');
    expect((await call(mcp, 'extra')).content).toEqual({ text: 'extra here' });
    expect((await call(mcp, 'toggle_extra')).content).toEqual({ text: 'removed' });
    await expect.poll(() => lines().filter((line) => line.event === 'mcp.tools_changed').length).toBe(1);
    expect((await call(mcp, 'extra')).content).toEqual({ error: 'extra failed: the calendar connector no longer offers extra; do not retry it' });
    await call(mcp, 'toggle_extra');
    await expect.poll(() => lines().filter((line) => line.event === 'mcp.tools_changed').length).toBe(2);
    expect((await call(mcp, 'extra')).content).toEqual({ text: 'extra here' });
  });

  it('times out a hanging tool as a tool error and keeps the server, which still answers pings, available', async () => {
    const { connector: mcp } = connector(STDIO, { callTimeoutMs: 300 });
    await mcp.start();
    expect(await call(mcp, 'hang')).toMatchObject({ status: 'error', outcome: 'timeout', content: { error: 'hang did not answer within 300 ms.' } });
    expect((await call(mcp, 'echo', { text: 'after' })).content).toEqual({ text: 'echo: after' });
    expect(mcp.available()).toBe(true);
  });

  it('marks a crashed server unavailable, tells the model, and reconnects with back-off', async () => {
    const { connector: mcp, lines } = connector(STDIO);
    await mcp.start();
    const crashed = await call(mcp, 'crash');
    expect(crashed.status).toBe('error');
    expect(crashed.content).toEqual({ error: 'crash failed: the calendar connector is unavailable (its server stopped during the call); tell the caller you cannot do that right now, and offer another way' });
    await expect.poll(() => lines().map((line) => line.event)).toContain('mcp.unavailable');
    expect(lines().filter((line) => line.event === 'mcp.stderr').map((line) => line.line)).toContain('crashing on purpose');
    await expect.poll(() => mcp.available(), { timeout: 20_000 }).toBe(true);
    expect(lines().map((line) => line.event)).toContain('mcp.reconnected');
    expect((await call(mcp, 'echo', { text: 'back' })).content).toEqual({ text: 'echo: back' });
  });

  it('marks a hung server unavailable when it stops answering pings, and reconnects once it answers again', async () => {
    const fixture = await startHttpFixture();
    opened.push(fixture);
    // A reconnection attempt made while frozen gives up after connectTimeoutMs, not the default 10 s.
    const { connector: mcp } = connector({ url: fixture.url }, { callTimeoutMs: 300, connectTimeoutMs: 300 });
    await mcp.start();
    fixture.freeze(true);
    expect((await call(mcp, 'echo', { text: 'x' })).outcome).toBe('timeout');
    await expect.poll(() => mcp.available()).toBe(false);
    expect((await call(mcp, 'echo', { text: 'x' })).content).toEqual({ error: 'echo failed: the calendar connector is unavailable (its server is not connected); tell the caller you cannot do that right now, and offer another way' });
    fixture.freeze(false);
    await expect.poll(() => mcp.available(), { timeout: 20_000 }).toBe(true);
    expect((await call(mcp, 'echo', { text: 'y' })).content).toEqual({ text: 'echo: y' });
  });

  it('refuses two MCP tools that become the same Bedrock name, naming both', async () => {
    const fixture = await startHttpFixture({ colliding: true });
    opened.push(fixture);
    const { connector: mcp } = connector({ url: fixture.url });
    await expect(mcp.start()).rejects.toThrow('MCP connector "calendar": tools "calendar_slots" and "calendar.slots" both become "calendar_slots" under Bedrock\'s name rules; allow only one (allowTools).');
  });

  it('refuses to start when the server cannot be reached, with the reason', async () => {
    const { connector: mcp } = connector({ command: '/nonexistent/mcp-server' });
    await expect(mcp.start()).rejects.toThrow(/ENOENT|spawn/);
  });
});
