import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { InvokeCommand, LambdaClient, ResourceNotFoundException, TooManyRequestsException, InvalidRequestContentException } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLambdaEmulator, type RunningLambdaEmulator } from '../../src/emulator/lambda/server.js';

const HANDLERS = join(import.meta.dirname, 'lambda-handlers');

let emulator: RunningLambdaEmulator;
let client: LambdaClient;
let bystander: Server;
let bystanderHits = 0;

beforeAll(async () => {
  emulator = await startLambdaEmulator({
    handlersDir: HANDLERS,
    defaults: { timeoutMs: 10_000, memoryMb: 64 },
    functions: { sleeps: { timeoutMs: 2_000, aliases: ['live'] }, throws: { reservedConcurrency: 0 } },
  });
  client = new LambdaClient({ endpoint: emulator.url, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' } });
  // A server on this machine the network-probing handler tries to reach.
  bystander = createServer((_request, response) => {
    bystanderHits += 1;
    response.end('reached');
  });
  await new Promise<void>((resolve) => bystander.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  client.destroy();
  await emulator.close();
  await new Promise((resolve) => bystander.close(resolve));
});

const invoke = async (functionName: string, event: unknown, extra: { Qualifier?: string; LogType?: 'Tail' } = {}) => {
  const output = await client.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(event)), ...extra }));
  return { ...output, payload: JSON.parse(Buffer.from(output.Payload ?? []).toString('utf8') || 'null') };
};

describe('the Lambda emulator through the real LambdaClient', () => {
  it('runs a handler in a scratch directory with none of the emulator\'s environment and returns its result', async () => {
    const output = await invoke('echo', { hello: 'world' }, { LogType: 'Tail' });
    expect(output.StatusCode).toBe(200);
    expect(output.FunctionError).toBeUndefined();
    expect(output.ExecutedVersion).toBe('$LATEST');
    expect(output.payload).toMatchObject({ event: { hello: 'world' }, functionName: 'echo', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:echo' });
    expect(output.payload.cwd).toMatch(/aybiza-lambda-/);
    expect(output.payload.env).toEqual(['HOME', 'LANG', 'TMPDIR', 'TZ']);
    expect(Buffer.from(output.LogResult ?? '', 'base64').toString()).toContain('echo handler ran');
  });

  it('accepts a full ARN and a known alias, and refuses an unknown function or alias with ResourceNotFoundException', async () => {
    expect((await invoke('arn:aws:lambda:us-east-1:123456789012:function:echo', {})).payload.functionName).toBe('echo');
    expect((await invoke('sleeps', { ms: 1 }, { Qualifier: 'live' })).payload).toEqual({ slept: 1 });
    await expect(invoke('missing', {})).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(invoke('missing', {})).rejects.toThrow('Function not found: arn:aws:lambda:us-east-1:123456789012:function:missing');
    await expect(invoke('echo', {}, { Qualifier: 'prod' })).rejects.toThrow('Function not found: arn:aws:lambda:us-east-1:123456789012:function:echo:prod');
  });

  it('refuses a payload that is not JSON with InvalidRequestContentException', async () => {
    await expect(client.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{nope') }))).rejects.toBeInstanceOf(InvalidRequestContentException);
  });

  it('answers a thrown error as a function error with its type and message', async () => {
    const throttledFree = await startLambdaEmulator({ handlersDir: HANDLERS });
    const other = new LambdaClient({ endpoint: throttledFree.url, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'e', secretAccessKey: 'e' } });
    try {
      const output = await other.send(new InvokeCommand({ FunctionName: 'throws', Payload: Buffer.from('{}') }));
      expect(output.StatusCode).toBe(200);
      expect(output.FunctionError).toBe('Unhandled');
      expect(JSON.parse(Buffer.from(output.Payload!).toString())).toMatchObject({ errorType: 'RangeError', errorMessage: 'the handler gave up' });
    } finally {
      other.destroy();
      await throttledFree.close();
    }
  });

  it('kills a handler that runs past its timeout and answers Lambda\'s timeout error', async () => {
    const output = await invoke('sleeps', { ms: 60_000 });
    expect(output.FunctionError).toBe('Unhandled');
    expect(output.payload.errorMessage).toMatch(/Task timed out after 2\.00 seconds$/);
  });

  it('throttles invocations beyond the reserved concurrency with TooManyRequestsException', async () => {
    await expect(invoke('throws', {})).rejects.toBeInstanceOf(TooManyRequestsException);
    const held = await startLambdaEmulator({ handlersDir: HANDLERS, functions: { sleeps: { timeoutMs: 60_000, reservedConcurrency: 1 } } });
    const other = new LambdaClient({ endpoint: held.url, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'e', secretAccessKey: 'e' } });
    try {
      const holding = other.send(new InvokeCommand({ FunctionName: 'sleeps', Payload: Buffer.from('{"ms":60000}') })).catch(() => 'ended');
      // The first invocation holds the only slot from the moment it is counted until the emulator closes.
      await expect.poll(() => held.invocations().filter((record) => record.outcome === 'pending').length).toBe(1);
      const throttled = await other.send(new InvokeCommand({ FunctionName: 'sleeps', Payload: Buffer.from('{"ms":1}') })).catch((error: unknown) => error);
      expect(throttled).toBeInstanceOf(TooManyRequestsException);
      expect((throttled as TooManyRequestsException).Reason).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
      await held.close();
      expect(await holding).toBe('ended');
    } finally {
      other.destroy();
      await held.close();
    }
  });

  it('gives a handler no network, no child processes, no files outside its scratch directory and no eval', async () => {
    const port = (bystander.address() as AddressInfo).port;
    const output = await invoke('reaches-out', { port });
    expect(output.payload).toEqual({
      net: 'ERR_ACCESS_DENIED',
      fetch: 'ERR_ACCESS_DENIED',
      http: 'ERR_ACCESS_DENIED',
      dgram: 'ERR_ACCESS_DENIED',
      dns: 'ERR_ACCESS_DENIED',
      childProcess: 'ERR_ACCESS_DENIED',
      readOutside: 'ERR_ACCESS_DENIED',
      writeScratch: 'allowed',
      eval: 'EvalError',
    });
    expect(bystanderHits).toBe(0);
  });

  it('answers a handler that exhausts its memory or exits as Runtime.ExitError, and keeps serving', async () => {
    const oom = await invoke('exhausts-memory', {});
    expect(oom.FunctionError).toBe('Unhandled');
    expect(oom.payload).toMatchObject({ errorType: 'Runtime.ExitError' });
    expect(oom.payload.errorMessage).toMatch(/Runtime exited with error: out of memory$/);
    const exited = await invoke('exits', {});
    expect(exited.payload.errorMessage).toMatch(/Runtime exited with error: exit status 3$/);
    expect((await invoke('echo', { after: 'crashes' })).payload.event).toEqual({ after: 'crashes' });
  });
});
