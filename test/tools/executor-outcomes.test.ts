import { describe, expect, it } from 'vitest';
import { executeToolUses, type ExecuteOptions } from '../../src/tools/executor.js';
import { ToolInputError } from '../../src/tools/errors.js';
import { createToolRegistry } from '../../src/tools/registry.js';
import type { ToolDefinition, ToolRunResult } from '../../src/tools/types.js';

const context = { callId: 'call-1', agent: 'default', from: '+15551000000' };
const objectSchema = { type: 'object', properties: { text: { type: 'string', minLength: 1 } }, required: ['text'], additionalProperties: false };

const define = (name: string, run: ToolDefinition['run'], extra: Partial<ToolDefinition> = {}): ToolDefinition =>
  ({ name, description: `${name} tool`, inputSchema: { type: 'object' }, run, ...extra });

const options = (overrides: Partial<ExecuteOptions> = {}): ExecuteOptions =>
  ({ signal: new AbortController().signal, defaultTimeoutMs: 1_000, maxResultBytes: 10_000, ...overrides });

/** Resolves when `signal` aborts, so a tool can wait "forever" yet still observe cancellation. */
const untilAborted = (signal: AbortSignal): Promise<never> =>
  new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));

describe('tool executor outcomes', () => {
  it('returns the result of a successful tool, with the call context and transfer passed through', async () => {
    let seen: unknown;
    const registry = createToolRegistry([define('echo', async (input, ctx) => {
      seen = { callId: ctx.callId, from: ctx.from, signal: ctx.signal instanceof AbortSignal };
      return { result: { echoed: input.text }, transfer: { to: 'front-desk', reason: 'asked' } };
    }, { inputSchema: objectSchema })]);
    const [result] = await executeToolUses(registry, [{ toolUseId: 't1', name: 'echo', input: { text: 'hi' } }], context, options());
    expect(result).toMatchObject({
      toolUseId: 't1', name: 'echo', status: 'success', outcome: 'success',
      content: { echoed: 'hi' }, transfer: { to: 'front-desk', reason: 'asked' },
    });
    expect(result?.durationMs).toBeGreaterThanOrEqual(0);
    expect(seen).toEqual({ callId: 'call-1', from: '+15551000000', signal: true });
  });

  it('answers an unknown tool with an error naming it and the known tools', async () => {
    const registry = createToolRegistry([define('echo', async () => ({ result: {} })), define('other', async () => ({ result: {} }))]);
    const [result] = await executeToolUses(registry, [{ toolUseId: 't1', name: 'hack_the_planet', input: {} }], context, options());
    expect(result).toMatchObject({ status: 'error', outcome: 'unknown_tool' });
    expect(result?.content).toEqual({ error: 'There is no tool named "hack_the_planet". Available tools: echo, other.' });
  });

  it('answers input failing the schema with the validation problems, without running the tool', async () => {
    let ran = false;
    const registry = createToolRegistry([define('echo', async () => { ran = true; return { result: {} }; }, { inputSchema: objectSchema })]);
    const [result] = await executeToolUses(registry, [{ toolUseId: 't1', name: 'echo', input: { text: '', extra: 1 } }], context, options());
    expect(ran).toBe(false);
    expect(result).toMatchObject({ status: 'error', outcome: 'invalid_input' });
    expect(result?.content).toEqual({
      error: 'Invalid input for echo: (input): must NOT have additional properties: "extra"; /text: must NOT have fewer than 1 characters',
    });
  });

  it('reports a ToolInputError thrown by the tool as invalid input', async () => {
    const registry = createToolRegistry([define('picky', async () => { throw new ToolInputError('date "2026-02-30" is not a calendar date'); })]);
    const [result] = await executeToolUses(registry, [{ toolUseId: 't1', name: 'picky', input: {} }], context, options());
    expect(result).toMatchObject({ status: 'error', outcome: 'invalid_input', content: { error: 'Invalid input for picky: date "2026-02-30" is not a calendar date' } });
  });

  it('times a tool out after its own timeout and aborts the signal it was given', async () => {
    let toolSignal: AbortSignal | undefined;
    const registry = createToolRegistry([define('slow', async (_input, ctx) => { toolSignal = ctx.signal; return untilAborted(ctx.signal); }, { timeoutMs: 20 })]);
    const [result] = await executeToolUses(registry, [{ toolUseId: 't1', name: 'slow', input: {} }], context, options({ defaultTimeoutMs: 60_000 }));
    expect(result).toMatchObject({ status: 'error', outcome: 'timeout', content: { error: 'slow did not answer within 20 ms.' } });
    expect(toolSignal?.aborted).toBe(true);
  });

  it('uses the default timeout for a tool without one, even if the tool ignores its signal', async () => {
    const registry = createToolRegistry([define('deaf', () => new Promise(() => undefined))]);
    const [result] = await executeToolUses(registry, [{ toolUseId: 't1', name: 'deaf', input: {} }], context, options({ defaultTimeoutMs: 20 }));
    expect(result).toMatchObject({ status: 'error', outcome: 'timeout' });
  });

  it('reports a thrown error by its first line only, without stack', async () => {
    const registry = createToolRegistry([define('broken', async () => { throw new Error('database refused\nquery: SELECT * FROM secrets'); })]);
    const [result] = await executeToolUses(registry, [{ toolUseId: 't1', name: 'broken', input: {} }], context, options());
    expect(result).toMatchObject({ status: 'error', outcome: 'error', content: { error: 'broken failed: database refused' } });
    expect(JSON.stringify(result?.content)).not.toMatch(/secrets|at .*\.ts/);
  });

  it('refuses a result whose JSON is larger than the limit', async () => {
    const registry = createToolRegistry([define('chatty', async () => ({ result: { text: 'x'.repeat(200) } }))]);
    const [result] = await executeToolUses(registry, [{ toolUseId: 't1', name: 'chatty', input: {} }], context, options({ maxResultBytes: 100 }));
    expect(result).toMatchObject({ status: 'error', outcome: 'too_large', content: { error: 'chatty returned 211 bytes, over the limit of 100 bytes.' } });
  });

  it('reports a result that cannot be serialised as an error', async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const registry = createToolRegistry([define('loop', async () => ({ result: circular }))]);
    const [result] = await executeToolUses(registry, [{ toolUseId: 't1', name: 'loop', input: {} }], context, options());
    expect(result).toMatchObject({ status: 'error', outcome: 'error', content: { error: 'loop returned a result that is not JSON-serialisable.' } });
  });

  it('runs the tool uses of one answer in parallel and returns results in the order of the uses', async () => {
    const events: string[] = [];
    let started = 0;
    let bothStarted!: () => void;
    const barrier = new Promise<void>((resolve) => { bothStarted = resolve; });
    // Each tool waits until the other has started: run one after the other, the first would time out.
    const waiter = (name: string, delayMs: number) => define(name, async () => {
      events.push(`${name}:start`);
      started += 1;
      if (started === 2) bothStarted();
      await barrier;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      events.push(`${name}:end`);
      return { result: { name } };
    }, { timeoutMs: 5_000 });
    const registry = createToolRegistry([waiter('slower', 30), waiter('faster', 1)]);
    const finished: string[] = [];
    const results = await executeToolUses(registry, [
      { toolUseId: 'a', name: 'slower', input: {} },
      { toolUseId: 'b', name: 'faster', input: {} },
    ], context, options({ onResult: (result) => finished.push(result.toolUseId) }));
    expect(events.slice(0, 2).sort()).toEqual(['faster:start', 'slower:start']);
    expect(events.slice(2)).toEqual(['faster:end', 'slower:end']);
    expect(results.map((result) => [result.toolUseId, result.outcome])).toEqual([['a', 'success'], ['b', 'success']]);
    expect(finished).toEqual(['b', 'a']);
  });

  it('stops running tools when the call is aborted and marks their results as errors', async () => {
    const call = new AbortController();
    const signals: AbortSignal[] = [];
    const registry = createToolRegistry([
      define('listening', async (_input, ctx) => { signals.push(ctx.signal); return untilAborted(ctx.signal); }),
      define('deaf', async (_input, ctx) => { signals.push(ctx.signal); return new Promise(() => undefined); }),
    ]);
    const running = executeToolUses(registry, [
      { toolUseId: 'a', name: 'listening', input: {} },
      { toolUseId: 'b', name: 'deaf', input: {} },
    ], context, options({ signal: call.signal, defaultTimeoutMs: 60_000 }));
    await new Promise((resolve) => setTimeout(resolve, 5));
    call.abort();
    const results = await running;
    expect(results.map((result) => [result.status, result.outcome])).toEqual([['error', 'error'], ['error', 'error']]);
    expect(results[0]?.content).toEqual({ error: 'The tool was cancelled because the call ended or the caller interrupted.' });
    expect(signals.every((signal) => signal.aborted)).toBe(true);
  });

  it('does not start tools when the call is already aborted', async () => {
    let ran = false;
    const registry = createToolRegistry([define('echo', async () => { ran = true; return { result: {} }; })]);
    const call = new AbortController();
    call.abort();
    const [result] = await executeToolUses(registry, [{ toolUseId: 't1', name: 'echo', input: {} }], context, options({ signal: call.signal }));
    expect(ran).toBe(false);
    expect(result).toMatchObject({ status: 'error', outcome: 'error' });
  });

  it('reports each result once to onResult and survives an observer that throws', async () => {
    const registry = createToolRegistry([define('echo', async () => ({ result: { ok: true } }))]);
    const seen: ToolRunResult[] = [];
    const results = await executeToolUses(registry, [{ toolUseId: 't1', name: 'echo', input: {} }, { toolUseId: 't2', name: 'nope', input: {} }], context,
      options({ onResult: (result) => { seen.push(result); throw new Error('observer bug'); } }));
    expect(results.map((result) => result.outcome)).toEqual(['success', 'unknown_tool']);
    expect(seen.map((result) => result.toolUseId).sort()).toEqual(['t1', 't2']);
  });
});
