import { join } from 'node:path';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLambdaEmulator, type RunningLambdaEmulator } from '../../src/emulator/lambda/server.js';
import { createExecuteCodeTool, createLambdaClient } from '../../src/tools/backends/lambda.js';
import { executeToolUses } from '../../src/tools/executor.js';
import { createToolRegistry } from '../../src/tools/registry.js';
import type { ToolDefinition, ToolRunResult } from '../../src/tools/types.js';

// The shipped handlers (execute-code) and the test ones, each under its own emulator.
let shipped: RunningLambdaEmulator;
let testing: RunningLambdaEmulator;
let shippedClient: LambdaClient;
let testingClient: LambdaClient;

beforeAll(async () => {
  shipped = await startLambdaEmulator({ defaults: { timeoutMs: 10_000 } });
  testing = await startLambdaEmulator({ handlersDir: join(import.meta.dirname, '../emulator/lambda-handlers'), functions: { throws: { reservedConcurrency: 0 } } });
  shippedClient = createLambdaClient({ region: 'us-east-1', endpoint: shipped.url, credentials: 'emulator' });
  testingClient = createLambdaClient({ region: 'us-east-1', endpoint: testing.url, credentials: 'emulator' });
});

afterAll(async () => {
  shippedClient.destroy();
  testingClient.destroy();
  await shipped.close();
  await testing.close();
});

const run = async (tool: ToolDefinition, code: string, defaultTimeoutMs = 10_000): Promise<ToolRunResult> => {
  const [result] = await executeToolUses(createToolRegistry([tool]), [{ toolUseId: 't1', name: 'execute_code', input: { code } }],
    { callId: 'call-1', agent: 'default' }, { signal: new AbortController().signal, defaultTimeoutMs, maxResultBytes: 16_384 });
  return result!;
};

const executeCode = (client: LambdaClient, functionName = 'execute-code', extra: { maxPayloadBytes?: number; timeoutMs?: number } = {}) =>
  createExecuteCodeTool({ client, functionName, maxPayloadBytes: extra.maxPayloadBytes ?? 65_536, ...(extra.timeoutMs ? { timeoutMs: extra.timeoutMs } : {}) });

describe('execute_code on Lambda, through the real LambdaClient and the emulator', () => {
  it('answers "What is 15% of 200?" with 30 from a real Invoke round trip', async () => {
    const result = await run(executeCode(shippedClient), 'What is 15% of 200?');
    expect(result).toMatchObject({ status: 'success', outcome: 'success', content: { result: '30', kind: 'number', expression: '15% of 200' } });
    expect(shipped.invocations().at(-1)).toEqual({ functionName: 'execute-code', qualifier: '$LATEST', invocationType: 'RequestResponse', outcome: 'success' });
  });

  it('evaluates date expressions', async () => {
    const result = await run(executeCode(shippedClient), '2026-12-25 - 2026-12-03');
    expect(result.content).toMatchObject({ result: '22 days', kind: 'duration' });
  });

  it('turns a function error into a tool error naming the error', async () => {
    const result = await run(executeCode(shippedClient), '10 / 0');
    expect(result).toMatchObject({ status: 'error', outcome: 'error', content: { error: 'execute_code failed: the function failed: ExpressionError: division by zero' } });
    expect(shipped.invocations().at(-1)?.outcome).toBe('Unhandled');
  });

  it('turns a throttle into a tool error the model can explain', async () => {
    const result = await run(executeCode(testingClient, 'throws'), '1 + 1');
    expect(result.content).toEqual({ error: 'execute_code failed: the function is throttled (too many requests at once); try again in a moment or offer another way' });
  });

  it('turns a missing function into a tool error naming it', async () => {
    const result = await run(executeCode(testingClient, 'no-such-function'), '1 + 1');
    expect(result.content).toEqual({ error: 'execute_code failed: the function does not exist: Function not found: arn:aws:lambda:us-east-1:123456789012:function:no-such-function' });
  });

  it('gives up on a function slower than the tool timeout as a timeout', async () => {
    const slow = await run(executeCode(testingClient, 'sleeps', { timeoutMs: 50 }), '1 + 1');
    expect(slow).toMatchObject({ status: 'error', outcome: 'timeout', content: { error: 'execute_code did not answer within 50 ms.' } });
  });

  it('refuses a request over the payload cap before invoking', async () => {
    const before = shipped.invocations().length;
    const result = await run(executeCode(shippedClient, 'execute-code', { maxPayloadBytes: 20 }), '1 + 2 + 3 + 4 + 5 + 6');
    expect(result.content).toEqual({ error: 'execute_code failed: the request payload of 56 bytes is over the limit of 20 bytes' });
    expect(shipped.invocations()).toHaveLength(before);
  });
});
