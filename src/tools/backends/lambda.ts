import { InvokeCommand, type InvokeCommandOutput, LambdaClient, ResourceNotFoundException, TooManyRequestsException } from '@aws-sdk/client-lambda';
import type { ToolDefinition } from '../types.js';

export interface LambdaClientOptions {
  region: string;
  /** An emulator's URL; unset reaches AWS Lambda in `region`. */
  endpoint?: string;
  /** `emulator` signs with dummy keys and never reads the default credential chain. */
  credentials: 'aws' | 'emulator';
}

/** One client per node: it keeps the connections every call's invocations share. No retries: a caller is waiting. */
export function createLambdaClient(options: LambdaClientOptions): LambdaClient {
  return new LambdaClient({
    region: options.region,
    maxAttempts: 1,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials === 'emulator' ? { credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' } } : {}),
  });
}

export interface LambdaFunctionRef {
  /** Name, `name:alias`, partial or full ARN. */
  functionName: string;
  /** Version or alias; unset invokes `$LATEST` (or the qualifier in the ARN). */
  qualifier?: string;
  /** Largest request and response payload accepted, in bytes (Lambda's own limit is 6 MB). */
  maxPayloadBytes: number;
}

/** Invokes a function synchronously with `event` as its payload; a function error, throttle or missing function throws a message the model can read. */
export async function invokeFunction(client: LambdaClient, ref: LambdaFunctionRef, event: unknown, signal: AbortSignal): Promise<unknown> {
  const payload = Buffer.from(JSON.stringify(event));
  if (payload.length > ref.maxPayloadBytes) throw new Error(`the request payload of ${payload.length} bytes is over the limit of ${ref.maxPayloadBytes} bytes`);
  let output: InvokeCommandOutput;
  try {
    output = await client.send(new InvokeCommand({
      FunctionName: ref.functionName,
      InvocationType: 'RequestResponse',
      Payload: payload,
      ...(ref.qualifier ? { Qualifier: ref.qualifier } : {}),
    }), { abortSignal: signal });
  } catch (error) {
    if (error instanceof TooManyRequestsException) throw new Error('the function is throttled (too many requests at once); try again in a moment or offer another way');
    if (error instanceof ResourceNotFoundException) throw new Error(`the function does not exist: ${error.message}`);
    throw error;
  }
  const bytes = output.Payload ?? new Uint8Array();
  if (bytes.length > ref.maxPayloadBytes) throw new Error(`the function answered ${bytes.length} bytes, over the limit of ${ref.maxPayloadBytes} bytes`);
  const text = Buffer.from(bytes).toString('utf8');
  let result: unknown = null;
  if (text.trim() !== '') {
    try {
      result = JSON.parse(text);
    } catch {
      throw new Error('the function answered with a payload that is not JSON');
    }
  }
  if (output.FunctionError) throw new Error(`the function failed: ${functionErrorOf(result)}`);
  return result;
}

/** `ExpressionError: division by zero`, from Lambda's `{errorType, errorMessage}` error payload. */
function functionErrorOf(payload: unknown): string {
  const { errorType, errorMessage } = (typeof payload === 'object' && payload !== null ? payload : {}) as { errorType?: unknown; errorMessage?: unknown };
  const message = typeof errorMessage === 'string' ? errorMessage : 'no error message';
  return typeof errorType === 'string' ? `${errorType}: ${message}` : message;
}

export interface ExecuteCodeToolOptions extends LambdaFunctionRef {
  client: LambdaClient;
  timeoutMs?: number;
}

/**
 * `execute_code`: the model's expression goes to a Lambda function as `{code, language}` and the
 * answer comes from its result, so code from the model never runs in this process.
 */
export function createExecuteCodeTool(options: ExecuteCodeToolOptions): ToolDefinition {
  return {
    name: 'execute_code',
    description:
      'Evaluate a small arithmetic or date expression exactly (percentages, sums, "today + 3 weeks", days between two dates). '
      + 'Use it instead of calculating in your head; say the result in words.',
    inputSchema: {
      type: 'object',
      properties: {
        code: { type: 'string', minLength: 1, maxLength: 500, description: 'The expression, e.g. "15% of 200" or "2026-12-25 - today".' },
        language: { type: 'string', enum: ['expression'], default: 'expression' },
      },
      required: ['code'],
      additionalProperties: false,
    },
    backend: 'lambda',
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    filler: 'Let me work that out.',
    async run(input, context) {
      const result = await invokeFunction(options.client, options, { code: input.code, language: input.language ?? 'expression' }, context.signal);
      return { result };
    },
  };
}
