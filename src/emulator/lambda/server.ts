import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { listenOn } from '../listen.js';
import { BodyTooLargeError, readCappedBody } from '../read-body.js';
import { LambdaError } from './lambda-errors.js';
import { runInSandbox, shippedFile, type SandboxOutcome } from './sandbox.js';

export interface FunctionSettings {
  /** The function's timeout (Lambda's default is 3 s). */
  timeoutMs?: number;
  /** The function's memory; the sandbox gives V8 this much old space. Lambda's default is 128 MB. */
  memoryMb?: number;
  /** Reserved concurrency: invocations beyond it are throttled (0 throttles every one). */
  reservedConcurrency?: number;
  /** Aliases the function answers to besides `$LATEST`. */
  aliases?: string[];
}

export interface LambdaEmulatorOptions {
  host?: string;
  /** Its own port (0: any free one). */
  port?: number;
  /** Folder of handlers: `NAME.mjs` (or `.js`) exporting `handler` is the function NAME. Default: the shipped handlers. */
  handlersDir?: string;
  /** Settings for every function, then per function by name. */
  defaults?: FunctionSettings;
  functions?: Record<string, FunctionSettings>;
  region?: string;
}

export interface InvocationRecord {
  functionName: string;
  qualifier: string;
  invocationType: string;
  /** `success`, `Unhandled` (a function error) or the API error's type. */
  outcome: string;
}

export interface RunningLambdaEmulator {
  url: string;
  port: number;
  functionNames(): string[];
  invocations(): InvocationRecord[];
  close(): Promise<void>;
}

/** Lambda's synchronous invocation payload limit, request and response. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
const ACCOUNT_ID = '123456789012';
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
/** Lambda's defaults: a 3 s timeout, 128 MB, and the account's 1,000 concurrent executions. */
const BUILT_IN: Required<Omit<FunctionSettings, 'aliases'>> & { aliases: string[] } = { timeoutMs: 3_000, memoryMb: 128, reservedConcurrency: 1_000, aliases: [] };

/** The shipped handlers: `execute-code` evaluates arithmetic and date expressions. */
export const DEFAULT_HANDLERS_DIR = shippedFile('handlers');

/** Functions found in `dir`, by name. */
function discoverHandlers(dir: string): Map<string, string> {
  if (!existsSync(dir)) throw new Error(`Lambda handlers folder ${dir} does not exist`);
  const handlers = new Map<string, string>();
  for (const file of readdirSync(dir).sort()) {
    const match = /^(.+)\.(mjs|js)$/.exec(file);
    if (match && FUNCTION_NAME.test(match[1]!) && !handlers.has(match[1]!)) handlers.set(match[1]!, resolve(dir, file));
  }
  return handlers;
}

/**
 * AWS Lambda's `Invoke` REST API (`POST /2015-03-31/functions/{name}/invocations`) over HTTP/1.1,
 * running each invocation of a handler from a folder in its own sandboxed child process
 * (src/emulator/lambda/sandbox.ts). Function errors, timeouts and out-of-memory deaths answer 200
 * with `X-Amz-Function-Error: Unhandled`, as Lambda does; API errors carry Lambda's error types.
 */
