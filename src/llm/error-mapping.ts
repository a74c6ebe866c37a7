import { ModelCallError, type Recovery } from './errors.js';

/** A stream that sent nothing for too long: before its first event, or between two events. */
export class StreamTimeoutError extends Error {
  override readonly name = 'StreamTimeoutError';
  constructor(readonly phase: 'first-event' | 'idle', readonly timeoutMs: number) {
    super(phase === 'first-event'
      ? `no stream event within ${timeoutMs} ms of sending the request`
      : `no stream event for ${timeoutMs} ms`);
  }
}

/** Tool input whose streamed JSON did not parse when its content block stopped. */
export class MalformedToolInputError extends Error {
  override readonly name = 'MalformedToolInputError';
  constructor(readonly toolName: string, readonly index: number, parseMessage: string) {
    super(`tool input of "${toolName}" (content block ${index}) is not valid JSON: ${parseMessage}`);
  }
}

/**
 * Bedrock error names (pre-stream `x-amzn-ErrorType` and in-stream `:exception-type`, as the SDK
 * names them) and what the fallback chain may do about each, after docs/bedrock.md.
 */
const RECOVERY_BY_ERROR_NAME: Readonly<Record<string, Recovery>> = {
  ThrottlingException: 'cheaper-model',
  ServiceQuotaExceededException: 'cheaper-model',
  ModelNotReadyException: 'retry-region',
  ServiceUnavailableException: 'retry-region',
  InternalServerException: 'retry-region',
  ModelStreamErrorException: 'retry-region',
  ModelTimeoutException: 'retry-region',
  ModelErrorException: 'retry-region',
  ValidationException: 'none',
  // Per model: access is granted model by model, and a retired model is gone while others answer.
  AccessDeniedException: 'other-model',
  ResourceNotFoundException: 'other-model',
};

/** Bedrock's answer for a model id it does not serve, e.g. one past its end of life (a ValidationException). */
const INVALID_MODEL_ID = /provided model identifier is invalid/i;

/** Transport failures: the connection or the stream broke, not the request. */
const SOCKET_ERROR_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  'ERR_HTTP2_ERROR', 'ERR_HTTP2_STREAM_ERROR', 'ERR_HTTP2_SESSION_ERROR', 'ERR_HTTP2_GOAWAY_SESSION',
  'ERR_HTTP2_STREAM_CANCEL', 'ERR_HTTP2_INVALID_SESSION', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET',
]);

/**
 * Credentials can only reach a message through a signed URL or an echoed header; cut them out
 * anyway, since these messages end up in logs and in the caller's hands.
 */
const CREDENTIAL_PATTERNS: readonly RegExp[] = [
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  /(Credential=)[^\s,&"]+/gi,
  /(Signature=)[0-9a-f]+/gi,
  /(X-Amz-Security-Token[=:]\s*)[^\s,&"]+/gi,
  /(aws_secret_access_key\s*[=:]\s*)\S+/gi,
  /(Authorization:\s*)[^\r\n]+/gi,
];

export function redactCredentials(text: string): string {
  return CREDENTIAL_PATTERNS.reduce(
    (out, pattern) => out.replace(pattern, (match, prefix?: unknown) =>
      typeof prefix === 'string' && match.startsWith(prefix) ? `${prefix}[redacted]` : '[redacted]'),
    text,
  );
}

interface ErrorFacts {
  name: string;
  message: string;
  errno?: string;
  httpStatus?: number;
}

function factsOf(error: unknown): ErrorFacts {
  if (!(error instanceof Error)) return { name: 'UnknownError', message: String(error) };
  const fields = error as Error & { code?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const httpStatus = fields.$metadata?.httpStatusCode;
  return {
    name: error.name,
    message: error.message,
    ...(typeof fields.code === 'string' ? { errno: fields.code } : {}),
    ...(typeof httpStatus === 'number' ? { httpStatus } : {}),
  };
}

function classify(facts: ErrorFacts): { code: string; recovery: Recovery } {
  if (facts.name === 'ValidationException' && INVALID_MODEL_ID.test(facts.message)) return { code: 'InvalidModelId', recovery: 'other-model' };
  const byName = RECOVERY_BY_ERROR_NAME[facts.name];
  if (byName) return { code: facts.name, recovery: byName };
  if (facts.name === 'StreamTimeoutError' || facts.name === 'TimeoutError') {
    return { code: 'StreamTimeout', recovery: 'retry-region' };
  }
  if (facts.name === 'MalformedToolInputError') {
    // The request was fine and the model's answer was not: another model is another sample.
    return { code: 'MalformedToolInput', recovery: 'cheaper-model' };
  }
  if (facts.errno && SOCKET_ERROR_CODES.has(facts.errno)) return { code: facts.errno, recovery: 'retry-region' };
  if (/checksum|crc/i.test(facts.message)) return { code: 'CorruptStream', recovery: 'retry-region' };
  if (/HTTP\/2 stream is abnormally aborted|http2 request did not get a response/i.test(facts.message)) {
    return { code: 'StreamReset', recovery: 'retry-region' };
  }
  if (facts.name === 'AbortError') return { code: 'Aborted', recovery: 'none' };
  const serverSide = facts.httpStatus !== undefined && facts.httpStatus >= 500;
  return { code: facts.name || 'UnknownError', recovery: serverSide ? 'retry-region' : 'none' };
}

/**
 * Turns anything a ConverseStream call can throw (SDK service exceptions before or inside the
 * stream, socket errors, our own timeouts) into the one error type the fallback chain reads.
 */
export function toModelCallError(error: unknown, midStream: boolean): ModelCallError {
  if (error instanceof ModelCallError) return error;
  const facts = factsOf(error);
  const { code, recovery } = classify(facts);
  const status = facts.httpStatus === undefined ? '' : ` (HTTP ${facts.httpStatus})`;
  const where = midStream ? ' mid-stream' : '';
  const message = `Bedrock ${code}${status}${where}: ${redactCredentials(facts.message)}`;
  return new ModelCallError(message, code, recovery, midStream, facts.httpStatus);
}