export async function startLambdaEmulator(options: LambdaEmulatorOptions = {}): Promise<RunningLambdaEmulator> {
  const handlers = discoverHandlers(options.handlersDir ?? DEFAULT_HANDLERS_DIR);
  const region = options.region ?? 'us-east-1';
  const running = new Map<string, number>();
  const closing = new AbortController();
  const records: InvocationRecord[] = [];
  const settingsOf = (name: string) => ({ ...BUILT_IN, ...options.defaults, ...options.functions?.[name] });
  const arnOf = (name: string, qualifier?: string) => `arn:aws:lambda:${region}:${ACCOUNT_ID}:function:${name}${qualifier ? `:${qualifier}` : ''}`;

  const refuse = (response: ServerResponse, error: LambdaError) => {
    response.writeHead(error.status, {
      'content-type': 'application/json',
      'x-amzn-errortype': error.type,
      'x-amzn-requestid': randomUUID(),
      ...(error.type === 'TooManyRequestsException' ? { 'retry-after': '1' } : {}),
    });
    response.end(JSON.stringify({ Type: error.type === 'ServiceException' ? 'Service' : 'User', Message: error.message, ...error.fields }));
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://lambda');
    const match = INVOKE_PATH.exec(url.pathname);
    let record: InvocationRecord | undefined;
    try {
      if (request.method !== 'POST' || !match) throw new LambdaError('ResourceNotFoundException', `No operation at ${request.method} ${url.pathname}`);
      const { name, qualifier } = parseFunctionName(decodeURIComponent(match[1]!), url.searchParams.get('Qualifier') ?? undefined);
      const invocationType = String(request.headers['x-amz-invocation-type'] ?? 'RequestResponse');
      record = { functionName: name, qualifier, invocationType, outcome: 'pending' };
      records.push(record);
      const handlerFile = handlers.get(name);
      const settings = settingsOf(name);
      if (!handlerFile) throw new LambdaError('ResourceNotFoundException', `Function not found: ${arnOf(name)}`);
      if (qualifier !== '$LATEST' && !settings.aliases.includes(qualifier)) {
        throw new LambdaError('ResourceNotFoundException', `Function not found: ${arnOf(name, qualifier)}`);
      }
      if (!['RequestResponse', 'Event', 'DryRun'].includes(invocationType)) {
        throw new LambdaError('InvalidParameterValueException', `Unsupported invocation type ${JSON.stringify(invocationType)}`);
      }
      let body: string;
      try {
        body = await readCappedBody(request, MAX_PAYLOAD_BYTES);
      } catch (error) {
        if (error instanceof BodyTooLargeError) throw new LambdaError('RequestTooLargeException', `Request must be smaller than ${MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation`);
        throw error;
      }
      let event: unknown = null;
      if (body.trim() !== '') {
        try {
          event = JSON.parse(body);
        } catch {
          throw new LambdaError('InvalidRequestContentException', 'Could not parse request body into json: the payload is not valid JSON');
        }
      }
      if (invocationType === 'DryRun') {
        record.outcome = 'success';
        response.writeHead(204, { 'x-amzn-requestid': randomUUID() });
        response.end();
        return;
      }
      if ((running.get(name) ?? 0) >= settings.reservedConcurrency) {
        throw new LambdaError('TooManyRequestsException', 'Rate Exceeded.', { Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });
      }
      running.set(name, (running.get(name) ?? 0) + 1);
      const requestId = randomUUID();
      const invoked = runInSandbox({
        handlerFile,
        event,
        context: { functionName: name, functionVersion: '$LATEST', invokedFunctionArn: arnOf(name, qualifier === '$LATEST' ? undefined : qualifier), awsRequestId: requestId, memoryLimitInMB: String(settings.memoryMb) },
        timeoutMs: settings.timeoutMs,
        memoryMb: settings.memoryMb,
        signal: closing.signal,
      }).finally(() => running.set(name, (running.get(name) ?? 1) - 1));
      if (invocationType === 'Event') {
        record.outcome = 'success';
        response.writeHead(202, { 'x-amzn-requestid': requestId });
        response.end();
        void invoked.catch(() => undefined);
        return;
      }
      const answer = answerOf(await invoked, requestId, settings.timeoutMs);
      const payload = JSON.stringify(answer.payload);
      if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) {
        record.outcome = 'Unhandled';
        return sendInvokeResult(response, request, requestId, { errorType: 'Function.ResponseSizeTooLarge', errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_PAYLOAD_BYTES} bytes).` }, answer.log, true);
      }
      record.outcome = answer.functionError ? 'Unhandled' : 'success';
      sendInvokeResult(response, request, requestId, answer.payload, answer.log, answer.functionError);
    } catch (error) {
      const lambdaError = error instanceof LambdaError ? error : new LambdaError('ServiceException', (error as Error).message);
      if (record) record.outcome = lambdaError.type;
      refuse(response, lambdaError);
    }
  };

  const server = createServer((request, response) => void handle(request, response));
  const { port, url } = await listenOn(server, options.port ?? 0, options.host ?? '127.0.0.1');
  return {
    url,
    port,
    functionNames: () => [...handlers.keys()],
    invocations: () => [...records],
    close: () => new Promise((resolveClose) => {
      closing.abort();
      server.closeAllConnections();
      server.close(() => resolveClose());
    }),
  };
}

/** `name`, `name:qualifier`, `123456789012:function:name` or a full ARN, with an optional `Qualifier`. */
function parseFunctionName(raw: string, queryQualifier: string | undefined): { name: string; qualifier: string } {
  const arn = /^(?:arn:aws[a-z-]*:lambda:[a-z0-9-]+:)?(?:\d{12}:function:)?([^:]+)(?::([^:]+))?$/.exec(raw);
  if (!arn || !FUNCTION_NAME.test(arn[1]!)) {
    throw new LambdaError('InvalidParameterValueException', `1 validation error detected: Value '${raw}' at 'functionName' failed to satisfy constraint`);
  }
  if (arn[2] && queryQualifier && arn[2] !== queryQualifier) {
    throw new LambdaError('InvalidParameterValueException', 'The derived qualifier from the function name does not match the specified qualifier.');
  }
  return { name: arn[1]!, qualifier: queryQualifier ?? arn[2] ?? '$LATEST' };
}

interface Answer { payload: unknown; functionError: boolean; log: string }

/** The payload Lambda's Node runtime returns for each way an invocation ends. */
function answerOf(outcome: SandboxOutcome, requestId: string, timeoutMs: number): Answer {
  switch (outcome.kind) {
    case 'returned': return { payload: outcome.result, functionError: false, log: outcome.log };
    case 'threw': return { payload: outcome.error, functionError: true, log: outcome.log };
    case 'timeout':
      return { payload: { errorMessage: `${new Date().toISOString()} ${requestId} Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds` }, functionError: true, log: outcome.log };
    case 'exited': {
      const why = outcome.signal ? `signal: ${outcome.signal}` : `exit status ${outcome.code}`;
      const outOfMemory = /heap out of memory/i.test(outcome.log);
      return {
        payload: { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: ${outOfMemory ? 'out of memory' : why}` },
        functionError: true,
        log: outcome.log,
      };
    }
  }
}

function sendInvokeResult(response: ServerResponse, request: IncomingMessage, requestId: string, payload: unknown, log: string, functionError: boolean): void {
  const tail = request.headers['x-amz-log-type'] === 'Tail' ? { 'x-amz-log-result': Buffer.from(log.slice(-4096)).toString('base64') } : {};
  response.writeHead(200, {
    'content-type': 'application/json',
    'x-amzn-requestid': requestId,
    'x-amz-executed-version': '$LATEST',
    ...(functionError ? { 'x-amz-function-error': 'Unhandled' } : {}),
    ...tail,
  });
  response.end(JSON.stringify(payload ?? null));
}
